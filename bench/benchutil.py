"""Helpers shared by the benchmark files: the per-parameter case and checks that a benchmarked call\nwrote the right values (the same backend's own result, bit for bit: accuracy is the tests' business)."""

from __future__ import annotations

import functools

import numpy as np

import fastlr


def check_same_as_array_call(schedule, out) -> None:
    """A benchmarked ``curve(n, out=out)`` holds what the same backend computes for ``s(arange(n))``, bit
    for bit (every route gives the same bits; agreement with the reference is the tests' business)."""
    n = out.shape[0]
    assert np.array_equal(out, schedule(np.arange(n), dtype=out.dtype))


@functools.lru_cache(maxsize=4)
def per_parameter_case(size: int):
    """The per-parameter benchmark: ``size`` int64 steps and one ``peak_lr`` per element (the same inputs
    for bench_per_parameter and bench_torch)."""
    rng = np.random.default_rng(0)
    steps = rng.integers(0, 120_000, size=size, dtype=np.int64)
    peak = rng.uniform(1e-4, 1e-3, size=size)
    schedule = fastlr.WarmupCosine(peak_lr=peak, total_steps=100_000, warmup_steps=2_000, min_lr=peak * 0.1)
    return schedule, steps


def check_same_as_call(schedule, steps, out) -> None:
    """A benchmarked in-place call wrote what the same backend returns for ``schedule(steps)``."""
    assert np.array_equal(np.asarray(out), schedule(steps))
