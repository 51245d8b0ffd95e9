"""fastlr.compat.keras against keras's documented formulas: values verified with keras
(anchor-semantics.md, rounded to 4 digits) and the formulas evaluated here in float64 at whole and
fractional steps. keras itself is not installed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_oracles import RTOL_PEAK
from tolerance import schedule_peak

from fastlr.compat import keras as ck

VERIFIED = [
    (lambda: ck.CosineDecay(1.0, 4, alpha=0.1), [1, .8682, .55, .2318, .1, .1, .1]),
    (lambda: ck.CosineDecay(1.0, 4, alpha=0.1, warmup_steps=3), [1, .8682, .55, .2318, .1, .1, .1]),  # ignored
    (lambda: ck.CosineDecay(0.0, 4, warmup_target=1.0, warmup_steps=2), [0, .5, 1, .8536, .5, .1464, 0, 0, 0]),
    (lambda: ck.CosineDecayRestarts(1.0, 2, t_mul=2.0, m_mul=0.5), [1, .5, .5, .4268, .25, .0732, .25, .2405]),
    (lambda: ck.ExponentialDecay(1.0, 2, 0.5), [1, .7071, .5, .3536, .25]),
    (lambda: ck.ExponentialDecay(1.0, 2, 0.5, staircase=True), [1, 1, .5, .5, .25]),
    (lambda: ck.InverseTimeDecay(1.0, 4, 1.0), [1, .8, .6667, .5714, .5]),
    (lambda: ck.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1]), [1, 1, 1, .5, .5, .1]),
    (lambda: ck.PolynomialDecay(1.0, 4, 0.1, cycle=True, horizon=10),
     [1, .775, .55, .325, .1, .4375, .325, .2125, .1, .325]),
]


@pytest.mark.parametrize("build, values", VERIFIED)
def test_verified_values(build, values):
    ours = build().curve(len(values))
    assert np.max(np.abs(ours - np.array(values))) < 6e-5


def _cos(x):
    return 0.5 * (1 + np.cos(np.pi * x))


STEPS = np.concatenate([np.arange(0, 40, dtype=np.float64), np.linspace(0, 40, 321)])


def formula_cases():
    init, decay, alpha, target, warmup = 0.8, 7.0, 0.05, 1.2, 3.0
    yield "CosineDecay", ck.CosineDecay(init, decay, alpha), lambda t: init * ((1 - alpha) * _cos(np.minimum(t, decay) / decay) + alpha)

    def warm(t):
        t = np.minimum(t, warmup + decay)
        ramp = init + (target - init) * t / warmup
        return np.where(t < warmup, ramp, target * ((1 - alpha) * _cos((t - warmup) / decay) + alpha))

    yield "CosineDecay warmup", ck.CosineDecay(init, decay, alpha, warmup_target=target, warmup_steps=warmup), warm

    def restarts(first, t_mul, m_mul, a):
        def f(t):
            frac = t / first
            if t_mul == 1:
                i = np.floor(frac)
                frac = frac - i
            else:
                # the exact cycle index (keras's float log misplaces a few starts)
                i = np.zeros_like(frac)
                start = np.zeros_like(frac)
                length = np.ones_like(frac)
                for _ in range(20):
                    done = frac >= start + length
                    start, i, length = np.where(done, start + length, start), np.where(done, i + 1, i), \
                        np.where(done, length * t_mul, length)
                frac = (frac - start) / length
            return init * ((1 - a) * m_mul**i * _cos(frac) + a)
        return f

    yield "CosineDecayRestarts", ck.CosineDecayRestarts(init, 3, 2.0, 0.7), restarts(3, 2.0, 0.7, 0.0)
    yield "CosineDecayRestarts t_mul 1", ck.CosineDecayRestarts(init, 4, 1.0, 1.0, 0.2), restarts(4, 1.0, 1.0, 0.2)
    yield "CosineDecayRestarts t_mul 1.5", ck.CosineDecayRestarts(init, 2, 1.5, 1.0, 0.1), restarts(2, 1.5, 1.0, 0.1)
    yield "ExponentialDecay", ck.ExponentialDecay(init, 3.5, 0.6), lambda t: init * 0.6 ** (t / 3.5)
    yield "ExponentialDecay staircase", ck.ExponentialDecay(init, 3.5, 0.6, True), lambda t: init * 0.6 ** np.floor(t / 3.5)
    yield "InverseTimeDecay", ck.InverseTimeDecay(init, 2.5, 0.3), lambda t: init / (1 + 0.3 * t / 2.5)
    yield "InverseTimeDecay staircase", ck.InverseTimeDecay(init, 2.5, 0.3, True), lambda t: init / (1 + 0.3 * np.floor(t / 2.5))
    bounds, values = [3.0, 7.5, 20.0], [1.0, 0.5, 0.25, 0.1]
    yield "PiecewiseConstantDecay", ck.PiecewiseConstantDecay(bounds, values), \
        lambda t: np.asarray(values)[np.searchsorted(bounds, t, side="left")]
    end, power = 1e-4, 2.0
    yield "PolynomialDecay", ck.PolynomialDecay(init, decay, end, power), \
        lambda t: (init - end) * (1 - np.minimum(t, decay) / decay) ** power + end

    def cyc(t):
        span = decay * np.maximum(np.ceil(t / decay), 1.0)
        return (init - end) * (1 - t / span) ** power + end

    yield "PolynomialDecay cycle", ck.PolynomialDecay(init, decay, end, power, cycle=True, horizon=40), cyc


@pytest.mark.parametrize("name, ours, formula", list(formula_cases()), ids=[c[0] for c in formula_cases()])
def test_formulas(name, ours, formula):
    want = formula(STEPS)
    got = ours(STEPS)
    peak = schedule_peak(ours)
    gap = np.abs(got - want)
    assert np.all(gap <= RTOL_PEAK * peak), (name, STEPS[np.argmax(gap)], got[np.argmax(gap)], want[np.argmax(gap)])


def test_piecewise_constant_keeps_the_old_value_at_the_boundary():
    schedule = ck.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    assert schedule(2.0) == 1.0 and schedule(math.nextafter(2.0, 3.0)) == 0.5
    assert schedule(4) == 0.5 and schedule(4.5) == 0.1


@pytest.mark.parametrize("call, match", [
    (lambda: ck.PolynomialDecay(1.0, 4, cycle=True), "pass horizon"),
    (lambda: ck.CosineDecayRestarts(1.0, 4, m_mul=0.5, alpha=0.1), "alpha=0.1 with m_mul=0.5"),
    (lambda: ck.ExponentialDecay(1.0, 4, 1.5)(10**6), "overflows float64"),
    (lambda: ck.CosineDecay(1.0, 0), "decay_steps must be > 0"),
    (lambda: ck.PiecewiseConstantDecay([2, 4], [1.0, 0.5]), "len\\(values\\)"),
    (lambda: ck.PiecewiseConstantDecay([4, 2], [1.0, 0.5, 0.1]), "increasing"),
])
def test_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
