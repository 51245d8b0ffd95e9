"""``fastlr.torch.LRScheduler`` against torch's and Hugging Face's schedulers, checkpoints, tensor LRs."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from tolerance import TOLERANCE, assert_agrees

import fastlr

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler as torch_sched  # noqa: E402

import fastlr.torch as flt  # noqa: E402

REL = TOLERANCE["anchor_rel_peak"]  # torch steps through its chainable forms


def _model(n_groups: int):
    torch.manual_seed(0)
    return [torch.nn.Linear(3, 3) for _ in range(n_groups)]


def _optimizer(group_lrs, cls=torch.optim.SGD, **kwargs):
    layers = _model(len(group_lrs))
    groups = [{"params": layer.parameters(), "lr": lr} for layer, lr in zip(layers, group_lrs)]
    return cls(groups, lr=group_lrs[0], **kwargs), layers


def _lrs_used(optimizer, scheduler, n_steps, layers=None):
    """The LR of each group at each of ``n_steps`` updates, read when ``optimizer.step()`` runs."""
    used = []
    for _ in range(n_steps):
        if layers is not None:
            loss = sum(layer(torch.ones(1, 3)).square().sum() for layer in layers)
            optimizer.zero_grad()
            loss.backward()
        used.append([float(group["lr"]) for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return np.array(used)


def _assert_close(ours, theirs, peaks):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    scale = np.broadcast_to(np.asarray(peaks, dtype=np.float64), ours.shape)
    assert np.all(np.abs(ours - theirs) <= REL * scale), np.max(np.abs(ours - theirs) / scale)


GROUPS = [[0.1], [0.1, 0.03, 0.5]]


# ---------------------------------------------------------------------------------- torch oracles


@pytest.mark.parametrize("bases", GROUPS, ids=["1 group", "3 groups"])
@pytest.mark.parametrize("total, eta_min", [(100, 0.0), (37, 0.002), (1, 0.0)])
def test_cosine_annealing(bases, total, eta_min):
    steps = total + 1  # up to and including T_max (torch rises again after T_max, fastlr clamps)
    opt, _ = _optimizer(bases)
    theirs = _lrs_used(opt, torch_sched.CosineAnnealingLR(opt, T_max=total, eta_min=eta_min), steps)

    # absolute: one peak per group, eta_min shared as in torch
    opt, _ = _optimizer(bases)
    peak = np.array(bases) if len(bases) > 1 else bases[0]
    schedule = fastlr.Cosine(peak_lr=peak, total_steps=total, min_lr=eta_min)
    ours = _lrs_used(opt, flt.LRScheduler(opt, schedule), steps)
    _assert_close(ours, theirs, bases)

    # relative: a factor of each group's initial lr; torch's absolute eta_min is eta_min / base as a factor
    opt, _ = _optimizer(bases)
    factor = fastlr.Cosine(peak_lr=1.0, total_steps=total, min_lr=eta_min / np.array(bases))
    ours = _lrs_used(opt, flt.LRScheduler.relative(opt, factor), steps)
    _assert_close(ours, theirs, bases)


def test_cosine_annealing_scalar_schedule_shared_by_groups():
    bases = [0.1, 0.1, 0.1]
    opt, _ = _optimizer(bases)
    theirs = _lrs_used(opt, torch_sched.CosineAnnealingLR(opt, T_max=50), 51)
    opt, _ = _optimizer([0.7, 0.2, 0.1])  # absolute mode ignores the groups' own lrs
    ours = _lrs_used(opt, flt.LRScheduler(opt, fastlr.Cosine(0.1, 50)), 51)
    _assert_close(ours, theirs, bases)


@pytest.mark.parametrize("bases", GROUPS, ids=["1 group", "3 groups"])
@pytest.mark.parametrize("total, kwargs", [
    (100, {}),
    (57, {"pct_start": 0.25, "anneal_strategy": "linear"}),
    (40, {"three_phase": True, "div_factor": 10.0, "final_div_factor": 100.0}),
])
def test_one_cycle(bases, total, kwargs):
    opt, _ = _optimizer(bases, momentum=0.9)
    theirs = _lrs_used(opt, torch_sched.OneCycleLR(opt, max_lr=bases, total_steps=total, **kwargs), total)

    ours_kwargs = {"pct_start": kwargs.get("pct_start", 0.3), "anneal": kwargs.get("anneal_strategy", "cos")}
    for key in ("three_phase", "div_factor", "final_div_factor"):
        if key in kwargs:
            ours_kwargs[key] = kwargs[key]
    peak = np.array(bases) if len(bases) > 1 else bases[0]
    opt, _ = _optimizer(bases, momentum=0.9)
    schedule = fastlr.OneCycle(max_lr=peak, total_steps=total, **ours_kwargs)
    ours = _lrs_used(opt, flt.LRScheduler(opt, schedule), total)
    _assert_close(ours, theirs, bases)

    opt, _ = _optimizer(bases, momentum=0.9)
    relative = flt.LRScheduler.relative(opt, fastlr.OneCycle(max_lr=1.0, total_steps=total, **ours_kwargs))
    _assert_close(_lrs_used(opt, relative, total), theirs, bases)


@pytest.mark.parametrize("bases", GROUPS, ids=["1 group", "3 groups"])
@pytest.mark.parametrize("warmup, total", [(10, 100), (0, 30), (7, 7)])
def test_hf_cosine_with_warmup(bases, warmup, total):
    transformers = pytest.importorskip("transformers")
    steps = total + 1  # up to the horizon (HF's cosine rises again after it)
    opt, _ = _optimizer(bases)
    hf = transformers.get_cosine_schedule_with_warmup(opt, num_warmup_steps=warmup, num_training_steps=total)
    theirs = _lrs_used(opt, hf, steps)
    if warmup == total:
        # W == T: HF returns the peak at t = T then drops to 0; fastlr's cosine phase is empty, so t = T
        # is already past the horizon (min_lr). The warmup [0, W) is what both define.
        theirs = theirs[:warmup]
        steps = warmup

    peak = np.array(bases) if len(bases) > 1 else bases[0]
    opt, _ = _optimizer(bases)
    schedule = fastlr.WarmupCosine(peak_lr=peak, total_steps=total, warmup_steps=warmup)
    _assert_close(_lrs_used(opt, flt.LRScheduler(opt, schedule), steps), theirs, bases)

    opt, _ = _optimizer(bases)
    factor = fastlr.WarmupCosine(peak_lr=1.0, total_steps=total, warmup_steps=warmup)
    _assert_close(_lrs_used(opt, flt.LRScheduler.relative(opt, factor), steps), theirs, bases)


def test_layerwise_decay_relative_matches_lambda_lr():
    """``.relative`` keeps per-group lrs set in the optimizer exactly as LambdaLR does."""
    from fastlr.groups import layerwise_decay

    bases = list(3e-4 * layerwise_decay(4, 0.8))
    schedule = fastlr.WarmupCosine(1.0, 60, 6, min_lr=0.1)
    opt, _ = _optimizer(bases, cls=torch.optim.AdamW)
    with fastlr.use_backend("numpy"):
        theirs = _lrs_used(opt, torch_sched.LambdaLR(opt, lambda t: float(schedule(t))), 70)
    opt, _ = _optimizer(bases, cls=torch.optim.AdamW)
    _assert_close(_lrs_used(opt, flt.LRScheduler.relative(opt, schedule), 70), theirs, bases)
    # the same thing as an absolute per-group schedule built with the multipliers
    opt, _ = _optimizer([1.0] * 4, cls=torch.optim.AdamW)
    absolute = flt.LRScheduler(opt, schedule * (3e-4 * layerwise_decay(4, 0.8)))
    _assert_close(_lrs_used(opt, absolute, 70), theirs, bases)


def test_lr_is_closed_form_at_every_step():
    """External edits of group['lr'] do not leak into the next step (no recursive update)."""
    schedule = fastlr.Cosine(peak_lr=np.array([1.0, 0.5]), total_steps=20)
    opt, _ = _optimizer([1.0, 0.5])
    scheduler = flt.LRScheduler(opt, schedule)
    for t in range(1, 25):
        opt.param_groups[0]["lr"] = 123.0
        opt.step()
        scheduler.step()
        assert scheduler.last_epoch == t
        assert [g["lr"] for g in opt.param_groups] == schedule(t).tolist()
        assert scheduler.get_last_lr() == schedule(t).tolist()
        assert scheduler.get_lr() == scheduler._get_closed_form_lr() == schedule(t).tolist()


# ---------------------------------------------------------------------------------- checkpoints


def _run_with_checkpoint(make, n_before, n_after, order):
    """Train ``n_before`` steps, checkpoint through torch.save, rebuild everything, load, continue."""
    opt, sched, layers = make()
    before = _lrs_used(opt, sched, n_before, layers)
    buffer = io.BytesIO()
    torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "model": [layer.state_dict() for layer in layers]}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=True)

    opt, sched, layers = make()
    for layer, state in zip(layers, checkpoint["model"]):
        layer.load_state_dict(state)
    if order == "optimizer first":
        opt.load_state_dict(checkpoint["optimizer"])
        sched.load_state_dict(checkpoint["scheduler"])
    elif order == "scheduler first":
        sched.load_state_dict(checkpoint["scheduler"])
        opt.load_state_dict(checkpoint["optimizer"])
    else:  # scheduler only: the closed form still puts the right lr in the groups
        sched.load_state_dict(checkpoint["scheduler"])
    after = _lrs_used(opt, sched, n_after, layers)
    params = [p.detach().clone() for layer in layers for p in layer.parameters()]
    return np.concatenate([before, after]), params


def _maker(relative, tensor_lr=False):
    def make():
        bases = [3e-3, 1e-3, 2e-4]
        layers = _model(3)
        groups = [{"params": layer.parameters(), "lr": torch.tensor(lr) if tensor_lr else lr}
                  for layer, lr in zip(layers, bases)]
        opt = torch.optim.AdamW(groups, lr=1e-3, foreach=False)
        if relative:
            schedule = fastlr.WarmupStableDecay(1.0, 50, 5, 15, min_lr=0.01, decay_shape="1-sqrt")
            sched = flt.LRScheduler.relative(opt, schedule)
        else:
            schedule = fastlr.WarmupCosine(peak_lr=np.array(bases), total_steps=50, warmup_steps=5,
                                           min_lr=np.array(bases) / 10)
            sched = flt.LRScheduler(opt, schedule)
        return opt, sched, layers
    return make


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
@pytest.mark.parametrize("order", ["optimizer first", "scheduler first", "scheduler only"])
def test_resume_gives_identical_lrs(relative, order):
    make = _maker(relative)
    opt, sched, layers = make()
    uninterrupted = _lrs_used(opt, sched, 60, layers)
    params = [p.detach().clone() for layer in layers for p in layer.parameters()]
    resumed, resumed_params = _run_with_checkpoint(make, 23, 37, order)
    np.testing.assert_array_equal(resumed, uninterrupted)
    if order != "scheduler only":  # without the optimizer state, Adam's moments restart
        for a, b in zip(params, resumed_params):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_resume_with_tensor_lrs():
    make = _maker(relative=True, tensor_lr=True)
    opt, sched, layers = make()
    uninterrupted = _lrs_used(opt, sched, 40, layers)
    resumed, _ = _run_with_checkpoint(make, 17, 23, "optimizer first")
    np.testing.assert_array_equal(resumed, uninterrupted)  # the same steps: the same float32 values


def test_state_dict_is_self_contained():
    opt, _ = _optimizer([0.1, 0.2])
    schedule = fastlr.with_warmup(fastlr.Cosine(1.0, 90), 10) * np.array([1.0, 0.5])
    sched = flt.LRScheduler(opt, schedule)
    for _ in range(5):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert fastlr.from_dict(json.loads(json.dumps(state["schedule"]))) == schedule
    again = pickle.loads(pickle.dumps(state))
    assert again["last_epoch"] == 5

    # adopt the saved schedule on a fresh optimizer
    fresh, _ = _optimizer([0.1, 0.2])
    adopted = flt.LRScheduler.from_state_dict(fresh, again)
    assert adopted.schedule == schedule
    assert adopted.last_epoch == 5
    assert [g["lr"] for g in fresh.param_groups] == schedule(5).tolist()


def test_load_with_a_different_schedule_raises():
    opt, _ = _optimizer([0.1])
    sched = flt.LRScheduler(opt, fastlr.Cosine(0.1, 100))
    for _ in range(3):
        opt.step()
        sched.step()
    state = sched.state_dict()
    other_opt, _ = _optimizer([0.1])
    other = flt.LRScheduler(other_opt, fastlr.Cosine(0.1, 200))
    with pytest.raises(ValueError, match="from_state_dict"):
        other.load_state_dict(state)
    assert other.last_epoch == 0  # nothing loaded
    # switching schedules on purpose: drop the saved one
    state = dict(state)
    del state["schedule"]
    other.load_state_dict(state)
    assert other.last_epoch == 3
    assert other_opt.param_groups[0]["lr"] == fastlr.Cosine(0.1, 200)(3)
    # the mode must match too
    rel_opt, _ = _optimizer([0.1])
    relative = flt.LRScheduler.relative(rel_opt, fastlr.Cosine(0.1, 100))
    with pytest.raises(ValueError, match="absolute"):
        relative.load_state_dict(sched.state_dict())


# ---------------------------------------------------------------------------------- tensor lrs


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_tensor_lr_updated_in_place(relative):
    layers = _model(2)
    lr_tensors = [torch.tensor(0.01, dtype=torch.float64), torch.tensor(0.005, dtype=torch.float64)]
    groups = [{"params": layer.parameters(), "lr": lr} for layer, lr in zip(layers, lr_tensors)]
    opt = torch.optim.Adam(groups, foreach=False)
    schedule = fastlr.Cosine(peak_lr=np.array([0.01, 0.005]) if not relative else 1.0, total_steps=10)
    sched = (flt.LRScheduler.relative if relative else flt.LRScheduler)(opt, schedule)
    expected_scale = np.array([0.01, 0.005]) if relative else 1.0
    for t in range(12):
        for group, lr in zip(opt.param_groups, lr_tensors):
            assert group["lr"] is lr  # never replaced
        values = np.array([float(lr) for lr in lr_tensors])
        assert_agrees(values, np.asarray(schedule(t)) * expected_scale, schedule * expected_scale)
        last = sched.get_last_lr()
        assert all(x is not lr for x, lr in zip(last, lr_tensors))  # copies, never aliases
        opt.step()
        sched.step()


# ---------------------------------------------------------------------------------- validation


def test_shape_mismatch_names_the_shapes():
    opt, _ = _optimizer([0.1, 0.2])
    with pytest.raises(ValueError, match=r"\(3,\).*2 param group.*\(2,\)"):
        flt.LRScheduler(opt, fastlr.Cosine(peak_lr=np.ones(3), total_steps=10))
    with pytest.raises(ValueError, match=r"\(2, 1\)"):
        flt.LRScheduler(opt, fastlr.Cosine(peak_lr=np.ones((2, 1)), total_steps=10))
    with pytest.raises(TypeError):
        flt.LRScheduler(opt, lambda t: 0.1)
    with pytest.raises(TypeError):
        flt.LRScheduler(object(), fastlr.Cosine(0.1, 10))


def test_is_a_torch_scheduler_and_warns_on_wrong_order():
    opt, _ = _optimizer([0.1])
    sched = flt.LRScheduler(opt, fastlr.Constant(0.1))
    assert isinstance(sched, torch_sched.LRScheduler)
    assert "Constant" in repr(sched)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched.step()  # before any optimizer.step()
    assert any("optimizer.step()" in str(w.message) for w in caught)


def test_import_fastlr_does_not_import_torch():
    code = "import sys, fastlr, fastlr.groups; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
