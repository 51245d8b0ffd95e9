"""Every compat translation is an ordinary schedule: each backend agrees with the numpy reference on it
(the one tolerance table), float32 included, and it survives to_dict/from_dict."""

from __future__ import annotations

import numpy as np
import pytest
from strategies import assert_agrees

import fastlr
from fastlr.compat import hf, keras, optax, timm
from fastlr.compat import torch as ct

LR = np.array([1.0, 0.25])

BUILDERS = {
    "torch.CosineAnnealingLR": lambda: ct.CosineAnnealingLR(LR, 7, 0.05, periods=3),
    "torch.SequentialLR": lambda: ct.SequentialLR(LR, [ct.LinearLR(LR, 0.1, 1.0, 5), ct.StepLR(LR, 4, 0.5)], [5]),
    "torch.ChainedScheduler": lambda: ct.ChainedScheduler(LR, [ct.ConstantLR(LR, 0.5, 3), ct.ExponentialLR(LR, 0.9)]),
    "torch.MultiStepLR growth": lambda: ct.MultiStepLR(LR, [3, 6], 2.0),
    "torch.SWALR": lambda: ct.SWALR(LR, 0.05, 6),
    "optax.piecewise_interpolate": lambda: optax.piecewise_interpolate_schedule("cosine", 1.0, {3: 2.0, 5: 0.1,
                                                                                           5.5: 3.0, 9: 1.0}),
    "optax.cosine_onecycle": lambda: optax.cosine_onecycle_schedule(17, 1.0),
    "optax.exponential growth": lambda: optax.exponential_decay(0.5, 2, 2.0, 1, True, 3.0),
    "optax.cosine exponent": lambda: optax.cosine_decay_schedule(2.0, 9, exponent=3),
    "hf.cosine_with_restarts": lambda: hf.get_scheduler("cosine_with_restarts", LR, 3, 20, {"num_cycles": 2.5}),
    "hf.warmup_stable_decay": lambda: hf.get_scheduler("warmup_stable_decay", LR, 3, 20,
                                                       {"num_decay_steps": 6, "warmup_type": "1-sqrt"}),
    "hf.cosine_warmup_with_min_lr": lambda: hf.get_scheduler("cosine_warmup_with_min_lr", 1.0, 1, 12,
                                                             {"min_lr_rate": 0.1, "warmup_lr_rate": 0.2}),
    "timm.TanhLRScheduler": lambda: timm.TanhLRScheduler(LR, 6, cycle_mul=1.5, cycle_limit=3, warmup_t=2),
    "timm.PolyLRScheduler": lambda: timm.PolyLRScheduler(LR, 5, power=2.0, warmup_t=3, cycle_limit=2),
    "keras.PolynomialDecay cycle": lambda: keras.PolynomialDecay(1.0, 4, 0.1, cycle=True, horizon=30),
    "keras.PiecewiseConstantDecay": lambda: keras.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1]),
}

STEPS = np.concatenate([np.arange(45.0), np.linspace(0, 45, 181)])


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_backends_agree(name, backend):
    schedule = BUILDERS[name]()
    steps = STEPS.reshape((-1,) + (1,) * len(schedule.param_shape))
    with fastlr.use_backend("numpy"):
        reference = schedule(steps)
    with fastlr.use_backend(backend):
        assert_agrees(schedule(steps), reference, schedule, context=f"{name} on {backend}")
        assert_agrees(schedule(steps, dtype=np.float32), reference, schedule, np.float32, context=f"{name} float32")
    assert fastlr.from_dict(schedule.to_dict()) == schedule


def test_listing_names_every_compat_function():
    from fastlr.compat import listing

    listed = dict(listing())
    assert list(listed) == [f"fastlr.compat.{n}" for n in ("torch", "optax", "hf", "timm", "keras")]
    torch_names = [name for name, _ in listed["fastlr.compat.torch"]]
    assert torch_names == sorted(ct.__all__)
    assert {"StepLR", "SWALR", "from_torch"} <= set(torch_names)
    assert [name for name, _ in listed["fastlr.compat.hf"]] == ["get_scheduler"]
    for entries in listed.values():
        for name, line in entries:
            assert line and "\n" not in line and len(line) <= 110, (name, line)


def test_import_fastlr_imports_no_anchor_library():
    import subprocess
    import sys

    code = ("import sys, fastlr, fastlr.compat.torch, fastlr.compat.optax, fastlr.compat.hf, fastlr.compat.timm, "
            "fastlr.compat.keras; fastlr.compat.listing(); "
            "print(sorted(m for m in ('torch', 'jax', 'optax', 'transformers', 'timm', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
