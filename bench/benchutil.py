"""Helpers shared by the benchmark files: the reference result and the accuracy check."""

from __future__ import annotations

import functools

import numpy as np

import fastlr


@functools.lru_cache(maxsize=32)
def reference_curve(schedule, n: int) -> np.ndarray:
    with fastlr.use_backend("numpy"):
        return schedule.curve(n)


def lr_scale(schedule) -> float:
    """The largest learning-rate parameter of a schedule (recursively): the scale that rounding errors
    are relative to, even where the sampled part of the curve stays far below it."""
    scale = 0.0
    for name, value in schedule.params.items():
        if isinstance(value, fastlr.Schedule):
            scale = max(scale, lr_scale(value))
        elif isinstance(value, tuple) and value and isinstance(value[0], fastlr.Schedule):
            scale = max(scale, *(lr_scale(v) for v in value))
        elif name.endswith("lr") or name == "values":
            scale = max(scale, float(np.max(np.abs(value))))
    return scale


def check(result, expected, ulps: int = 8, scale: float = 0.0) -> None:
    """float64 within a few ulp of the peak (the larger of the sampled peak and ``scale``), float32
    within one float32 ulp (+ the float64 slack)."""
    peak = max(float(np.max(np.abs(expected))) if expected.size else 0.0, scale)
    tolerance = ulps * np.spacing(peak)
    if result.dtype == np.float32:
        tolerance = np.maximum(tolerance, np.spacing(np.abs(expected).astype(np.float32)).astype(np.float64))
    assert np.all(np.abs(result.astype(np.float64) - expected) <= tolerance)


@functools.lru_cache(maxsize=4)
def per_parameter_case(size: int):
    """The per-parameter benchmark: ``size`` int64 steps, one ``peak_lr`` per element, and the
    reference result (the same inputs for bench_per_parameter and bench_torch)."""
    rng = np.random.default_rng(0)
    steps = rng.integers(0, 120_000, size=size, dtype=np.int64)
    peak = rng.uniform(1e-4, 1e-3, size=size)
    schedule = fastlr.WarmupCosine(peak_lr=peak, total_steps=100_000, warmup_steps=2_000, min_lr=peak * 0.1)
    with fastlr.use_backend("numpy"):
        expected = schedule(steps)
    return schedule, steps, expected
