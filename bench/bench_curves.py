"""Curve generation: N steps of each family into a preallocated buffer, every backend side by side.

Run ``pytest bench/bench_curves.py --benchmark-enable --benchmark-group-by=param:family,param:size``
for the figures; ``python bench/report.py`` prints the summary table with ratios.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchutil import check_same_as_array_call

import fastlr
import fastlr._catalogue

N = 10_000_000
# the shared catalogue's schedules built for a 10M-step run
FAMILIES = {name: fastlr._catalogue.FACTORIES[name](N) for name in
            ("WarmupCosine", "CosineRestarts", "OneCycle", "Linear", "StepDecay", "PiecewiseConstant",
             "WarmupStableDecay", "join")}


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_curve(benchmark, use, family, size, dtype):
    schedule = FAMILIES[family]
    benchmark.group = f"curve {family} N={size:.0e} {dtype}"
    out = np.empty(size, dtype=dtype)
    benchmark(schedule.curve, size, out=out)
    check_same_as_array_call(schedule, out)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fill_floor(benchmark, size, dtype):
    """The write floor: ``out.fill(x)`` on the same buffer."""
    benchmark.group = f"floor N={size:.0e} {dtype}"
    out = np.empty(size, dtype=dtype)
    benchmark(out.fill, 0.5)
    assert out[0] == 0.5 and out[-1] == 0.5
