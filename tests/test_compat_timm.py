"""fastlr.compat.timm against timm's schedulers (``_get_lr(t)``, several parameter groups) and against
the values verified from timm's documented formulas (anchor-semantics.md), which run without timm.

timm is not an oracle dependency (it requires torchvision, whose wheels do not match the CPU torch
pin). Its scheduler modules only need torch: where timm is installed (``pip install --no-deps timm``)
they are loaded on their own, without ``timm/__init__.py`` (which imports torchvision).
"""

from __future__ import annotations

import importlib.util
import math
import sys
import types

import numpy as np
import pytest
from test_oracles import RTOL_PEAK
from tolerance import schedule_peak

from fastlr.compat import timm as ct


def _load_timm_schedulers():
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        return None
    pytest.importorskip("torch")
    root = list(spec.submodule_search_locations)[0]
    saved = {name: sys.modules.get(name) for name in ("timm", "timm.scheduler")}
    loaded = {}
    try:
        for name, path in (("timm", root), ("timm.scheduler", f"{root}/scheduler")):
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
        for module in ("scheduler", "cosine_lr", "tanh_lr", "step_lr", "multistep_lr", "poly_lr"):
            full = f"timm.scheduler.{module}"
            module_spec = importlib.util.spec_from_file_location(full, f"{root}/scheduler/{module}.py")
            loaded[module] = importlib.util.module_from_spec(module_spec)
            sys.modules[full] = loaded[module]
            module_spec.loader.exec_module(loaded[module])
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        for module in list(loaded):
            sys.modules.pop(f"timm.scheduler.{module}", None)
    return {"CosineLRScheduler": loaded["cosine_lr"].CosineLRScheduler,
            "TanhLRScheduler": loaded["tanh_lr"].TanhLRScheduler,
            "StepLRScheduler": loaded["step_lr"].StepLRScheduler,
            "MultiStepLRScheduler": loaded["multistep_lr"].MultiStepLRScheduler,
            "PolyLRScheduler": loaded["poly_lr"].PolyLRScheduler}


TIMM = _load_timm_schedulers()
needs_timm = pytest.mark.skipif(TIMM is None, reason="timm is not installed")


def timm_values(name, lrs, n, **kwargs):
    import torch

    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    optimizer = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0])
    scheduler = TIMM[name](optimizer, t_in_epochs=False, **kwargs)
    return np.array([scheduler._get_lr(t) for t in range(n)], dtype=np.float64)


def exact_cycle_steps(n, t_initial, cycle_mul, offset=0.0):
    """The steps where timm's ``floor(log(...))`` cycle index is the exact one (see the module doc)."""
    if cycle_mul == 1:
        return np.arange(n)
    keep = []
    for t in range(n):
        u = t - offset
        if u < 0:
            keep.append(t)
            continue
        logged = math.floor(math.log(1 - u / t_initial * (1 - cycle_mul), cycle_mul))
        i, start, length = 0, 0.0, t_initial
        while start + length <= u:
            start, length, i = start + length, length * cycle_mul, i + 1
        if logged == i:
            keep.append(t)
    return np.array(keep)


def assert_close(ours, expected, steps, what):
    got = np.asarray(ours(steps.reshape((-1,) + (1,) * len(ours.param_shape))))
    got = np.broadcast_to(got.reshape(len(steps), -1), expected[steps].shape)
    peak = schedule_peak(ours)
    gap = np.abs(got - expected[steps])
    assert np.all(gap <= RTOL_PEAK * peak), (what, steps[np.argmax(np.max(gap, axis=1))], got, expected[steps])


CASES = [
    ("CosineLRScheduler", [1.0], 14, dict(t_initial=4, lr_min=0.1, cycle_limit=3, cycle_decay=0.5)),
    ("CosineLRScheduler", [1.0, 0.1], 60, dict(t_initial=3, cycle_mul=2.0, cycle_limit=4, warmup_t=2,
                                               warmup_lr_init=0.01, warmup_prefix=True)),
    ("CosineLRScheduler", [1.0], 80, dict(t_initial=2, cycle_mul=1.5, cycle_decay=0.8, cycle_limit=6, lr_min=0.05)),
    ("CosineLRScheduler", [0.5], 20, dict(t_initial=10, warmup_t=3, warmup_lr_init=0.1, warmup_prefix=True)),
    ("CosineLRScheduler", [0.5], 30, dict(t_initial=4, cycle_limit=5, warmup_t=8, warmup_lr_init=0.1)),  # overlay
    ("CosineLRScheduler", [0.5, 0.1], 30, dict(t_initial=10, cycle_limit=3, warmup_t=3, warmup_lr_init=0.01)),
    ("CosineLRScheduler", [1.0], 40, dict(t_initial=4, cycle_mul=2.0, cycle_limit=4, warmup_t=6, lr_min=0.05)),
    ("CosineLRScheduler", [1.0], 1200, dict(t_initial=1, cycle_mul=10.0, cycle_limit=4)),
    ("TanhLRScheduler", [1.0], 12, dict(t_initial=10)),
    ("TanhLRScheduler", [1.0, 0.2], 16, dict(t_initial=10, warmup_t=3)),  # warmup target _get_lr(3)
    ("TanhLRScheduler", [1.0], 20, dict(t_initial=6, warmup_t=3, warmup_lr_init=0.05, warmup_prefix=True,
                                        lb=-4.0, ub=2.0, lr_min=0.01)),
    ("TanhLRScheduler", [1.0], 40, dict(t_initial=4, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=3, warmup_t=2)),
    ("PolyLRScheduler", [1.0], 14, dict(t_initial=10)),
    ("PolyLRScheduler", [1.0, 0.3], 16, dict(t_initial=10, power=2.0, lr_min=0.01, warmup_t=3, warmup_lr_init=0.1)),
    ("PolyLRScheduler", [1.0], 20, dict(t_initial=5, power=1.0, warmup_t=3, warmup_prefix=True)),
    ("PolyLRScheduler", [1.0], 40, dict(t_initial=3, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=3, warmup_t=4)),
    ("StepLRScheduler", [1.0], 20, dict(decay_t=3, decay_rate=0.5)),
    ("StepLRScheduler", [1.0, 0.5], 20, dict(decay_t=2.5, decay_rate=0.5, warmup_t=3, warmup_lr_init=0.1)),
    ("StepLRScheduler", [1.0], 20, dict(decay_t=3, decay_rate=0.5, warmup_t=4, warmup_prefix=False)),
    ("StepLRScheduler", [1.0], 10, dict(decay_t=3, decay_rate=0.0, warmup_t=4, warmup_prefix=False)),
    ("StepLRScheduler", [1.0], 6, dict(decay_t=3)),
    ("MultiStepLRScheduler", [1.0], 8, dict(decay_t=[3, 5], decay_rate=0.1)),
    ("MultiStepLRScheduler", [1.0, 0.1], 12, dict(decay_t=[0, 1, 4, 4, 9], decay_rate=0.5, warmup_t=2,
                                                  warmup_lr_init=0.01)),
    ("MultiStepLRScheduler", [1.0], 12, dict(decay_t=[3, 6, 8], decay_rate=0.5, warmup_t=4, warmup_prefix=False)),
    ("MultiStepLRScheduler", [1.0], 8, dict(decay_t=[2, 4], decay_rate=3.0)),
]


