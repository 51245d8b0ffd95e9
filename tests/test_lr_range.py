"""``fastlr.lr_range`` (a range test's schedule, every backend) and ``fastlr.suggest_lr`` (its rules, on loss
curves whose answer is known)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tolerance import assert_agrees

import fastlr


@pytest.mark.parametrize("mode", ["exp", "linear"])
def test_lr_range_values_and_exact_ends(backend, mode):
    s = fastlr.lr_range(1e-7, 10.0, 101, mode=mode)
    t = np.arange(0, 130, dtype=np.float64)
    if mode == "exp":
        expected = np.minimum(1e-7 * (10.0 / 1e-7) ** (np.minimum(t, 100) / 100), 10.0)
    else:
        expected = 1e-7 + (10.0 - 1e-7) * np.minimum(t, 100) / 100
    assert_agrees(s(t), expected, s, context=f"{backend} {mode}")
    assert s(0) == 1e-7 and s(100) == 10.0 and s(10**9) == 10.0
    assert np.all(np.diff(s.curve(101)) > 0)
    if mode == "exp":  # evenly spaced in log scale: a decade per 12.5 steps
        assert s(12.5) == pytest.approx(1e-6, rel=1e-12)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(min_lr=0.0, max_lr=1.0, num_steps=10), ValueError, "min_lr"),
    (dict(min_lr=1.0, max_lr=1.0, num_steps=10), ValueError, "min_lr must be < max_lr"),
    (dict(min_lr=1e-3, max_lr=math.inf, num_steps=10), ValueError, "max_lr"),
    (dict(min_lr=1e-3, max_lr=1.0, num_steps=1), ValueError, "num_steps"),
    (dict(min_lr=1e-3, max_lr=1.0, num_steps=10.5), TypeError, "num_steps"),
    (dict(min_lr=1e-3, max_lr=1.0, num_steps=10, mode="log"), ValueError, "mode"),
    (dict(min_lr="1e-3", max_lr=1.0, num_steps=10), TypeError, "min_lr"),
])
def test_lr_range_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastlr.lr_range(**kwargs)


LRS = fastlr.lr_range(1e-6, 1.0, 121).curve(121)  # 20 points per decade
LOG = np.log10(LRS)


def test_minimum_is_a_tenth_of_the_lowest_loss():
    losses = 1.0 + (LOG + 2.0) ** 2  # lowest at lr = 1e-2
    lr = fastlr.suggest_lr(LRS, losses, "minimum", smoothing=0, skip_end=0)
    assert lr == pytest.approx(1e-3, rel=1e-9)


def test_steepest_is_where_the_loss_falls_fastest_against_log_lr():
    losses = 2.0 - np.tanh(3.0 * (LOG + 3.0))  # steepest descent at lr = 1e-3
    lr = fastlr.suggest_lr(LRS, losses, "steepest", smoothing=0, skip_end=0)
    assert 10**-3.1 <= lr <= 10**-2.95


def test_valley_is_half_way_down_the_longest_decrease():
    # flat and noisy (no long decrease), then a steady fall from 1e-4 to 1e-1, then divergence
    rng = np.random.default_rng(0)
    losses = np.where(LOG < -4, 3.0 + 0.05 * rng.standard_normal(LRS.size), 3.0 - (LOG + 4.0))
    losses = np.where(LOG > -1, 10.0 ** (LOG + 2), losses)
    lr = fastlr.suggest_lr(LRS, losses, "valley", smoothing=0, skip_end=0)
    assert 10**-3.2 <= lr <= 10**-2.3  # half-way down the fall (in log scale)


def test_divergence_and_nan_cut_the_record():
    losses = 1.0 + (LOG + 2.0) ** 2
    losses[LOG > -0.5] = np.nan  # the run blew up
    assert fastlr.suggest_lr(LRS, losses, "minimum", smoothing=0, skip_end=0) == pytest.approx(1e-3, rel=1e-9)
    losses = 1.0 + (LOG + 2.0) ** 2
    losses[LOG > -1] *= 100  # 4x the minimum so far: the cut
    assert fastlr.suggest_lr(LRS, losses, "minimum", smoothing=0, skip_end=0) == pytest.approx(1e-3, rel=1e-9)


def test_smoothing_is_a_debiased_moving_average():
    constant = np.full(LRS.size, 2.5)
    steepest = [fastlr.suggest_lr(LRS, constant + 1e-12 * np.arange(LRS.size)[::-1], "minimum", smoothing=b)
                for b in (0.0, 0.9, 0.98)]
    assert steepest[0] == steepest[1] == steepest[2]  # a debiased average of a flat curve stays flat


@pytest.mark.parametrize("args, kwargs, match", [
    ((LRS, np.ones(5)), {}, "same length"),
    ((LRS[::-1], np.ones(LRS.size)), {}, "increasing"),
    ((LRS, np.ones(LRS.size)), {"method": "best"}, "method"),
    ((LRS, np.ones(LRS.size)), {"smoothing": 1.0}, "smoothing"),
    ((LRS[:6], np.ones(6)), {}, "too few usable points"),
    ((LRS, np.ones(LRS.size)), {"divergence": 0.5}, "divergence"),
])
def test_suggest_lr_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastlr.suggest_lr(*args, **kwargs)
