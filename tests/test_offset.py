"""``fastlr.offset``: a schedule re-indexed in time, ``schedule(max(t + steps, 0))``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engines import BACKENDS
from tolerance import assert_agrees

import fastlr


@pytest.fixture(params=BACKENDS)
def backend(request):
    with fastlr.use_backend(request.param):
        yield request.param


@pytest.mark.parametrize("steps", [0.0, 1.0, 250.0, 37.5, 1e6])
def test_offset_is_the_schedule_seen_later(backend, steps):
    inner = fastlr.WarmupCosine(3e-4, 1000, 100, 3e-5)
    t = np.arange(0.0, 1500.0, 7.0)
    # the engine's local step is t - (-steps), bit-identical to t + steps
    np.testing.assert_array_equal(fastlr.offset(inner, steps)(t), inner(t + steps))
    np.testing.assert_array_equal(fastlr.offset(inner, steps).curve(50, start=3), inner(np.arange(3.0, 53.0) + steps))


def test_negative_offset_delays_and_holds_the_start(backend):
    inner = fastlr.Linear(1.0, 0.0, 10)
    delayed = fastlr.offset(inner, -4)
    np.testing.assert_array_equal(delayed(np.arange(16.0)),
                                  [1.0] * 5 + [1.0 - k / 10 for k in range(1, 11)] + [0.0])


def test_offset_per_group_broadcasts(backend):
    inner = fastlr.Cosine(np.array([1.0, 0.5, 0.25]), 100)
    steps = np.array([0.0, 10.0, -5.0])
    shifted = fastlr.offset(inner, steps)
    assert shifted.param_shape == (3,)
    t = np.arange(120.0)[:, None]
    expected = np.stack([fastlr.Cosine(lr, 100)(np.maximum(t[:, 0] + k, 0.0))
                         for lr, k in zip([1.0, 0.5, 0.25], steps)], axis=1)
    assert_agrees(shifted(t), expected, shifted)


def test_offset_composes_and_matches_the_reference(backend):
    s = fastlr.join([fastlr.offset(fastlr.Cosine(1e-3, 200), 50), fastlr.Linear(1e-4, 0.0, 100)], [150]) * 2.0
    t = np.arange(0.0, 400.0, 0.5)
    with fastlr.use_backend("numpy"):
        expected = s(t)
    assert_agrees(s(t), expected, s)


def test_horizon_and_overflow_move_with_the_offset():
    assert fastlr.offset(fastlr.Cosine(1.0, 100), 30).horizon == 70.0
    assert fastlr.offset(fastlr.Cosine(1.0, 100), 300).horizon == 0.0
    assert fastlr.offset(fastlr.Cosine(1.0, 100), -30).horizon == 130.0
    assert fastlr.offset(fastlr.Constant(1.0), 5).horizon is None
    growth = fastlr.Exponential(1.0, gamma=2.0)
    limit = growth.overflow_step()
    assert math.isfinite(limit)
    shifted = fastlr.offset(growth, 100)
    assert shifted.overflow_step() == limit - 100
    shifted(np.array([limit - 101]))
    with pytest.raises(ValueError, match="overflows float64"):
        shifted(np.array([limit - 100]))


def test_round_trips_and_spec():
    s = fastlr.offset(fastlr.Cosine(1e-3, 100), [0.0, 10.0])
    assert fastlr.from_dict(s.to_dict()) == s
    from fastlr._spec import parse_spec

    assert parse_spec("offset(Cosine(1e-3, 100), 10)") == fastlr.offset(fastlr.Cosine(1e-3, 100), 10)


@pytest.mark.parametrize("args, error, match", [
    ((fastlr.Constant(1.0), math.inf), ValueError, "offset: steps"),
    ((fastlr.Constant(1.0), math.nan), ValueError, "offset: steps"),
    ((fastlr.Constant(1.0), "3"), TypeError, "offset: steps"),
    ((1.0, 3), TypeError, "offset: schedule must be a fastlr schedule"),
    ((fastlr.Constant(np.ones(2)), np.ones(3)), ValueError, "shape"),
])
def test_bad_arguments_are_refused(args, error, match):
    with pytest.raises(error, match=match):
        fastlr.offset(*args)
