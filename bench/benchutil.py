"""Helpers shared by the benchmark files: the reference result and the accuracy check."""

from __future__ import annotations

import functools

import numpy as np

import fastlr


@functools.lru_cache(maxsize=32)
def reference_curve(schedule, n: int) -> np.ndarray:
    with fastlr.use_backend("numpy"):
        return schedule.curve(n)


def check(result, expected, ulps: int = 8) -> None:
    """float64 within a few ulp of the peak, float32 within one float32 ulp (+ the float64 slack)."""
    peak = float(np.max(np.abs(expected))) if expected.size else 0.0
    tolerance = ulps * np.spacing(peak)
    if result.dtype == np.float32:
        tolerance = np.maximum(tolerance, np.spacing(np.abs(expected).astype(np.float32)).astype(np.float64))
    assert np.all(np.abs(result.astype(np.float64) - expected) <= tolerance)
