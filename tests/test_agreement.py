"""Every backend agrees with the numpy reference, for every family, shape and dtype.

The reference here is computed by calling the ``_reference`` formula functions directly on float64
steps, so this file also checks the facade's plumbing (broadcasting, strides, dtypes, curve layout).
"""

from __future__ import annotations

import numpy as np
import pytest
from tolerance import assert_agrees

import fastlr
from fastlr import _reference

BACKENDS = fastlr.backends()


def _agrees(result, expected, schedule):
    """The one table's agreement, in the result's own dtype."""
    assert_agrees(result, expected, schedule, np.asarray(result).dtype.type, context=repr(schedule))


# (schedule factory taking a random generator, reference function, reference kwargs builder)
def _families(rng):
    total = float(rng.integers(1, 500))
    warm = float(rng.integers(0, int(total) + 1))
    peak = float(rng.uniform(1e-4, 2.0))
    low = peak * float(rng.uniform(0, 0.5))
    decay = float(rng.integers(0, int(total - warm) + 1))
    milestones = sorted(rng.integers(0, 400, size=int(rng.integers(0, 5))).astype(float).tolist())
    bounds = sorted(rng.uniform(0, 400, size=int(rng.integers(0, 4))).tolist())
    return [
        fastlr.Constant(peak),
        fastlr.Linear(peak, low, total),
        fastlr.Linear(low, peak, total),
        fastlr.StepDecay(peak, step_size=float(rng.integers(1, 50)), gamma=float(rng.uniform(0.1, 1))),
        fastlr.MultiStep(peak, milestones, gamma=float(rng.uniform(0.1, 1))),
        fastlr.Exponential(peak, gamma=float(rng.uniform(0.9, 1)), step_size=float(rng.integers(1, 5)),
                           staircase=bool(rng.integers(2)), min_lr=low * 0.1),
        fastlr.InverseTime(peak, decay_rate=float(rng.uniform(0, 2)), decay_steps=float(rng.integers(1, 50)),
                           staircase=bool(rng.integers(2))),
        fastlr.Polynomial(peak, low, total, power=float(rng.uniform(0.3, 3))),
        fastlr.Cosine(peak, total, low),
        fastlr.CosineRestarts(peak, float(rng.integers(1, 40)), low, cycle_mult=float(rng.choice([1, 2, 1.5])),
                              cycle_decay=float(rng.uniform(0.5, 1)),
                              cycle_limit=None if rng.integers(2) else int(rng.integers(1, 5))),
        fastlr.WarmupCosine(peak, total, warm, low, float(rng.uniform(0, low + 1e-9))),
        fastlr.WarmupStableDecay(peak, total, warm, min(decay, total - warm), low,
                                 decay_shape=str(rng.choice(["linear", "cosine", "1-sqrt", "1-square"]))),
        fastlr.OneCycle(peak, total, pct_start=float(rng.uniform(0, 0.5)), anneal=str(rng.choice(["cos", "linear"])),
                        three_phase=bool(rng.integers(2))),
        fastlr.Cyclic(low, peak, float(rng.integers(1, 30)), float(rng.integers(0, 30)),
                      mode=str(rng.choice(["triangular", "triangular2", "exp_range"])),
                      gamma=float(rng.uniform(0.99, 1))),
        fastlr.InverseSqrt(peak, warm, low),
        fastlr.Tanh(peak, total, low),
        fastlr.PiecewiseConstant(bounds, rng.uniform(0, 1, size=len(bounds) + 1).tolist()),
        fastlr.PiecewiseLinear(bounds + [450.0], rng.uniform(0, 1, size=len(bounds) + 1).tolist()),
    ]


SEEDS = range(6)


def _reference_of(schedule, t):
    with fastlr.use_backend("numpy"):
        return schedule(t)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_every_family_agrees_on_random_parameters(backend, seed):
    rng = np.random.default_rng(seed)
    t = np.concatenate([np.arange(0, 600, dtype=np.float64), rng.uniform(0, 2000, size=400)])
    for schedule in _families(rng):
        expected = _reference.evaluate(schedule, t)
        with fastlr.use_backend(backend):
            _agrees(schedule(t), expected, schedule)
            _agrees(schedule(t, dtype=np.float32), expected, schedule)
            _agrees(schedule(np.floor(t).astype(np.int64)), _reference.evaluate(schedule, np.floor(t)), schedule)


@pytest.mark.parametrize("backend", BACKENDS)
def test_five_core_families_match_the_formulas(backend):
    t = np.arange(0, 130, dtype=np.float64) * 0.75
    cases = [
        (fastlr.Constant(0.3), _reference.constant(t, 0.3)),
        (fastlr.Linear(1.0, 0.1, 50), _reference.linear(t, 1.0, 0.1, 50.0)),
        (fastlr.StepDecay(1.0, 7, 0.5), _reference.step_decay(t, 1.0, 0.5, 7.0)),
        (fastlr.Cosine(2.0, 80, 0.2), _reference.cosine(t, 2.0, 80.0, 0.2)),
        (fastlr.WarmupCosine(2.0, 80, 10, 0.2, 0.1), _reference.warmup_cosine(t, 2.0, 80.0, 10.0, 0.2, 0.1)),
    ]
    with fastlr.use_backend(backend):
        for schedule, expected in cases:
            _agrees(schedule(t), expected, schedule)


