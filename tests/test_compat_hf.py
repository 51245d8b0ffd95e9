"""fastlr.compat.hf.get_scheduler against transformers.get_scheduler, driven like the Trainer (the torch
driver of test_compat_torch, several parameter groups), within the oracle tests' tolerance."""

from __future__ import annotations

import numpy as np
import pytest
from test_compat_torch import assert_matches, drive

import fastlr
from fastlr.compat import hf

transformers = pytest.importorskip("transformers")


def check(name, lrs, n, warmup=None, total=None, kwargs=None, upto=None):
    live = []
    expected = drive(lambda o: transformers.get_scheduler(name, o, num_warmup_steps=warmup,
                                                          num_training_steps=total,
                                                          scheduler_specific_kwargs=kwargs), lrs, n,
                     scheduler_out=live)
    lr = lrs[0] if len(lrs) == 1 else np.array(lrs)
    ours = hf.get_scheduler(name, lr, warmup, total, kwargs, optimizer_lr=lrs[0])
    upto = n if upto is None else upto
    assert_matches(ours, expected[:upto], f"{name} W={warmup} T={total} {kwargs}")
    # the live LambdaLR: from_torch recognises transformers' own lambdas
    converted = fastlr.from_torch(live[0])
    assert converted.param_shape == (len(lrs),)
    assert_matches(converted, expected[:upto], f"from_torch {name} W={warmup} T={total} {kwargs}")
    return ours, expected


CASES = [
    ("linear", [1.0], 10, 2, 6, None),
    ("linear", [1.0, 0.1], 7, 0, 5, None),
    ("linear", [1.0], 8, 5, 3, None),  # warmup longer than the run: 0 after it
    ("linear", [1.0], 7, 0.5, 4, None),  # a warmup shorter than a step
    ("linear", [1.0], 4, 0, 1, None),
    ("cosine", [1.0, 0.5], 7, 2, 6, None),
    ("cosine", [1.0], 11, 2, 10, {"num_cycles": 1.0}),
    ("cosine", [1.0], 13, 0, 12, {"num_cycles": 0.75}),
    ("cosine", [1.0], 4, 0, 3, {"num_cycles": 2.0}),
    ("cosine_with_restarts", [1.0], 11, 0, 8, {"num_cycles": 2}),
    ("cosine_with_restarts", [1.0, 0.3], 16, 2, 12, {"num_cycles": 1.5}),
    ("cosine_with_restarts", [1.0], 8, 3, 3, None),
    ("polynomial", [1.0], 9, 2, 6, {"lr_end": 0.1, "power": 2.0}),
    ("polynomial", [1.0, 0.5], 9, 2, 6, {"lr_end": 0.1}),  # per group: normalised by defaults['lr']
    ("polynomial", [1.0], 8, 5, 3, {"lr_end": 0.1}),
    ("polynomial", [1.0], 8, 0, 4, {"lr_end": 0.1, "power": 0.0}),
    ("constant", [1.0, 0.1], 4, None, None, None),
    ("constant_with_warmup", [1.0], 6, 3, None, None),
    ("constant_with_warmup", [1.0], 3, 0, None, None),
    ("inverse_sqrt", [1.0], 40, 4, None, None),
    ("inverse_sqrt", [1.0], 20, 3, None, {"timescale": 3}),
    ("inverse_sqrt", [1.0, 0.5], 30, 4, None, {"timescale": 8}),
    ("inverse_sqrt", [1.0], 30, 6, None, {"timescale": 2.5}),
    ("inverse_sqrt", [1.0], 20, 0, None, None),  # timescale 10,000
    ("inverse_sqrt", [1.0], 20, 0, None, {"timescale": 1}),
    ("cosine_with_min_lr", [1.0], 7, 2, 6, {"min_lr_rate": 0.1}),
    ("cosine_with_min_lr", [0.5, 0.25], 9, 1, 8, {"min_lr": 0.05}),
    ("cosine_warmup_with_min_lr", [1.0], 6, 2, 6, {"min_lr_rate": 0.1}),
    ("cosine_warmup_with_min_lr", [1.0], 10, 3, 10, {"min_lr_rate": 0.1, "warmup_lr_rate": 0.2}),
    ("cosine_warmup_with_min_lr", [1.0], 8, 1, 8, {"min_lr_rate": 0.0, "warmup_lr_rate": 0.3}),
    ("cosine_warmup_with_min_lr", [1.0], 8, 1, 8, {"min_lr_rate": 0.2}),
    ("cosine_warmup_with_min_lr", [1.0], 8, 0, 8, {"min_lr_rate": 0.1}),
    ("cosine_warmup_with_min_lr", [1.0, 0.5], 12, 2.5, 10, {"min_lr_rate": 0.1}),
    ("cosine_warmup_with_min_lr", [1.0], 12, 3.5, 10, {"min_lr_rate": 0.05, "warmup_lr_rate": 0.2}),
    ("cosine_warmup_with_min_lr", [1.0], 6, 0.5, 5, {"min_lr_rate": 0.1, "warmup_lr_rate": 0.4}),
    ("warmup_stable_decay", [1.0], 12, 2, 10, {"num_decay_steps": 4, "decay_type": "linear", "min_lr_ratio": 0.1}),
    ("warmup_stable_decay", [1.0, 0.3], 12, 2, 10, {"num_decay_steps": 4, "min_lr_ratio": 0.1}),
    ("warmup_stable_decay", [1.0], 12, 2, 10, {"num_decay_steps": 4, "decay_type": "1-sqrt", "min_lr_ratio": 0.1}),
    ("warmup_stable_decay", [1.0], 12, 3, None, {"num_decay_steps": 4, "num_stable_steps": 2,
                                                 "warmup_type": "cosine", "decay_type": "cosine",
                                                 "num_cycles": 1.0}),
    ("warmup_stable_decay", [1.0], 10, 4, 8, {"num_decay_steps": 0, "warmup_type": "1-sqrt", "min_lr_ratio": 0.2}),
    ("warmup_stable_decay", [1.0], 8, 0, 6, {"num_decay_steps": 6, "decay_type": "1-sqrt"}),
]


