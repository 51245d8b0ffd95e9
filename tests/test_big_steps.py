"""Big steps: int64 steps above 2**31 and up to 2**53 are exact (checked against exact integer /
Python-float arithmetic for families whose value at an integer step is pinned down), steps beyond 2**53
work, and non-integer float steps agree with the reference in every family."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import FAMILIES, assert_agrees, family_schedules, reference

import fastlr

BIG = st.integers(2**31, 2**53)


def _exact(s, steps, expected, backend):
    steps = np.asarray(steps, dtype=np.int64)
    expected = np.asarray(expected, dtype=np.float64)
    got = s(steps)
    assert np.array_equal(got, expected), f"{backend}: {s!r} at {steps}: {got} != {expected}"
    assert np.array_equal(reference(s, steps), expected), f"reference: {s!r}"
    for t, e in zip(steps.tolist(), expected.tolist()):
        assert s(t) == e, f"{backend}: {s!r}({t}) = {s(t)!r} != {e!r}"


@given(total=BIG, t=st.lists(BIG, min_size=1, max_size=8), start=st.floats(0, 1), end=st.floats(0, 1))
def test_linear(backend, total, t, start, end):
    s = fastlr.Linear(start, end, total)
    expected = []
    for x in t:
        f = min(x, total) / total  # both exact in float64: one correctly rounded division
        expected.append(start * (1.0 - f) + end * f)
    _exact(s, t, expected, backend)


# gamma and cycle_decay are powers of two: gamma ** k is then exact, so these tests check the step index
# (floor(t / step_size), the cycle number); test_exact checks the powers of any factor
EXACT_FACTORS = st.sampled_from([1.0, 0.5, 0.25, 0.125])


@given(step_size=st.integers(2**22, 2**43), k=st.lists(st.integers(1, 1000), min_size=1, max_size=6),
       lr=st.floats(1e-4, 1), gamma=EXACT_FACTORS)
def test_step_decay(backend, step_size, k, lr, gamma):
    s = fastlr.StepDecay(lr, step_size, gamma)
    steps = []
    for i in k:
        for t in (i * step_size - 1, i * step_size, i * step_size + 1):
            if 2**31 <= t <= 2**53:
                steps.append(t)
    if not steps:
        return
    # floor(t / step_size) is exact for integers below 2**53; gamma ** k is an exact power of two
    expected = [lr * gamma ** float(t // step_size) for t in steps]
    _exact(s, steps, expected, backend)


@given(points=st.lists(BIG, min_size=1, max_size=6, unique=True), data=st.data())
def test_piecewise_constant_and_multistep(backend, points, data):
    points = sorted(points)
    values = data.draw(st.lists(st.floats(0, 1), min_size=len(points) + 1, max_size=len(points) + 1))
    steps = sorted({q for p in points for q in (p - 1, p, p + 1) if 0 <= q <= 2**53})
    s = fastlr.PiecewiseConstant(points, values)
    _exact(s, steps, [values[sum(1 for p in points if p <= t)] for t in steps], backend)
    m = fastlr.MultiStep(0.5, points, 0.5)
    _exact(m, steps, [0.5 * 0.5 ** float(sum(1 for p in points if p <= t)) for t in steps], backend)


@pytest.mark.parametrize("cycle_mult", [1, 2, 3, 10])
@given(cycle_steps=st.integers(1, 2**20), decay=EXACT_FACTORS, min_frac=st.floats(0, 1))
def test_cosine_restarts_cycle_starts(backend, cycle_mult, cycle_steps, decay, min_frac):
    s = fastlr.CosineRestarts(1.0, cycle_steps, min_frac, cycle_mult, decay)
    starts = []
    i = 0
    while True:
        start = cycle_steps * i if cycle_mult == 1 else cycle_steps * (cycle_mult**i - 1) // (cycle_mult - 1)
        if start > 2**53 or (cycle_mult == 10 and i > 15):  # i = 16: see test_restarts_mult_10_exact
            break
        if start >= 2**31 or (cycle_mult == 1 and i > 0 and i % 997 == 0):
            starts.append((i, start))
        i = i + 1 if cycle_mult > 1 else (i + 1 if start < 2**31 else i * 2 + 1)
        if cycle_mult == 1 and len(starts) > 12:
            break
        if cycle_mult == 1 and start < 2**31:
            i = max(i, 2**31 // cycle_steps)
    if not starts:
        return
    _exact(s, [t for _, t in starts], [1.0 * decay ** float(i) for i, _ in starts], backend)


def test_steps_beyond_2_53_work(backend):
    steps = np.array([2**53, 2**53 + 1, 2**62, 2**63 - 1], dtype=np.int64)
    for name in sorted(FAMILIES):
        for s in (fastlr.WarmupCosine(1.0, 1000, 10, 0.1), fastlr.CosineRestarts(1.0, 1000, cycle_mult=2.0),
                  fastlr.Cyclic(0.1, 1.0, 1000), fastlr.InverseSqrt(1.0, 100), fastlr.StepDecay(1.0, 10**15, 0.5)):
            got = s(steps)
            assert np.all(np.isfinite(got)), f"{backend}: {s!r} -> {got}"
            assert_agrees(got, reference(s, steps), s, context=f"{backend}: {s!r}")
        break
    u = np.array([2**64 - 1, 2**63], dtype=np.uint64)
    s = fastlr.Cosine(1.0, 1000, 0.1)
    assert np.array_equal(s(u), [0.1, 0.1])


@pytest.mark.parametrize("family", sorted(FAMILIES))
@given(data=st.data())
def test_non_integer_float_steps(backend, family, data):
    s = data.draw(family_schedules(family), label="schedule")
    frac = np.array([0.5, 0.25, 1.5, 2.75, 99.5, 1000.125, 2.0**31 + 0.5, 2.0**40 + 0.25, 1e15 + 0.5])
    steps = frac.reshape((-1,) + (1,) * len(s.param_shape))
    for dtype in (np.float64, np.float32):
        for st_dtype in (np.float64, np.float32):
            t = steps.astype(st_dtype)
            assert_agrees(s(t, dtype=dtype), reference(s, t), s, dtype, context=f"{backend} {st_dtype.__name__}: {s!r}")
    if not s.param_shape:
        for t in frac:
            assert_agrees(s(float(t)), reference(s, t), s, context=f"{backend} s({t}): {s!r}")
    assert math.isfinite(float(np.max(s(steps))))


def test_restarts_at_2_53_terminates(request, backend):
    """CosineRestarts(cycle_steps=1, cycle_mult=1) at t = 2**53 and beyond returns (no endless loop)."""
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(fastlr.__file__).resolve().parent.parent)
    code = (f"import sys; sys.path.insert(0, {root!r}); import warnings; warnings.simplefilter('ignore');"
            f"import numpy as np, fastlr; s = fastlr.CosineRestarts(1.0, 1, 0.1, 1.0, 1.0);"
            f"fastlr.set_backend({backend!r}); print(s(np.array([2.0**53, 2.0**60])).tolist())")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{backend}: CosineRestarts at t=2**53 did not return within 90 s")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[1.0, 1.0]", proc.stdout


def test_restarts_mult_10_exact_at_cycle_16(backend):
    """API: the cycle index is exact at cycle starts. S_16 = (10**16 - 1) / 9 = 1111111111111111 < 2**53."""
    s = fastlr.CosineRestarts(1.0, 1, 0.0, 10.0, 1.0)
    for cycle in range(1, 17):
        t = (10**cycle - 1) // 9
        with fastlr.use_backend(backend):
            assert s(np.array([t - 1, t], dtype=np.int64)).tolist()[1] == 1.0, cycle
