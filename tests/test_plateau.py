"""``fastlr.plateau`` against torch's ``ReduceLROnPlateau`` run live, on random metric histories, and the
backends against the reference (the same comparisons and roundings as torch: equal bit for bit)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from engines import BACKENDS
from hypothesis import given
from hypothesis import strategies as st

import fastlr

torch = pytest.importorskip("torch")


def _torch_lrs(metrics, lr, **kwargs) -> np.ndarray:
    """The learning rate in force after each ``step(metric)`` of a live torch scheduler."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for value in metrics:
            scheduler.step(float(value))
            out.append(optimizer.param_groups[0]["lr"])
    return np.array(out, dtype=np.float64)


def _histories(draw, epochs):
    """Metric histories with plateaus, improvements, repeats, NaNs and infinities."""
    kind = draw(st.sampled_from(["noisy", "steps", "flat", "special"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "noisy":
        return np.cumsum(rng.normal(0.0, 1.0, epochs)) + rng.normal(0, 0.01, epochs)
    if kind == "steps":
        return np.repeat(rng.uniform(-2, 2, epochs // 5 + 1), 5)[:epochs]
    if kind == "flat":
        return np.full(epochs, rng.uniform(-1, 1))
    values = rng.uniform(0, 1, epochs)
    values[rng.random(epochs) < 0.1] = np.nan
    values[rng.random(epochs) < 0.05] = np.inf
    values[rng.random(epochs) < 0.05] = -np.inf
    return values


RULES = st.fixed_dictionaries({
    "mode": st.sampled_from(["min", "max"]),
    "threshold_mode": st.sampled_from(["rel", "abs"]),
    "factor": st.sampled_from([0.1, 0.5, 0.3333, 0.9]),
    "patience": st.integers(0, 6),
    "threshold": st.sampled_from([0.0, 1e-4, 0.01, 0.5]),
    "cooldown": st.integers(0, 4),
    "min_lr": st.sampled_from([0.0, 1e-6, 1e-3]),
    "eps": st.sampled_from([0.0, 1e-8, 1e-3]),
})


@given(data=st.data(), rule=RULES)
def test_matches_torch_run_live(data, rule):
    epochs = data.draw(st.integers(1, 60), label="epochs")
    history = _histories(data.draw, epochs)
    lr = data.draw(st.sampled_from([0.1, 1.0, 3e-4]), label="lr")
    want = _torch_lrs(history, lr, **rule)
    for backend in BACKENDS:
        with fastlr.use_backend(backend):
            got = fastlr.plateau(history, lr, **rule)
        np.testing.assert_array_equal(got, want, err_msg=f"{backend} {rule}")


@given(data=st.data(), rule=RULES)
def test_runs_are_independent(data, rule):
    """A (runs, epochs) batch with one lr per run equals each run on its own (torch's per-run result)."""
    runs = data.draw(st.integers(1, 5), label="runs")
    epochs = data.draw(st.integers(0, 40), label="epochs")
    histories = np.stack([_histories(data.draw, epochs) for _ in range(runs)]) if epochs else np.zeros((runs, 0))
    lrs = np.linspace(0.05, 1.0, runs)
    want = np.stack([_torch_lrs(h, float(lr), **rule) for h, lr in zip(histories, lrs)]) if epochs else \
        np.zeros((runs, 0))
    for backend in BACKENDS:
        with fastlr.use_backend(backend):
            got = fastlr.plateau(histories, lrs, **rule)
        assert got.shape == histories.shape and got.dtype == np.float64
        np.testing.assert_array_equal(got, want, err_msg=backend)


def test_leading_axes_and_broadcast_lr(backend):
    rng = np.random.default_rng(3)
    metrics = rng.uniform(0, 1, (2, 3, 50))
    lr = np.array([0.1, 0.2, 0.3])  # one per run along the last leading axis
    got = fastlr.plateau(metrics, lr, patience=2, factor=0.5)
    assert got.shape == metrics.shape
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(got[i, j], _torch_lrs(metrics[i, j], float(lr[j]), patience=2, factor=0.5))


def test_large_batch_threads_agree_with_reference(backend):
    """Enough runs to split across threads: the same values as the reference."""
    rng = np.random.default_rng(5)
    metrics = np.cumsum(rng.normal(0, 1, (3000, 200)), axis=1)
    got = fastlr.plateau(metrics, 1.0, patience=3, cooldown=2, min_lr=1e-4)
    with fastlr.use_backend("numpy"):
        want = fastlr.plateau(metrics, 1.0, patience=3, cooldown=2, min_lr=1e-4)
    np.testing.assert_array_equal(got, want)
    assert np.all(np.diff(got, axis=1) <= 0) and got.min() >= 1e-4


@pytest.mark.parametrize("kwargs, error, match", [
    ({"mode": "minimum"}, ValueError, "mode"),
    ({"mode": 1}, TypeError, "mode"),
    ({"threshold_mode": "relative"}, ValueError, "threshold_mode"),
    ({"factor": 1.0}, ValueError, "factor"),
    ({"factor": 0.0}, ValueError, "factor"),
    ({"factor": "0.5"}, TypeError, "factor"),
    ({"patience": -1}, ValueError, "patience"),
    ({"patience": 2.5}, TypeError, "patience"),
    ({"patience": True}, TypeError, "patience"),
    ({"cooldown": -2}, ValueError, "cooldown"),
    ({"eps": -1e-8}, ValueError, "eps"),
    ({"threshold": float("nan")}, ValueError, "threshold"),
    ({"min_lr": -0.1}, ValueError, "min_lr"),
    ({"min_lr": np.zeros(4)}, ValueError, "min_lr"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastlr.plateau(np.ones((3, 5)), 0.1, **kwargs)


@pytest.mark.parametrize("metrics, lr, error, match", [
    ("loss", 0.1, TypeError, "metrics"),
    (None, 0.1, TypeError, "metrics"),
    (np.array([1 + 2j]), 0.1, TypeError, "metrics"),
    (np.float64(1.0), 0.1, ValueError, "epochs"),
    (np.ones(5), -0.1, ValueError, "lr"),
    (np.ones(5), float("nan"), ValueError, "lr"),
    (np.ones((3, 5)), np.ones(2), ValueError, "lr"),
])
def test_bad_metrics_and_lr(metrics, lr, error, match):
    with pytest.raises(error, match=match):
        fastlr.plateau(metrics, lr)
