"""Per-parameter evaluation: P elements, each with its own int64 step and its own peak_lr, written in
place (the custom-optimizer path); compared with ``np.multiply(a, b, out=c)`` on the same sizes."""

from __future__ import annotations

import numpy as np
import pytest
from benchutil import check_same_as_call, per_parameter_case

import fastlr


def test_per_parameter(benchmark, use, size):
    schedule, steps = per_parameter_case(size)
    benchmark.group = f"per-parameter P={size:.0e}"
    out = np.empty(size)
    benchmark(schedule, steps, out=out)
    check_same_as_call(schedule, steps, out)


def test_multiply_floor(benchmark, size):
    a, b = np.random.default_rng(1).uniform(size=(2, size))
    benchmark.group = f"per-parameter P={size:.0e}"
    out = np.empty(size)
    benchmark(np.multiply, a, b, out=out)
    np.testing.assert_array_equal(out, a * b)


@pytest.mark.parametrize("call", ["int", "float", "numpy-int"])
def test_scalar_call(benchmark, use, call):
    """``s(1234)`` through the facade (target: <= 1.5 us; a torch scheduler step costs about 1.7 us)."""
    schedule = fastlr.WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000, min_lr=3e-5)
    step = {"int": 1234, "float": 1234.0, "numpy-int": np.int64(1234)}[call]
    benchmark.group = "scalar call"
    value = benchmark(schedule, step)
    assert value == schedule(np.array([1234]))[0]  # the scalar route gives the array route's bits
