"""Growth: ``Exponential`` with ``gamma > 1``, capped by ``max_lr`` or refused where it would overflow
(a schedule never returns inf), against torch's ``ExponentialLR`` run live."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tolerance import TOLERANCE

import fastlr


def test_matches_torch_exponential_growth(backend):
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([param], lr=1e-6)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=1.05)
    lrs = []
    for _ in range(300):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    ours = fastlr.Exponential(1e-6, 1.05).curve(300)
    # torch multiplies step by step: its rounding grows with the step count (the anchor row)
    assert np.all(np.abs(ours - np.array(lrs)) <= TOLERANCE["anchor_rel_peak"] * np.abs(ours)), backend


@pytest.mark.parametrize("staircase", [False, True])
def test_cap_is_exact_and_monotone(backend, staircase):
    s = fastlr.Exponential(1e-4, 1.2, step_size=3, staircase=staircase, max_lr=0.5)
    values = s.curve(1000)
    assert values[0] == 1e-4
    assert np.all(np.diff(values) >= 0)
    cap_from = int(np.argmax(values == 0.5))
    assert cap_from > 0 and np.all(values[cap_from:] == 0.5)
    assert s(10**15) == 0.5 and s(2**62) == 0.5


@pytest.mark.parametrize("call", ["scalar", "array", "curve", "out"])
def test_uncapped_growth_refused_where_it_overflows(backend, call):
    s = fastlr.Exponential(1e-3, 1.5)
    limit = s.overflow_step()
    assert 1740 < limit < 1760  # (log(float64 max) - 0) / log(1.5)
    below = math.floor(limit) - 1
    assert math.isfinite(s(below)) and np.all(np.isfinite(s.curve(below + 1)))
    out = np.full(3, 7.0)
    with pytest.raises(ValueError, match=r"overflows float64 from step 17\d\d\.\d+ on.*max_lr"):
        if call == "scalar":
            s(below + 10)
        elif call == "array":
            s(np.array([0, 5, below + 10]))
        elif call == "curve":
            s.curve(below + 10)
        else:
            s(np.array([0, 5, below + 10]), out=out)
    assert np.all(out == 7.0)  # nothing written


def test_overflow_step_follows_joins_and_warmups():
    growth = fastlr.Exponential(1e-3, 1.5)
    limit = growth.overflow_step()
    # after a boundary the part sees t - boundary: its overflow moves by the boundary
    joined = fastlr.join([fastlr.Constant(1e-3), growth], [1000])
    assert joined.overflow_step() == 1000 + limit
    assert fastlr.with_warmup(growth, 200).overflow_step() == 200 + limit
    # a part that is over before it would overflow never does
    assert fastlr.join([growth, fastlr.Constant(1.0)], [100]).overflow_step() == math.inf
    assert math.isfinite(fastlr.join([growth, fastlr.Constant(1.0)], [100])(10**12))


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0, gamma=1.5), "lr must be > 0 when gamma > 1"),
    (dict(lr=1e-3, gamma=1.5, max_lr=1e-4), "max_lr must be >= lr"),
    (dict(lr=1e-3, gamma=math.inf), "gamma"),
    (dict(lr=1e-3, gamma=0.0), "gamma"),
])
def test_growth_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastlr.Exponential(**kwargs)


def test_uncapped_growth_refused_on_other_array_libraries():
    xp = pytest.importorskip("array_api_strict")
    s = fastlr.Exponential(1e-3, 1.5)
    with pytest.raises(ValueError, match="overflows float64"):
        s(xp.asarray([0.0, 1e4]))
    assert bool(xp.all(xp.isfinite(s(xp.asarray([0.0, 1000.0])))))