@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_values_at_boundaries_and_past_the_end(backend):
    s = fastlr.WarmupCosine(peak_lr=3e-4, total_steps=1000, warmup_steps=100, min_lr=3e-5, init_lr=1e-6)
    with fastlr.use_backend(backend):
        assert s(0) == 1e-6
        assert s(100) == 3e-4
        assert s(1000) == 3e-5
        assert s(10**9) == 3e-5
        values = s(np.array([0, 100, 1000, 5000]))
        assert values.tolist() == [1e-6, 3e-4, 3e-5, 3e-5]
        assert fastlr.Cosine(0.7, 10, 0.1)(0) == 0.7
        assert fastlr.Cosine(0.7, 10, 0.1)(10) == 0.1
        assert fastlr.Cosine(0.7, 10, 0.1)(11.5) == 0.1
        assert fastlr.Linear(0.3, 0.7, 10)(0) == 0.3
        assert fastlr.Linear(0.3, 0.7, 10)(10) == 0.7
        assert fastlr.Linear(0.3, 0.7, 10)(99) == 0.7
        assert fastlr.StepDecay(1.0, 10, 0.5)(np.array([9, 10, 19, 20])).tolist() == [1.0, 0.5, 0.5, 0.25]
        assert fastlr.Constant(0.25)(123456789) == 0.25
        # zero-length warmup: the peak at t = 0
        assert fastlr.WarmupCosine(1.0, 10, 0)(0) == 1.0
        # warmup as long as the run: ramp, then min_lr from T on
        w = fastlr.WarmupCosine(1.0, 10, 10, 0.1)
        assert w(5) == 0.5 and w(10) == 0.1


def _shape_cases():
    rng = np.random.default_rng(7)
    base = rng.uniform(0, 300, size=(6, 5))
    return {
        "0-d": np.float64(17.5),
        "empty": np.zeros((0,)),
        "empty-2d": np.zeros((3, 0)),
        "1-d": base[:, 0].copy(),
        "2-d": base,
        "strided": base[::2, ::2],
        "transposed": base.T,
        "reversed": base[::-1, ::-1],
        "int32": base.astype(np.int32),
        "int64-strided": base.astype(np.int64)[:, 1::2],
        "float32": base.astype(np.float32),
        "uint16": base.astype(np.uint16),
    }


SHAPES = _shape_cases()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shapes_strides_and_dtypes(backend, name, dtype):
    t = SHAPES[name]
    schedules = [
        fastlr.Constant(0.5),
        fastlr.Linear(1.0, 0.0, 200),
        fastlr.StepDecay(1.0, 30, 0.5),
        fastlr.Cosine(1.0, 250, 0.01),
        fastlr.WarmupCosine(1.0, 250, 25, 0.01),
    ]
    with fastlr.use_backend(backend):
        for schedule in schedules:
            result = schedule(t, dtype=dtype)
            expected = _reference.evaluate(schedule, np.asarray(t, dtype=np.float64))
            assert np.asarray(result).dtype == dtype
            assert np.shape(result) == np.shape(t)
            _agrees(result, expected, schedule)


@pytest.mark.parametrize("backend", BACKENDS)
def test_broadcast_parameters(backend):
    peak = np.array([1.0, 0.5, 0.1])
    warm = np.array([[0.0], [10.0]])  # (2, 1) broadcasts with (3,) to (2, 3)
    s = fastlr.WarmupCosine(peak_lr=peak, total_steps=100, warmup_steps=warm, min_lr=peak * 0.1)
    assert s.param_shape == (2, 3)
    t = np.arange(0, 120, 3.5)
    expected = _reference.warmup_cosine(t[:, None, None], peak, 100.0, warm, peak * 0.1, 0.0)
    with fastlr.use_backend(backend):
        table = s.curve(120)
        assert table.shape == (120, 2, 3)
        _agrees(table, _reference.warmup_cosine(np.arange(120.0)[:, None, None], peak, 100.0, warm,
                                                peak * 0.1, 0.0), s)
        _agrees(s(t[:, None, None]), expected, s)
        # per-element steps: one step per (group, layer)
        steps = np.array([[0, 5, 10], [50, 99, 100]])
        _agrees(s(steps), _reference.warmup_cosine(steps.astype(float), peak, 100.0, warm, peak * 0.1, 0.0), s)
        with pytest.raises(ValueError, match="broadcast"):
            s(np.arange(4))


@pytest.mark.parametrize("backend", BACKENDS)
def test_curve_matches_call_and_start(backend):
    s = fastlr.WarmupCosine(1.0, 1000, 100, 0.1)
    with fastlr.use_backend(backend):
        np.testing.assert_array_equal(s.curve(), s(np.arange(1000)))
        np.testing.assert_array_equal(s.curve(50, start=900), s(np.arange(900, 950)))
        out = np.empty(1000, dtype=np.float32)
        assert s.curve(out=out) is out
        _agrees(out, _reference.evaluate(s, np.arange(1000.0)), s)


@pytest.mark.parametrize("backend", BACKENDS)
def test_out_buffer_is_written_in_place(backend):
    s = fastlr.Cosine(1.0, 100)
    t = np.arange(100)
    with fastlr.use_backend(backend):
        for dtype in (np.float64, np.float32):
            out = np.full(100, -1.0, dtype=dtype)
            assert s(t, out=out) is out
            _agrees(out, _reference.evaluate(s, t.astype(float)), s)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bad_t", [np.array([1.0, -1.0]), np.array([0.0, np.nan]), np.array([np.inf]),
                                   np.array([3, -2], dtype=np.int64)])
def test_failed_call_leaves_out_untouched(backend, bad_t):
    s = fastlr.WarmupCosine(1.0, 100, 10)
    out = np.full(bad_t.shape, 42.0)
    with fastlr.use_backend(backend):
        with pytest.raises(ValueError, match=r"t\[1\]|t\[0\]"):
            s(bad_t, out=out)
    assert np.all(out == 42.0)
