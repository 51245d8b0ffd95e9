"""Curve generation: N steps of each family into a preallocated buffer, every backend side by side.

Run ``pytest bench/bench_curves.py --benchmark-enable --benchmark-group-by=param:family,param:size``
for the figures; ``python bench/report.py`` prints the summary table with ratios.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchutil import check, lr_scale, reference_curve

import fastlr

FAMILIES = {
    "WarmupCosine": fastlr.WarmupCosine(peak_lr=3e-4, total_steps=10_000_000, warmup_steps=200_000,
                                        min_lr=3e-5),
    "CosineRestarts": fastlr.CosineRestarts(peak_lr=1.0, cycle_steps=1_000, cycle_mult=2.0, min_lr=0.01),
    "OneCycle": fastlr.OneCycle(max_lr=1.0, total_steps=10_000_000),
    "Linear": fastlr.Linear(1.0, 0.0, 10_000_000),
    "StepDecay": fastlr.StepDecay(1.0, step_size=1_000_000, gamma=0.5),
    "PiecewiseConstant": fastlr.PiecewiseConstant([1e6, 3e6, 6e6], [1.0, 0.5, 0.1, 0.01]),
    "WSD": fastlr.WarmupStableDecay(1.0, 10_000_000, 100_000, 2_000_000, 0.01, decay_shape="1-sqrt"),
    "join": fastlr.join([fastlr.Linear(0.0, 1.0, 100_000), fastlr.Cosine(1.0, 9_900_000, 0.01)], [100_000]),
}


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_curve(benchmark, use, family, size, dtype):
    schedule = FAMILIES[family]
    benchmark.group = f"curve {family} N={size:.0e} {dtype}"
    out = np.empty(size, dtype=dtype)
    benchmark(schedule.curve, size, out=out)
    check(out, reference_curve(schedule, size), scale=lr_scale(schedule))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fill_floor(benchmark, size, dtype):
    """The write floor: ``out.fill(x)`` on the same buffer."""
    benchmark.group = f"floor N={size:.0e} {dtype}"
    out = np.empty(size, dtype=dtype)
    benchmark(out.fill, 0.5)
    assert out[0] == 0.5 and out[-1] == 0.5
