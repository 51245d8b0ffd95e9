"""Parameter tables for the oracle tests: each case pairs a real library's scheduler with the fastlr
schedule that the contract (docs API.md, anchor-semantics.md) says is the same curve.

A case is data only: building the table imports neither torch, jax, optax nor transformers, so the
test module can be collected (and the cases skipped) where an oracle library is absent. Each case
knows how to run its oracle (``oracle(params, n)`` -> the lr of updates 0..n-1, as float64) and how
to build the fastlr schedule (``fastlr(params)``).

Conventions mapped here (see anchor-semantics.md for the sources):

* torch: the lr of update k is ``param_groups[0]['lr']`` read before the k-th ``optimizer.step()``,
  with ``scheduler.step()`` after it; OneCycleLR is compared on ``[0, T-1]`` only (it extrapolates at
  ``T`` and raises after), CosineAnnealingLR on ``[0, T_max]`` only (it rises again after).
* optax: ``schedule(k)``, evaluated in float64 (``jax_enable_x64``) on a float64 step array;
  ``piecewise_*`` scales are cumulative, so the fastlr values are their running products.
* transformers: LambdaLR multipliers of the optimizer lr, driven like a torch scheduler; cosine is
  compared up to its horizon ``num_training_steps`` (it rises again after).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import fastlr

# ----------------------------------------------------------------------------------------------------
# the case record


@dataclass(frozen=True)
class Case:
    library: str  # "torch", "optax" or "transformers"
    name: str  # the oracle's function or class
    index: int
    params: dict[str, Any] = field(compare=False)
    n: int  # compare updates 0 .. n-1
    oracle: Callable[[dict[str, Any], int], np.ndarray] = field(compare=False, repr=False)
    fastlr: Callable[[dict[str, Any]], fastlr.Schedule] = field(compare=False, repr=False)

    @property
    def id(self) -> str:
        return f"{self.library}.{self.name}[{self.index}]"


# ----------------------------------------------------------------------------------------------------
# oracle drivers (the libraries are imported lazily, inside the drivers)


def torch_lrs(make_scheduler: Callable[[Any], Any], lr: float, n: int, momentum: float = 0.0) -> np.ndarray:
    """The lr used by each of the first ``n`` updates of a one-parameter SGD under ``make_scheduler``.

    The lr of update k is read from ``param_groups[0]['lr']`` before the k-th ``optimizer.step()``,
    and ``scheduler.step()`` follows each update except the last (so OneCycleLR never steps past T-1).
    """
    import torch

    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([param], lr=lr, momentum=momentum)
    out = np.empty(n, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = make_scheduler(optimizer)
        for k in range(n):
            out[k] = float(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if k + 1 < n:
                scheduler.step()
    return out


def enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


def optax_values(schedule: Callable, n: int) -> np.ndarray:
    """``schedule(k)`` for k = 0..n-1, evaluated by jax in float64 (``vmap`` over scalar counts: some
    optax schedules, e.g. ``piecewise_interpolate_schedule``, only accept a scalar count)."""
    import jax
    import jax.numpy as jnp

    enable_x64()
    # one padded length for every case, so that jax's per-operation compile cache is shared by all
    padded = max(1024, 1 << (n - 1).bit_length())
    steps = jnp.asarray(np.arange(padded, dtype=np.float64))
    values = np.asarray(jax.vmap(lambda c: jnp.asarray(schedule(c), dtype=jnp.float64))(steps))
    assert values.dtype == np.float64
    return np.broadcast_to(values, (padded,))[:n].copy()


# ----------------------------------------------------------------------------------------------------
# helpers for the generators


def _lr(rng) -> float:
    """A peak lr spread over several decades."""
    return float(10.0 ** rng.uniform(-5, 0.5))


def _total(rng, high: int = 300) -> int:
    """Mostly moderate lengths, with the tiny ones (1-3 steps) drawn often."""
    if rng.uniform() < 0.25:
        return int(rng.integers(1, 4))
    return int(rng.integers(1, high + 1))


def _cumulative(init: float, scales: list[float]) -> list[float]:
    values = [init]
    for scale in scales:
        values.append(scale * values[-1])  # optax: ``(1 - indicator) * scale * v``, the same product
    return values


def _cases(library, name, oracle, build, params_list, n_of) -> list[Case]:
    return [Case(library, name, i, p, int(n_of(p)), oracle, build) for i, p in enumerate(params_list)]


RANDOM_CASES = 24  # random parameter sets per oracle, on top of the hand-picked edge cases


def _random(seed: int, draw: Callable, count: int = RANDOM_CASES) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        params = draw(rng)
        if params is not None:
            out.append(params)
    return out


# ====================================================================================================
# torch.optim.lr_scheduler


def _torch_step_lr(p, n):
    import torch

    return torch_lrs(
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=p["step_size"], gamma=p["gamma"]), p["lr"], n
    )


def _torch_multistep(p, n):
    import torch

    return torch_lrs(
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=p["milestones"], gamma=p["gamma"]),
        p["lr"],
        n,
    )


def _torch_exponential(p, n):
    import torch

    return torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=p["gamma"]), p["lr"], n)


def _torch_linear(p, n):
    import torch

    return torch_lrs(
        lambda o: torch.optim.lr_scheduler.LinearLR(
            o, start_factor=p["start_factor"], end_factor=p["end_factor"], total_iters=p["total_iters"]
        ),
        p["lr"],
        n,
    )


def _torch_polynomial(p, n):
    import torch

    return torch_lrs(
        lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=p["total_iters"], power=p["power"]),
        p["lr"],
        n,
    )


def _torch_cosine(p, n):
    import torch

    return torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=p["T_max"], eta_min=p["eta_min"]),
        p["lr"],
        n,
    )


def _torch_restarts(p, n):
    import torch

    return torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            o, T_0=p["T_0"], T_mult=p["T_mult"], eta_min=p["eta_min"]
        ),
        p["lr"],
        n,
    )


def _torch_one_cycle(p, n):
    import torch

    return torch_lrs(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o,
            max_lr=p["max_lr"],
            total_steps=p["total_steps"],
            pct_start=p["pct_start"],
            anneal_strategy=p["anneal"],
            div_factor=p["div_factor"],
            final_div_factor=p["final_div_factor"],
            three_phase=p["three_phase"],
        ),
        p["max_lr"],
        n,
        momentum=0.9,
    )


def _torch_cyclic(p, n):
    import torch

    return torch_lrs(
        lambda o: torch.optim.lr_scheduler.CyclicLR(
            o,
            base_lr=p["base_lr"],
            max_lr=p["max_lr"],
            step_size_up=p["up"],
            step_size_down=p["down"],
            mode=p["mode"],
            gamma=p["gamma"],
        ),
        p["base_lr"],
        n,
        momentum=0.9,
    )


def _torch_sequential(p, n):
    import torch

    sch = torch.optim.lr_scheduler

    def make(o):
        children = []
        for kind, kw in p["children"]:
            children.append(getattr(sch, kind)(o, **kw))
        return sch.SequentialLR(o, children, milestones=p["milestones"])

    return torch_lrs(make, p["lr"], n)


def _fastlr_sequential_child(lr, kind, kw):
    if kind == "LinearLR":
        return fastlr.Linear(lr * kw["start_factor"], lr * kw["end_factor"], kw["total_iters"])
    if kind == "ConstantLR":
        return fastlr.Constant(lr * kw["factor"])  # only used while t < total_iters
    if kind == "CosineAnnealingLR":
        return fastlr.Cosine(lr, kw["T_max"], kw["eta_min"])
    if kind == "ExponentialLR":
        return fastlr.Exponential(lr, kw["gamma"])
    if kind == "StepLR":
        return fastlr.StepDecay(lr, kw["step_size"], kw["gamma"])
    if kind == "PolynomialLR":
        return fastlr.Polynomial(lr, 0.0, kw["total_iters"], kw["power"])
    raise AssertionError(kind)


def _draw_step_lr(rng):
    return {
        "lr": _lr(rng),
        "step_size": int(rng.integers(1, 40)),
        "gamma": float(rng.choice([1.0, rng.uniform(0.05, 1.0)])),
        "n": _total(rng),
    }


def _draw_multistep(rng):
    count = int(rng.integers(0, 6))
    milestones = sorted(int(m) for m in rng.integers(0, 200, size=count))
    if count >= 2 and rng.uniform() < 0.3:
        milestones[1] = milestones[0]  # repeated milestones compound
        milestones.sort()
    return {
        "lr": _lr(rng),
        "milestones": milestones,
        "gamma": float(rng.uniform(0.05, 1.0)),
        "n": _total(rng, 250),
    }


def _draw_exponential(rng):
    return {
        "lr": _lr(rng),
        "gamma": float(rng.choice([1.0, rng.uniform(0.5, 1.0), rng.uniform(0.95, 1.0)])),
        "n": _total(rng),
    }


def _draw_linear(rng):
    total = _total(rng, 200)
    return {
        "lr": _lr(rng),
        "start_factor": float(rng.choice([1.0, rng.uniform(0.01, 1.0)])),
        "end_factor": float(rng.choice([0.0, 1.0, rng.uniform(0.0, 1.0)])),
        "total_iters": total,
        "n": total + int(rng.integers(1, 20)),
    }


def _draw_polynomial(rng):
    total = _total(rng, 200)
    return {
        "lr": _lr(rng),
        "total_iters": total,
        "power": float(rng.choice([1.0, 2.0, rng.uniform(0.2, 3.0)])),
        "n": total + int(rng.integers(1, 20)),
    }


def _draw_cosine(rng):
    lr = _lr(rng)
    total = _total(rng)
    return {
        "lr": lr,
        "T_max": total,
        "eta_min": float(rng.choice([0.0, lr * rng.uniform(0, 0.5)])),
        "n": total + 1,
    }


def _draw_restarts(rng):
    lr = _lr(rng)
    return {
        "lr": lr,
        "T_0": int(rng.integers(1, 30)),
        "T_mult": int(rng.choice([1, 1, 2, 3, 4])),
        "eta_min": float(rng.choice([0.0, lr * rng.uniform(0, 0.5)])),
        "n": int(rng.integers(1, 400)),
    }


def _draw_one_cycle(rng, three_phase: bool):
    total = _total(rng)
    pct = float(rng.uniform(0.0, 0.5 if three_phase else 1.0))
    if rng.uniform() < 0.15:
        pct = float(rng.choice([0.0, 0.25, 0.3, 0.5]))  # pct_start = 1.0: see ONE_CYCLE_PCT_ONE
    if pct * total == 1.0 or pct == 1.0:  # torch divides by a zero-length first phase (ZeroDivisionError
        return None  # at t = 0); pct_start = 1.0 is in the edge cases
    return {
        "max_lr": _lr(rng),
        "total_steps": total,
        "pct_start": pct,
        "anneal": str(rng.choice(["cos", "linear"])),
        "div_factor": float(rng.uniform(1.5, 50)),
        "final_div_factor": float(10.0 ** rng.uniform(0, 5)),
        "three_phase": three_phase,
        "n": total,
    }


def _draw_cyclic(rng, mode: str):
    base = _lr(rng) * float(rng.uniform(0, 1))
    up = int(rng.integers(1, 30)) if rng.uniform() < 0.8 else float(rng.uniform(0.5, 30))
    down = None if rng.uniform() < 0.3 else int(rng.integers(0, 30))
    return {
        "base_lr": base,
        "max_lr": base + _lr(rng),
        "up": up,
        "down": down,
        "mode": mode,
        "gamma": float(rng.uniform(0.95, 1.0)) if mode == "exp_range" else 1.0,
        "n": _total(rng),
    }


def _draw_sequential(rng):
    lr = _lr(rng)
    variant = int(rng.integers(0, 3))
    m1 = int(rng.integers(0, 40)) if rng.uniform() < 0.9 else 0
    if variant == 0:  # warmup + cosine, the canonical SequentialLR use
        w = int(rng.integers(1, 40))
        tmax = _total(rng, 200)
        children = [
            ("LinearLR", {"start_factor": float(rng.uniform(0.01, 1)), "end_factor": 1.0, "total_iters": w}),
            ("CosineAnnealingLR", {"T_max": tmax, "eta_min": float(lr * rng.uniform(0, 0.3))}),
        ]
        return {"lr": lr, "children": children, "milestones": [m1], "n": m1 + tmax + 1}
    if variant == 1:  # constant factor, then exponential decay
        children = [
            ("ConstantLR", {"factor": float(rng.uniform(0.05, 1)), "total_iters": m1 + 1}),
            ("ExponentialLR", {"gamma": float(rng.uniform(0.8, 1))}),
        ]
        return {"lr": lr, "children": children, "milestones": [m1], "n": m1 + _total(rng, 200)}
    m2 = m1 + int(rng.integers(0, 60))
    children = [
        (
            "LinearLR",
            {
                "start_factor": float(rng.uniform(0.01, 1)),
                "end_factor": float(rng.uniform(0.5, 1)),
                "total_iters": int(rng.integers(1, 40)),
            },
        ),
        ("StepLR", {"step_size": int(rng.integers(1, 20)), "gamma": float(rng.uniform(0.1, 1))}),
        ("PolynomialLR", {"total_iters": int(rng.integers(1, 80)), "power": float(rng.uniform(0.5, 2))}),
    ]
    return {"lr": lr, "children": children, "milestones": [m1, m2], "n": m2 + int(rng.integers(1, 100))}


# pct_start = 1.0 (two phases): the warm-up phase ends at T - 1, so torch's closed form gives max_lr
# at t = T - 1 (its annealing phase is empty); fastlr's OneCycle returns the final lr there instead
# (the numpy reference overrides every t >= T - 1 with ``final``). Marked xfail in test_oracles.py.
ONE_CYCLE_PCT_ONE = [
    {
        "max_lr": 1.0,
        "total_steps": t,
        "pct_start": 1.0,
        "anneal": a,
        "div_factor": 25.0,
        "final_div_factor": 1e4,
        "three_phase": False,
        "n": t,
        "pct_start_one": True,
    }
    for t in (2, 10)
    for a in ("cos", "linear")
]


def torch_cases() -> list[Case]:
    cases: list[Case] = []
    step_edges = [{"lr": 1.0, "step_size": 1, "gamma": 0.5, "n": n} for n in (1, 2, 3)]
    cases += _cases(
        "torch",
        "StepLR",
        _torch_step_lr,
        lambda p: fastlr.StepDecay(p["lr"], p["step_size"], p["gamma"]),
        step_edges + _random(101, _draw_step_lr),
        lambda p: p["n"],
    )
    multistep_edges = [
        {"lr": 1.0, "milestones": [2, 5, 5], "gamma": 0.1, "n": 8},
        {"lr": 0.3, "milestones": [0], "gamma": 0.5, "n": 3},
        {"lr": 0.3, "milestones": [], "gamma": 0.5, "n": 2},
    ]
    cases += _cases(
        "torch",
        "MultiStepLR",
        _torch_multistep,
        lambda p: fastlr.MultiStep(p["lr"], p["milestones"], p["gamma"]),
        multistep_edges + _random(102, _draw_multistep),
        lambda p: p["n"],
    )
    cases += _cases(
        "torch",
        "ExponentialLR",
        _torch_exponential,
        lambda p: fastlr.Exponential(p["lr"], p["gamma"]),
        [{"lr": 1.0, "gamma": 0.5, "n": 1}, {"lr": 1.0, "gamma": 0.5, "n": 2}]
        + _random(103, _draw_exponential),
        lambda p: p["n"],
    )
    linear_edges = [
        {"lr": 1.0, "start_factor": 0.25, "end_factor": 1.0, "total_iters": t, "n": t + 3} for t in (1, 2, 3)
    ] + [{"lr": 0.5, "start_factor": 1.0, "end_factor": 0.0, "total_iters": 4, "n": 7}]
    cases += _cases(
        "torch",
        "LinearLR",
        _torch_linear,
        lambda p: fastlr.Linear(p["lr"] * p["start_factor"], p["lr"] * p["end_factor"], p["total_iters"]),
        linear_edges + _random(104, _draw_linear),
        lambda p: p["n"],
    )
    cases += _cases(
        "torch",
        "PolynomialLR",
        _torch_polynomial,
        lambda p: fastlr.Polynomial(p["lr"], 0.0, p["total_iters"], p["power"]),
        [{"lr": 1.0, "total_iters": t, "power": 2.0, "n": t + 2} for t in (1, 2, 3, 4)]
        + _random(105, _draw_polynomial),
        lambda p: p["n"],
    )
    cases += _cases(
        "torch",
        "CosineAnnealingLR",
        _torch_cosine,
        lambda p: fastlr.Cosine(p["lr"], p["T_max"], p["eta_min"]),
        [{"lr": 1.0, "T_max": t, "eta_min": e, "n": t + 1} for t in (1, 2, 3) for e in (0.0, 0.1)]
        + _random(106, _draw_cosine),
        lambda p: p["n"],
    )
    restart_edges = [
        {"lr": 1.0, "T_0": 1, "T_mult": 10, "eta_min": 0.0, "n": 1200},  # cycle starts 1, 11, 111, 1111
        {"lr": 1.0, "T_0": 1, "T_mult": 3, "eta_min": 0.0, "n": 130},  # 1, 4, 13, 40, 121
        {"lr": 1.0, "T_0": 2, "T_mult": 2, "eta_min": 0.0, "n": 9},
        {"lr": 0.5, "T_0": 1, "T_mult": 1, "eta_min": 0.1, "n": 3},
    ]
    cases += _cases(
        "torch",
        "CosineAnnealingWarmRestarts",
        _torch_restarts,
        lambda p: fastlr.CosineRestarts(p["lr"], p["T_0"], p["eta_min"], cycle_mult=p["T_mult"]),
        restart_edges + _random(107, _draw_restarts),
        lambda p: p["n"],
    )

    def one_cycle(p):
        return fastlr.OneCycle(
            p["max_lr"],
            p["total_steps"],
            pct_start=p["pct_start"],
            div_factor=p["div_factor"],
            final_div_factor=p["final_div_factor"],
            anneal=p["anneal"],
            three_phase=p["three_phase"],
        )

    one_cycle_edges = [
        {
            "max_lr": 1.0,
            "total_steps": t,
            "pct_start": pct,
            "anneal": a,
            "div_factor": 25.0,
            "final_div_factor": 1e4,
            "three_phase": three,
            "n": t,
        }
        for t in (1, 2, 3, 10)
        for pct in (0.0, 0.3, 0.25)
        for a in ("cos", "linear")
        for three in (False, True)
        if pct * t != 1.0
    ]
    cases += _cases(
        "torch",
        "OneCycleLR",
        _torch_one_cycle,
        one_cycle,
        one_cycle_edges
        + _random(108, lambda r: _draw_one_cycle(r, False))
        + _random(109, lambda r: _draw_one_cycle(r, True))
        + ONE_CYCLE_PCT_ONE,
        lambda p: p["n"],
    )

    def cyclic(p):
        return fastlr.Cyclic(p["base_lr"], p["max_lr"], p["up"], p["down"], mode=p["mode"], gamma=p["gamma"])

    cyclic_edges = [
        {"base_lr": 0.1, "max_lr": 1.0, "up": 2, "down": 3, "mode": m, "gamma": 0.9, "n": 14}
        for m in ("triangular", "triangular2", "exp_range")
    ]
    cases += _cases(
        "torch",
        "CyclicLR",
        _torch_cyclic,
        cyclic,
        cyclic_edges
        + [
            p
            for m in ("triangular", "triangular2", "exp_range")
            for p in _random(110 + len(m), lambda r, m=m: _draw_cyclic(r, m), 12)
        ],
        lambda p: p["n"],
    )

    def sequential(p):
        return fastlr.join(
            [_fastlr_sequential_child(p["lr"], kind, kw) for kind, kw in p["children"]], p["milestones"]
        )

    sequential_edges = [  # the verified vectors of anchor-semantics.md 3.14
        {
            "lr": 1.0,
            "children": [
                ("LinearLR", {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 3}),
                ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.0}),
            ],
            "milestones": [3],
            "n": 8,
        },
        {
            "lr": 1.0,
            "children": [
                ("ConstantLR", {"factor": 0.5, "total_iters": 2}),
                ("ExponentialLR", {"gamma": 0.5}),
            ],
            "milestones": [2],
            "n": 6,
        },
    ]
    cases += _cases(
        "torch",
        "SequentialLR",
        _torch_sequential,
        sequential,
        sequential_edges + _random(120, _draw_sequential),
        lambda p: p["n"],
    )
    return cases


# ====================================================================================================
# optax


def _optax_warmup_cosine(p, n):
    import optax

    return optax_values(
        optax.warmup_cosine_decay_schedule(
            init_value=p["init"],
            peak_value=p["peak"],
            warmup_steps=p["warmup"],
            decay_steps=p["decay_steps"],
            end_value=p["end"],
        ),
        n,
    )


def _optax_cosine(p, n):
    import optax

    return optax_values(optax.cosine_decay_schedule(p["init"], p["decay_steps"], alpha=p["alpha"]), n)


def _optax_exponential(p, n):
    import optax

    return optax_values(
        optax.exponential_decay(
            p["init"],
            p["transition_steps"],
            p["decay_rate"],
            transition_begin=p["begin"],
            staircase=p["staircase"],
            end_value=p["end"],
        ),
        n,
    )


def _optax_polynomial(p, n):
    import optax

    return optax_values(
        optax.polynomial_schedule(
            p["init"], p["end"], p["power"], p["transition_steps"], transition_begin=p["begin"]
        ),
        n,
    )


def _optax_piecewise_constant(p, n):
    import optax

    return optax_values(
        optax.piecewise_constant_schedule(p["init"], dict(zip(p["boundaries"], p["scales"]))), n
    )


def _optax_piecewise_linear(p, n):
    import optax

    return optax_values(
        optax.piecewise_interpolate_schedule("linear", p["init"], dict(zip(p["boundaries"], p["scales"]))), n
    )


def _optax_primitive(spec):
    import optax

    kind, kw = spec
    if kind == "constant":
        return optax.constant_schedule(kw["value"])
    if kind == "linear":
        return optax.linear_schedule(kw["init"], kw["end"], kw["steps"])
    if kind == "cosine":
        return optax.cosine_decay_schedule(kw["init"], kw["steps"], alpha=kw["alpha"])
    if kind == "exponential":
        return optax.exponential_decay(kw["init"], kw["steps"], kw["rate"], staircase=kw["staircase"])
    if kind == "polynomial":
        return optax.polynomial_schedule(kw["init"], kw["end"], kw["power"], kw["steps"])
    if kind == "warmup_cosine":
        return optax.warmup_cosine_decay_schedule(
            kw["init"], kw["peak"], kw["warmup"], kw["steps"], kw["end"]
        )
    raise AssertionError(kind)


def _fastlr_primitive(spec):
    kind, kw = spec
    if kind == "constant":
        return fastlr.Constant(kw["value"])
    if kind == "linear":
        return fastlr.Linear(kw["init"], kw["end"], kw["steps"])
    if kind == "cosine":
        return fastlr.Cosine(kw["init"], kw["steps"], kw["alpha"] * kw["init"])
    if kind == "exponential":
        return fastlr.Exponential(kw["init"], kw["rate"], kw["steps"], staircase=kw["staircase"])
    if kind == "polynomial":
        return fastlr.Polynomial(kw["init"], kw["end"], kw["steps"], kw["power"])
    if kind == "warmup_cosine":
        return fastlr.WarmupCosine(kw["peak"], kw["steps"], kw["warmup"], kw["end"], kw["init"])
    raise AssertionError(kind)


def _optax_join(p, n):
    import optax

    return optax_values(
        optax.join_schedules([_optax_primitive(s) for s in p["schedules"]], p["boundaries"]), n
    )


def _draw_warmup_cosine(rng):
    peak = _lr(rng)
    total = _total(rng)
    if total < 2 and rng.uniform() < 0.5:
        total = 2
    warmup = int(rng.integers(0, total))  # optax raises for warmup == decay_steps
    if rng.uniform() < 0.2:
        warmup = 0
    return {
        "init": float(rng.choice([0.0, peak * rng.uniform(0, 1)])),
        "peak": peak,
        "warmup": warmup,
        "decay_steps": total,
        "end": float(rng.choice([0.0, peak * rng.uniform(0, 0.5)])),
        "n": total + int(rng.integers(1, 10)),
    }


def _draw_cosine_decay(rng):
    total = _total(rng)
    return {
        "init": _lr(rng),
        "decay_steps": total,
        "alpha": float(rng.choice([0.0, rng.uniform(0, 1)])),
        "n": total + int(rng.integers(1, 10)),
    }


def _draw_optax_exponential(rng):
    init = _lr(rng)
    rate = float(rng.choice([rng.uniform(0.05, 1.0), rng.uniform(0.9, 1.0)]))
    end = None if rng.uniform() < 0.5 else float(init * rng.uniform(0, 0.8))
    return {
        "init": init,
        "transition_steps": int(rng.integers(1, 40)),
        "decay_rate": rate,
        "begin": 0 if rng.uniform() < 0.6 else int(rng.integers(1, 50)),
        "staircase": bool(rng.integers(2)),
        "end": end,
        "n": _total(rng),
    }


def _draw_optax_polynomial(rng):
    total = _total(rng, 200)
    return {
        "init": _lr(rng),
        "end": float(rng.choice([0.0, _lr(rng)])),
        "power": float(rng.choice([1.0, 2.0, rng.uniform(0.2, 4)])),
        "transition_steps": total,
        "begin": 0 if rng.uniform() < 0.6 else int(rng.integers(1, 50)),
        "n": total + int(rng.integers(1, 60)),
    }


def _draw_piecewise(rng):
    count = int(rng.integers(1, 6))
    boundaries = sorted(set(int(b) for b in rng.integers(0, 200, size=count)))
    if rng.uniform() < 0.2 and boundaries[0] != 0:
        boundaries = [0] + boundaries
    scales = [float(rng.choice([rng.uniform(0, 1), rng.uniform(0, 3), 0.1])) for _ in boundaries]
    return {
        "init": _lr(rng),
        "boundaries": boundaries,
        "scales": scales,
        "n": boundaries[-1] + int(rng.integers(1, 30)),
    }


def _fastlr_piecewise_constant(p):
    return fastlr.PiecewiseConstant(p["boundaries"], _cumulative(p["init"], p["scales"]))


def _fastlr_piecewise_linear(p):
    # optax interpolates through (0, init), (b_0, init*s_0), (b_1, init*s_0*s_1), ...; a first boundary
    # at 0 makes a jump at t = 0 (a repeated boundary in fastlr's PiecewiseLinear)
    return fastlr.PiecewiseLinear([0] + list(p["boundaries"]), _cumulative(p["init"], p["scales"]))


def _draw_primitive(rng):
    kind = str(rng.choice(["constant", "linear", "cosine", "exponential", "polynomial", "warmup_cosine"]))
    steps = int(rng.integers(1, 60))
    init = _lr(rng)
    if kind == "constant":
        return (kind, {"value": init})
    if kind == "linear":
        return (kind, {"init": init, "end": float(rng.choice([0.0, _lr(rng)])), "steps": steps})
    if kind == "cosine":
        return (kind, {"init": init, "steps": steps, "alpha": float(rng.uniform(0, 0.5))})
    if kind == "exponential":
        return (
            kind,
            {
                "init": init,
                "steps": steps,
                "rate": float(rng.uniform(0.1, 1)),
                "staircase": bool(rng.integers(2)),
            },
        )
    if kind == "polynomial":
        return (
            kind,
            {
                "init": init,
                "end": init * float(rng.uniform(0, 1)),
                "steps": steps,
                "power": float(rng.uniform(0.5, 3)),
            },
        )
    steps = max(steps, 2)
    return (
        kind,
        {
            "init": 0.0,
            "peak": init,
            "warmup": int(rng.integers(0, steps)),
            "steps": steps,
            "end": init * float(rng.uniform(0, 0.3)),
        },
    )


def _draw_join(rng):
    count = int(rng.integers(1, 5))
    schedules = [_draw_primitive(rng) for _ in range(count)]
    boundaries = sorted(int(b) for b in rng.integers(0, 120, size=count - 1))
    return {
        "schedules": schedules,
        "boundaries": boundaries,
        "n": (boundaries[-1] if boundaries else 0) + int(rng.integers(1, 80)),
    }


def optax_cases() -> list[Case]:
    cases: list[Case] = []
    wc_edges = [
        {"init": 0.0, "peak": 1.0, "warmup": 2, "decay_steps": 6, "end": 0.0, "n": 9},
        {"init": 0.0, "peak": 1.0, "warmup": 0, "decay_steps": 1, "end": 0.0, "n": 3},
        {"init": 0.1, "peak": 1.0, "warmup": 1, "decay_steps": 2, "end": 0.05, "n": 4},
        {"init": 0.1, "peak": 1.0, "warmup": 2, "decay_steps": 3, "end": 0.05, "n": 5},
    ]
    cases += _cases(
        "optax",
        "warmup_cosine_decay_schedule",
        _optax_warmup_cosine,
        lambda p: fastlr.WarmupCosine(p["peak"], p["decay_steps"], p["warmup"], p["end"], p["init"]),
        wc_edges + _random(201, _draw_warmup_cosine),
        lambda p: p["n"],
    )
    cases += _cases(
        "optax",
        "cosine_decay_schedule",
        _optax_cosine,
        lambda p: fastlr.Cosine(p["init"], p["decay_steps"], p["alpha"] * p["init"]),
        [
            {"init": 1.0, "decay_steps": 4, "alpha": 0.1, "n": 7},
            {"init": 1.0, "decay_steps": 1, "alpha": 0.0, "n": 3},
        ]
        + _random(202, _draw_cosine_decay),
        lambda p: p["n"],
    )

    def exponential(p):
        decay = fastlr.Exponential(
            p["init"],
            p["decay_rate"],
            p["transition_steps"],
            staircase=p["staircase"],
            min_lr=0.0 if p["end"] is None else p["end"],
        )
        return fastlr.join([fastlr.Constant(p["init"]), decay], [p["begin"]]) if p["begin"] else decay

    exp_edges = [
        {
            "init": 1.0,
            "transition_steps": 2,
            "decay_rate": 0.5,
            "begin": 0,
            "staircase": False,
            "end": None,
            "n": 6,
        },
        {
            "init": 1.0,
            "transition_steps": 2,
            "decay_rate": 0.5,
            "begin": 3,
            "staircase": False,
            "end": None,
            "n": 8,
        },
        {
            "init": 1.0,
            "transition_steps": 2,
            "decay_rate": 0.5,
            "begin": 0,
            "staircase": True,
            "end": 0.3,
            "n": 8,
        },
    ]
    cases += _cases(
        "optax",
        "exponential_decay",
        _optax_exponential,
        exponential,
        exp_edges + _random(203, _draw_optax_exponential),
        lambda p: p["n"],
    )

    def polynomial(p):
        decay = fastlr.Polynomial(p["init"], p["end"], p["transition_steps"], p["power"])
        return fastlr.join([fastlr.Constant(p["init"]), decay], [p["begin"]]) if p["begin"] else decay

    cases += _cases(
        "optax",
        "polynomial_schedule",
        _optax_polynomial,
        polynomial,
        [
            {"init": 1.0, "end": 0.1, "power": 1.0, "transition_steps": 4, "begin": 2, "n": 9},
            {"init": 1.0, "end": 0.0, "power": 2.0, "transition_steps": 1, "begin": 0, "n": 3},
        ]
        + _random(204, _draw_optax_polynomial),
        lambda p: p["n"],
    )
    pc_edges = [
        {"init": 1.0, "boundaries": [2, 4], "scales": [0.5, 0.1], "n": 6},
        {"init": 1.0, "boundaries": [0], "scales": [0.5], "n": 2},
    ]
    cases += _cases(
        "optax",
        "piecewise_constant_schedule",
        _optax_piecewise_constant,
        _fastlr_piecewise_constant,
        pc_edges + _random(205, _draw_piecewise),
        lambda p: p["n"],
    )
    pl_edges = [
        {"init": 1.0, "boundaries": [4, 8], "scales": [0.1, 0.1], "n": 11},
        {"init": 1.0, "boundaries": [0, 3], "scales": [0.5, 0.2], "n": 5},
        {"init": 2.0, "boundaries": [1], "scales": [0.0], "n": 3},
    ]
    cases += _cases(
        "optax",
        "piecewise_interpolate_schedule",
        _optax_piecewise_linear,
        _fastlr_piecewise_linear,
        pl_edges + _random(206, _draw_piecewise),
        lambda p: p["n"],
    )
    join_edges = [
        {
            "schedules": [("constant", {"value": 1.0}), ("linear", {"init": 0.5, "end": 0.0, "steps": 4})],
            "boundaries": [3],
            "n": 9,
        }
    ]
    cases += _cases(
        "optax",
        "join_schedules",
        _optax_join,
        lambda p: fastlr.join([_fastlr_primitive(s) for s in p["schedules"]], p["boundaries"]),
        join_edges + _random(207, _draw_join),
        lambda p: p["n"],
    )
    return cases


# ====================================================================================================
# transformers (LambdaLR multipliers of the optimizer lr)


def _hf(make, lr, n):
    return torch_lrs(make, lr, n)


def _hf_linear(p, n):
    from transformers import get_linear_schedule_with_warmup

    return _hf(lambda o: get_linear_schedule_with_warmup(o, p["warmup"], p["total"]), p["lr"], n)


def _hf_cosine(p, n):
    from transformers import get_cosine_schedule_with_warmup

    return _hf(lambda o: get_cosine_schedule_with_warmup(o, p["warmup"], p["total"]), p["lr"], n)


def _hf_polynomial(p, n):
    from transformers import get_polynomial_decay_schedule_with_warmup

    return _hf(
        lambda o: get_polynomial_decay_schedule_with_warmup(
            o, p["warmup"], p["total"], lr_end=p["lr_end"], power=p["power"]
        ),
        p["lr"],
        n,
    )


def _hf_constant(p, n):
    from transformers import get_constant_schedule_with_warmup

    return _hf(lambda o: get_constant_schedule_with_warmup(o, p["warmup"]), p["lr"], n)


def _hf_wsd(p, n):
    from transformers import get_wsd_schedule

    def make(o):
        if p["by_total"]:
            return get_wsd_schedule(
                o,
                p["warmup"],
                p["decay"],
                num_training_steps=p["warmup"] + p["stable"] + p["decay"],
                decay_type=p["decay_type"],
                min_lr_ratio=p["ratio"],
            )
        return get_wsd_schedule(
            o,
            p["warmup"],
            p["decay"],
            num_stable_steps=p["stable"],
            decay_type=p["decay_type"],
            min_lr_ratio=p["ratio"],
        )

    return _hf(make, p["lr"], n)


def _hf_inverse_sqrt(p, n):
    from transformers import get_inverse_sqrt_schedule

    return _hf(lambda o: get_inverse_sqrt_schedule(o, p["warmup"]), p["lr"], n)


def _draw_hf_warmup_total(rng, allow_equal=True):
    total = _total(rng)
    warmup = int(rng.integers(0, total + 1 if allow_equal else total))
    if rng.uniform() < 0.2:
        warmup = 0
    return total, warmup


def _draw_hf_linear(rng):
    total, warmup = _draw_hf_warmup_total(rng)
    return {"lr": _lr(rng), "warmup": warmup, "total": total, "n": total + int(rng.integers(1, 10))}


def _draw_hf_cosine(rng):
    total, warmup = _draw_hf_warmup_total(rng)
    # up to the horizon; with warmup == total HF jumps back to the peak at t = T (its cosine is not
    # clamped), fastlr holds min_lr from T: compare on [0, T) there
    n = total if warmup == total else total + 1
    return {"lr": _lr(rng), "warmup": warmup, "total": total, "n": n}


def _draw_hf_polynomial(rng):
    total, warmup = _draw_hf_warmup_total(rng, allow_equal=False)  # HF divides by zero for warmup == total
    lr = _lr(rng)
    return {
        "lr": lr,
        "warmup": warmup,
        "total": total,
        "lr_end": float(rng.choice([1e-7 * lr, lr * rng.uniform(0, 0.9)])),
        "power": float(rng.choice([1.0, 2.0, rng.uniform(0.3, 3)])),
        "n": total + int(rng.integers(1, 10)),
    }


def _draw_hf_constant(rng):
    warmup = int(rng.integers(0, 100)) if rng.uniform() < 0.8 else int(rng.integers(0, 4))
    return {"lr": _lr(rng), "warmup": warmup, "n": warmup + int(rng.integers(1, 50))}


def _draw_hf_wsd(rng, decay_type):
    warmup = int(rng.integers(0, 40)) if rng.uniform() < 0.8 else 0
    stable = int(rng.integers(0, 60))
    decay = int(rng.integers(0, 80)) if rng.uniform() < 0.9 else 0
    if warmup + stable + decay == 0:
        return None
    return {
        "lr": _lr(rng),
        "warmup": warmup,
        "stable": stable,
        "decay": decay,
        "decay_type": decay_type,
        "ratio": float(rng.choice([0.0, rng.uniform(0, 0.5)])),
        "by_total": bool(rng.integers(2)),
        "n": warmup + stable + decay + int(rng.integers(1, 10)),
    }


def _draw_hf_inverse_sqrt(rng):
    warmup = int(rng.integers(1, 100)) if rng.uniform() < 0.8 else int(rng.integers(1, 4))
    return {"lr": _lr(rng), "warmup": warmup, "n": warmup + int(rng.integers(1, 300))}


def _wsd(p):
    total = p["warmup"] + p["stable"] + p["decay"]
    floor = p["ratio"] * p["lr"]
    return fastlr.WarmupStableDecay(
        p["lr"], total, p["warmup"], p["decay"], min_lr=floor, init_lr=floor, decay_shape=p["decay_type"]
    )


def transformers_cases() -> list[Case]:
    cases: list[Case] = []
    lin_edges = [{"lr": 1.0, "warmup": w, "total": t, "n": t + 3} for t in (1, 2, 3) for w in range(t + 1)]
    lin_edges.append({"lr": 1.0, "warmup": 2, "total": 6, "n": 9})
    cases += _cases(
        "transformers",
        "get_linear_schedule_with_warmup",
        _hf_linear,
        lambda p: fastlr.WarmupStableDecay(p["lr"], p["total"], p["warmup"], p["total"] - p["warmup"]),
        lin_edges + _random(301, _draw_hf_linear),
        lambda p: p["n"],
    )
    cos_edges = [
        {"lr": 1.0, "warmup": w, "total": t, "n": t if w == t else t + 1}
        for t in (1, 2, 3)
        for w in range(t + 1)
    ] + [{"lr": 1.0, "warmup": 2, "total": 6, "n": 7}]
    cases += _cases(
        "transformers",
        "get_cosine_schedule_with_warmup",
        _hf_cosine,
        lambda p: fastlr.WarmupCosine(p["lr"], p["total"], p["warmup"]),
        cos_edges + _random(302, _draw_hf_cosine),
        lambda p: p["n"],
    )
    poly_edges = [
        {"lr": 1.0, "warmup": 2, "total": 6, "lr_end": 0.1, "power": 2.0, "n": 9},
        {"lr": 1.0, "warmup": 0, "total": 1, "lr_end": 1e-7, "power": 1.0, "n": 3},
        {"lr": 1.0, "warmup": 1, "total": 2, "lr_end": 0.5, "power": 1.0, "n": 4},
    ]
    cases += _cases(
        "transformers",
        "get_polynomial_decay_schedule_with_warmup",
        _hf_polynomial,
        lambda p: fastlr.with_warmup(
            fastlr.Polynomial(p["lr"], p["lr_end"], p["total"] - p["warmup"], p["power"]), p["warmup"]
        ),
        poly_edges + _random(303, _draw_hf_polynomial),
        lambda p: p["n"],
    )
    cases += _cases(
        "transformers",
        "get_constant_schedule_with_warmup",
        _hf_constant,
        lambda p: fastlr.with_warmup(fastlr.Constant(p["lr"]), p["warmup"]),
        [{"lr": 1.0, "warmup": w, "n": 4} for w in (0, 1, 2, 3)] + _random(304, _draw_hf_constant),
        lambda p: p["n"],
    )
    wsd_edges = [
        {
            "lr": 1.0,
            "warmup": 2,
            "stable": 2,
            "decay": 4,
            "decay_type": d,
            "ratio": 0.1,
            "by_total": False,
            "n": 10,
        }
        for d in ("linear", "cosine", "1-sqrt")
    ]
    wsd_edges += [
        {
            "lr": 1.0,
            "warmup": w,
            "stable": s,
            "decay": d,
            "decay_type": "cosine",
            "ratio": 0.2,
            "by_total": True,
            "n": w + s + d + 2,
        }
        for w, s, d in ((0, 0, 1), (1, 0, 0), (0, 1, 0), (1, 1, 1))
    ]
    cases += _cases(
        "transformers",
        "get_wsd_schedule",
        _hf_wsd,
        _wsd,
        wsd_edges
        + [
            p
            for d in ("linear", "cosine", "1-sqrt")
            for p in _random(305 + len(d), lambda r, d=d: _draw_hf_wsd(r, d), 12)
        ],
        lambda p: p["n"],
    )
    cases += _cases(
        "transformers",
        "get_inverse_sqrt_schedule",
        _hf_inverse_sqrt,
        lambda p: fastlr.InverseSqrt(p["lr"], p["warmup"]),
        [{"lr": 1.0, "warmup": w, "n": 6} for w in (1, 2, 3)] + _random(310, _draw_hf_inverse_sqrt),
        lambda p: p["n"],
    )
    return cases


ALL_CASES: list[Case] = torch_cases() + optax_cases() + transformers_cases()

LIBRARY_MODULES = {"torch": ("torch",), "optax": ("jax", "optax"), "transformers": ("torch", "transformers")}


__all__ = ["ALL_CASES", "Case", "LIBRARY_MODULES", "enable_x64", "optax_values", "torch_lrs"]
