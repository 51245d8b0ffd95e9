"""``fastlr.groups``: layer-wise decay, muP multipliers, per-group values; combined with schedules."""

from __future__ import annotations

import numpy as np
import pytest
from tolerance import assert_agrees, assert_agrees_peak

import fastlr
from fastlr.groups import MUP_KINDS, group_values, layerwise_decay, mup_width_multipliers


def test_layerwise_decay_values():
    m = layerwise_decay(4, 0.5)
    assert m.dtype == np.float64
    assert m.tolist() == [0.125, 0.25, 0.5, 1.0]
    assert layerwise_decay(1, 0.3).tolist() == [1.0]
    assert layerwise_decay(3, 1.0).tolist() == [1.0, 1.0, 1.0]
    # multipliers in (0, 1]: their peak is 1
    assert_agrees_peak(layerwise_decay(13, 0.75), 0.75 ** np.arange(12, -1, -1), 1.0)
    assert not m.flags.writeable


@pytest.mark.parametrize("n_layers, decay, error", [
    (0, 0.5, ValueError), (-2, 0.5, ValueError), (2.0, 0.5, TypeError), (True, 0.5, TypeError),
    (3, 0.0, ValueError), (3, -0.1, ValueError), (3, 1.5, ValueError), (3, float("nan"), ValueError),
    (3, "0.5", TypeError), (3, None, TypeError),
])
def test_layerwise_decay_validation(n_layers, decay, error):
    with pytest.raises(error, match="layerwise_decay"):
        layerwise_decay(n_layers, decay)


def test_mup_multipliers_convention():
    kinds = ["embedding", "input", "hidden", "hidden", "output", "vector"]
    m = mup_width_multipliers(kinds, base_width=256, width=1024)
    assert m.tolist() == [1.0, 1.0, 0.25, 0.25, 0.25, 1.0]
    assert mup_width_multipliers(["hidden"], 512, 512).tolist() == [1.0]
    # per-group widths (e.g. a wider MLP block)
    m = mup_width_multipliers(["input", "hidden", "output"], 128, [256, 512, 256])
    assert m.tolist() == [1.0, 0.25, 0.5]
    assert set(MUP_KINDS) == {"input", "embedding", "vector", "hidden", "output"}


@pytest.mark.parametrize("kwargs, error", [
    ({"kinds": ["hidden", "attention"], "base_width": 1, "width": 2}, ValueError),
    ({"kinds": [], "base_width": 1, "width": 2}, ValueError),
    ({"kinds": "hidden", "base_width": 1, "width": 2}, TypeError),
    ({"kinds": ["hidden"], "base_width": 0, "width": 2}, ValueError),
    ({"kinds": ["hidden"], "base_width": 1, "width": -2}, ValueError),
    ({"kinds": ["hidden"], "base_width": 1, "width": float("inf")}, ValueError),
    ({"kinds": ["hidden", "output"], "base_width": 1, "width": [2, 3, 4]}, ValueError),
])
def test_mup_validation(kwargs, error):
    with pytest.raises(error, match="mup_width_multipliers"):
        mup_width_multipliers(**kwargs)


def test_group_values_from_dicts_and_optimizer_like():
    groups = [{"lr": 1e-3, "lr_scale": 0.5}, {"lr": 2e-3}, {"lr": np.float32(0.5)}]
    assert group_values(groups).tolist() == [1e-3, 2e-3, 0.5]
    assert group_values(groups, "lr_scale", default=1.0).tolist() == [0.5, 1.0, 1.0]
    with pytest.raises(KeyError, match=r"param_groups\[1\]"):
        group_values(groups, "lr_scale")

    class Optimizer:
        param_groups = groups

    assert group_values(Optimizer()).tolist() == [1e-3, 2e-3, 0.5]
    with pytest.raises(ValueError, match=r"param_groups\[0\]"):
        group_values([{"lr": -1.0}])
    with pytest.raises(ValueError):
        group_values([{"lr": "fast"}])
    with pytest.raises(ValueError):
        group_values([])
    with pytest.raises(TypeError):
        group_values({"lr": 1.0})


def test_group_values_reads_tensors():
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": torch.tensor(0.25)},
                           {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5}])
    assert group_values(opt).tolist() == [0.25, 0.5]


@pytest.mark.parametrize("multipliers", [layerwise_decay(5, 0.8),
                                         mup_width_multipliers(["input", "hidden", "output"], 64, 256)])
def test_schedule_times_multipliers_is_a_per_group_schedule(multipliers):
    base = fastlr.WarmupCosine(peak_lr=3e-4, total_steps=100, warmup_steps=10, min_lr=3e-5)
    for per_group in (base * multipliers, fastlr.Scaled(base, multipliers)):
        assert isinstance(per_group, fastlr.Scaled)
        assert per_group.param_shape == multipliers.shape
        assert per_group.horizon == base.horizon
        steps = np.arange(120)
        table = per_group.curve(120)
        assert table.shape == (120,) + multipliers.shape
        assert_agrees(table, base(steps)[:, None] * multipliers, per_group)
        assert fastlr.from_dict(per_group.to_dict()) == per_group
    # per-element peaks from the optimizer's groups: the absolute form
    peaks = group_values([{"lr": 1e-3}, {"lr": 5e-4}])
    absolute = fastlr.Cosine(peak_lr=peaks, total_steps=10)
    assert absolute(0).tolist() == [1e-3, 5e-4]


def test_array_times_schedule():
    """``multipliers * schedule`` (the array on the left) must also give a Scaled schedule, not an object
    array of schedules: needs ``Schedule.__array_ufunc__ = None`` so numpy defers to ``__rmul__``."""
    base = fastlr.Cosine(1.0, 10)
    result = layerwise_decay(3, 0.5) * base
    assert isinstance(result, fastlr.Scaled)
    assert result == base * layerwise_decay(3, 0.5)