@pytest.mark.parametrize("name, lrs, n, warmup, total, kwargs", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_transformers(name, lrs, n, warmup, total, kwargs):
    check(name, lrs, n, warmup, total, kwargs)


def test_cosine_past_the_horizon_finishes_the_half_wave_then_holds():
    """HF keeps oscillating after num_training_steps; the compat schedule is exact up to T and to the end
    of the half wave in progress there, and holds after (documented)."""
    ours, expected = check("cosine", [1.0], 16, 2, 6, None, upto=7)
    assert expected[10, 0] == pytest.approx(1.0)  # HF: back at the peak at t = 10
    assert np.all(ours.curve(16)[6:] == 0.0)


@pytest.mark.parametrize("call, match", [
    (lambda: hf.get_scheduler("reduce_lr_on_plateau", 1.0), "fastlr.plateau"),
    (lambda: hf.get_scheduler("greedy", 1.0), "fastlr.plateau"),
    (lambda: hf.get_scheduler("cosine_annealing", 1.0, 0, 10), "unknown scheduler name"),
    (lambda: hf.get_scheduler("linear", 1.0, None, 10), "requires num_warmup_steps"),
    (lambda: hf.get_scheduler("linear", 1.0, 2, None), "requires num_training_steps"),
    (lambda: hf.get_scheduler("linear", 1.0, 2, 10, {"num_cycles": 2}), "takes no scheduler_specific_kwargs"),
    (lambda: hf.get_scheduler("polynomial", 1.0, 4, 4), "divides by zero"),
    (lambda: hf.get_scheduler("polynomial", 1e-8, 0, 4), "lr_end"),
    (lambda: hf.get_scheduler("polynomial", [1.0, 0.5], 0, 4), "pass optimizer_lr"),
    (lambda: hf.get_scheduler("cosine_with_min_lr", 1.0, 0, 4), "min_lr or min_lr_rate"),
    (lambda: hf.get_scheduler("cosine_with_min_lr", 1.0, 0, 4, {"min_lr": 0.1, "min_lr_rate": 0.1}), "only one"),
    (lambda: hf.get_scheduler("warmup_stable_decay", 1.0, 2, 5, {"num_decay_steps": 4}), "must be >="),
    (lambda: hf.get_scheduler("warmup_stable_decay", 1.0, 2, None, {}), "num_decay_steps"),
    (lambda: hf.get_scheduler("warmup_stable_decay", 1.0, 2, 10, {"num_decay_steps": 2, "decay_type": "exp"}),
     "decay_type"),
])
def test_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_from_torch_refuses_other_lambdas():
    import functools

    import torch

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(TypeError, match="LambdaLR.*Formula"):
        fastlr.from_torch(torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 0.9**t))
    # a partial of a function that only looks like transformers' is not recognised
    fake = functools.partial(lambda t, num_warmup_steps: 1.0, num_warmup_steps=3)
    with pytest.raises(TypeError, match="LambdaLR"):
        fastlr.from_torch(torch.optim.lr_scheduler.LambdaLR(optimizer, fake))


def test_scheduler_type_enum_is_accepted():
    schedule = hf.get_scheduler(transformers.SchedulerType.LINEAR, 1.0, 2, 6)
    assert schedule == hf.get_scheduler("linear", 1.0, 2, 6)