@needs_timm
@pytest.mark.parametrize("name, lrs, n, kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_timm(name, lrs, n, kwargs):
    expected = timm_values(name, lrs, n, **kwargs)
    lr = lrs[0] if len(lrs) == 1 else np.array(lrs)
    ours = getattr(ct, name)(lr, **kwargs)
    offset = kwargs.get("warmup_t", 0) if kwargs.get("warmup_prefix", name.startswith(("Step", "Multi"))) else 0
    steps = exact_cycle_steps(n, kwargs.get("t_initial", 1), kwargs.get("cycle_mul", 1.0), offset)
    assert len(steps) >= n - 3
    assert_close(ours, expected, steps, f"{name}{kwargs}")


@needs_timm
def test_timm_log_cycle_index_misses_a_start():
    """t = 111 starts cycle 3 of (t_initial=1, cycle_mul=10); timm's floor(log) leaves it in cycle 2's
    trough, fastlr's exact index gives the peak."""
    expected = timm_values("CosineLRScheduler", [1.0], 112, t_initial=1, cycle_mul=10.0, cycle_limit=5)
    ours = ct.CosineLRScheduler(1.0, t_initial=1, cycle_mul=10.0, cycle_limit=5)
    assert expected[111, 0] < 1e-3 and ours(111) == 1.0
    assert expected[11, 0] == 1.0 and ours(11) == 1.0


# -------------------------------------------------------------------- documented values, without timm

GOLDEN = [
    (lambda: ct.CosineLRScheduler(1.0, t_initial=4, lr_min=0.1, cycle_limit=3, cycle_decay=0.5),
     [1, .8682, .55, .2318, .5, .4414, .3, .1586, .25, .2280, .175, .1220, .1, .1]),
    (lambda: ct.MultiStepLRScheduler(1.0, decay_t=[3, 5], decay_rate=0.1), [1, 1, .1, .1, .01, .01]),
    (lambda: ct.TanhLRScheduler(1.0, t_initial=10),
     [.999999, .999994, .999955, .999665, .997527, .982014, .880797, .5, .119203, .017986, 0]),
    (lambda: ct.TanhLRScheduler(1.0, t_initial=10, warmup_t=3), [0, .3332, .6664, .999665, .997527]),
    (lambda: ct.StepLRScheduler(1.0, decay_t=2, decay_rate=0.5, warmup_t=2, warmup_lr_init=0.2),
     [.2, .6, 1, 1, .5, .5, .25]),
]


@pytest.mark.parametrize("build, values", GOLDEN)
def test_documented_values(build, values):
    ours = build().curve(len(values))
    assert np.max(np.abs(ours - np.array(values))) < 6e-5


@pytest.mark.parametrize("call, match", [
    (lambda: ct.CosineLRScheduler(1.0, 10, k_decay=2.0), "k_decay=2"),
    (lambda: ct.CosineLRScheduler(1.0, 10, noise_range_t=(2, 5)), "noise_range_t"),
    (lambda: ct.PolyLRScheduler(1.0, 10, cycle_decay=1.5), "cycle_decay=1.5"),
    (lambda: ct.StepLRScheduler(1.0, 3, decay_rate=1.1), "growth"),
    (lambda: ct.MultiStepLRScheduler(1.0, [5, 3]), "decay_t must be sorted"),
    (lambda: ct.TanhLRScheduler(1.0, 10, lb=3.0, ub=-7.0), "lb must be < ub"),
    (lambda: ct.CosineLRScheduler(1.0, 0), "t_initial must be > 0"),
    (lambda: ct.PolyLRScheduler(1.0, 10, cycle_limit=1000), "cycle_limit=1000"),
])
def test_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
