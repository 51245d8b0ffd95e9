"""torch.optim.lr_scheduler under its own names, as fastlr schedules; ``from_torch`` for live schedulers.

Each function takes ``lr`` (the optimizer group's initial LR: a float, or an array with one value per
group) followed by the scheduler's own keyword arguments minus ``optimizer``; the returned schedule's
value at ``t`` is the group LR after ``t`` calls of ``scheduler.step()`` (torch's recursive updates are
reproduced by their closed forms, which agree to rounding). ``import fastlr.compat.torch`` does not
import torch; ``from_torch`` only inspects the scheduler it is given.

Not translated: ``LambdaLR`` and ``MultiplicativeLR`` (arbitrary Python functions: they need a formula
language), ``ReduceLROnPlateau`` (it depends on the metric).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from .._validation import describe
from ..schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    Join,
    Linear,
    MultiStep,
    Offset,
    OneCycle,
    Polynomial,
    Product,
    Scaled,
    Schedule,
    StepDecay,
)
from ._common import constant, cosine_waves, lr_param, no_resume, number, powers_table, scaled, unsupported

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "PolynomialLR",
    "SWALR",
    "SequentialLR",
    "StepLR",
    "from_torch",
]

ArrayLike = Any


def StepLR(lr: ArrayLike, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> Schedule:
    """``lr * gamma ** (t // step_size)``: ``StepDecay``. ``gamma = 0`` is a one-step table; a growing
    ``gamma > 1`` is refused (it has no bound)."""
    owner = "StepLR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    step_size = number(owner, "step_size", step_size, minimum=0, strict=True)
    gamma = number(owner, "gamma", gamma, minimum=0)
    if gamma > 1:
        raise unsupported(owner, f"gamma={gamma:g} > 1 (unbounded growth)", "a growth option in StepDecay")
    if gamma == 0:
        return powers_table(owner, lr, 0.0, [step_size])
    return StepDecay(lr, step_size, gamma)


def MultiStepLR(lr: ArrayLike, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1) -> Schedule:
    """``lr * gamma ** (number of milestones <= t)``: ``MultiStep``; milestones are sorted and repeats
    compound, as torch's ``Counter``. Any ``gamma >= 0`` (a finite table when outside ``(0, 1]``)."""
    owner = "MultiStepLR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
        raise TypeError(f"{owner}: milestones must be a list of integers, got {describe(milestones)}")
    milestones = sorted(number(owner, "milestones", m, minimum=0) for m in milestones)
    gamma = number(owner, "gamma", gamma, minimum=0)
    if gamma == 0 or gamma > 1:
        return powers_table(owner, lr, gamma, milestones)
    return MultiStep(lr, milestones, gamma)


def ConstantLR(lr: ArrayLike, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1) -> Schedule:
    """``lr * factor`` for ``t < total_iters``, ``lr`` after. ``total_iters = 0``: torch's recursive
    update scales at t = 0 and never restores, so ``lr * factor`` for ever."""
    owner = "ConstantLR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    factor = number(owner, "factor", factor, minimum=0)
    if factor > 1:
        raise ValueError(f"{owner}: factor must be in [0, 1], got {describe(factor)}")
    total_iters = number(owner, "total_iters", total_iters, minimum=0)
    if total_iters == 0:
        return scaled(Constant(factor), lr)
    if factor == 0:
        raise ValueError(f"{owner}: factor=0 with total_iters > 0: torch divides by the factor at total_iters")
    return powers_table(owner, lr * factor, 1.0 / factor, [total_iters])


def LinearLR(lr: ArrayLike, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5,
             last_epoch: int = -1) -> Schedule:
    """``lr * (s + (e - s) * min(t, T) / T)``: ``Linear``. ``total_iters = 0`` stays at ``lr * s``
    (torch's recursive update never moves)."""
    owner = "LinearLR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    start_factor = number(owner, "start_factor", start_factor, minimum=0, strict=True)
    end_factor = number(owner, "end_factor", end_factor, minimum=0)
    if start_factor > 1 or end_factor > 1:
        raise ValueError(f"{owner}: start_factor must be in (0, 1] and end_factor in [0, 1], got "
                         f"start_factor={describe(start_factor)}, end_factor={describe(end_factor)}")
    total_iters = number(owner, "total_iters", total_iters, minimum=0)
    if total_iters == 0:
        return scaled(Constant(start_factor), lr)
    return Linear(np.multiply(lr, start_factor), np.multiply(lr, end_factor), total_iters)


def ExponentialLR(lr: ArrayLike, gamma: float, last_epoch: int = -1) -> Schedule:
    """``lr * gamma ** t``: ``Exponential``. ``gamma = 0`` is ``lr`` then 0; ``gamma > 1`` grows, refused at
    the steps where it would overflow float64 (where torch reaches inf)."""
    owner = "ExponentialLR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    gamma = number(owner, "gamma", gamma, minimum=0)
    if gamma == 0:
        return powers_table(owner, lr, 0.0, [1.0])
    return Exponential(lr, gamma)


def PolynomialLR(lr: ArrayLike, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> Schedule:
    """``lr * (1 - min(t, T) / T) ** power``: ``Polynomial`` to 0. ``total_iters = 0`` or ``power = 0``
    keep ``lr`` (torch's recursive ratio is 1)."""
    owner = "PolynomialLR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    total_iters = number(owner, "total_iters", total_iters, minimum=0)
    power = number(owner, "power", power, minimum=0)
    if total_iters == 0 or power == 0:
        return constant(lr)
    return Polynomial(lr, 0.0, total_iters, power)


def CosineAnnealingLR(lr: ArrayLike, T_max: int, eta_min: float = 0.0, last_epoch: int = -1, *,
                      periods: int = 1) -> Schedule:
    """torch's cosine, which does not stop at ``T_max``: ``eta_min + (lr - eta_min)(1 + cos(pi t / T_max))/2``
    for every t, down to ``eta_min`` at ``T_max`` and back up to ``lr`` at ``2 T_max``.

    The rise is reproduced exactly for ``periods`` full periods (``t <= 2 * T_max * periods``, default one:
    the decay and the climb back); ``lr`` is held after (the value torch has at every multiple of
    ``2 T_max``). fastlr's own ``Cosine`` holds ``eta_min`` from ``T_max`` on instead. An unbounded
    periodic cosine needs engine support (see docs/migrating.md)."""
    owner = "CosineAnnealingLR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    T_max = number(owner, "T_max", T_max, minimum=0, strict=True)
    eta_min = number(owner, "eta_min", eta_min, minimum=0)
    if not isinstance(periods, numbers.Integral) or isinstance(periods, bool) or periods < 1:
        raise ValueError(f"{owner}: periods must be an integer >= 1, got {describe(periods)}")
    return cosine_waves(lr, eta_min, T_max, 2 * int(periods))


def CosineAnnealingWarmRestarts(lr: ArrayLike, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                                last_epoch: int = -1) -> Schedule:
    """SGDR as torch's ``step()`` counts it: ``CosineRestarts(lr, T_0, eta_min, cycle_mult=T_mult)``; each
    cycle start is the peak exactly (torch's ``step(epoch)`` path misplaces some, see the family)."""
    owner = "CosineAnnealingWarmRestarts"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    T_0 = number(owner, "T_0", T_0, minimum=0, strict=True, integer=True)
    T_mult = number(owner, "T_mult", T_mult, minimum=1, integer=True)
    eta_min = number(owner, "eta_min", eta_min, minimum=0)
    return CosineRestarts(lr, T_0, eta_min, cycle_mult=T_mult)


def CyclicLR(lr: ArrayLike, base_lr: ArrayLike, max_lr: ArrayLike, step_size_up: float = 2000,
             step_size_down: Optional[float] = None, mode: str = "triangular", gamma: float = 1.0,
             scale_fn=None, scale_mode: str = "cycle", cycle_momentum: bool = True,
             base_momentum: float = 0.8, max_momentum: float = 0.9, last_epoch: int = -1) -> Schedule:
    """``Cyclic(base_lr, max_lr, step_size_up, step_size_down, mode, gamma)``. torch overwrites the group
    LR with ``base_lr``, so ``lr`` only fixes the number of groups; the momentum arguments do not touch
    the LR. A custom ``scale_fn`` is refused (it needs a formula language)."""
    owner = "CyclicLR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    if scale_fn is not None:
        raise unsupported(owner, "a custom scale_fn", "fastlr.Formula (a formula language, not built yet)")
    base_lr = lr_param(owner, base_lr, "base_lr")
    max_lr = lr_param(owner, max_lr, "max_lr")
    up = number(owner, "step_size_up", step_size_up, minimum=0, strict=True)
    down = up if step_size_down is None else number(owner, "step_size_down", step_size_down, minimum=0)
    gamma = number(owner, "gamma", gamma, minimum=0, strict=True)
    if gamma > 1 and mode == "exp_range":
        raise unsupported(owner, f"gamma={gamma:g} > 1 (unbounded growth)", "a growth option in Cyclic")
    shape = np.broadcast_shapes(np.shape(lr), np.shape(base_lr), np.shape(max_lr))
    if shape:
        base_lr = np.broadcast_to(base_lr, shape).copy()
    return Cyclic(base_lr, max_lr, up, down, mode, min(gamma, 1.0) if mode != "exp_range" else gamma)


def OneCycleLR(lr: ArrayLike, max_lr: ArrayLike, total_steps: Optional[int] = None, epochs: Optional[int] = None,
               steps_per_epoch: Optional[int] = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
               cycle_momentum: bool = True, base_momentum: float = 0.85, max_momentum: float = 0.95,
               div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
               last_epoch: int = -1) -> Schedule:
    """``OneCycle(max_lr, total_steps, pct_start, div_factor, final_div_factor, anneal_strategy,
    three_phase)``; ``total_steps`` defaults to ``epochs * steps_per_epoch`` as in torch. torch writes
    ``max_lr / div_factor`` into the groups, so ``lr`` only fixes the number of groups. Defined on
    ``[0, total_steps - 1]``: torch extrapolates at ``t = total_steps`` and raises after; this schedule
    holds its final value from there."""
    owner = "OneCycleLR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    max_lr = lr_param(owner, max_lr, "max_lr")
    if total_steps is None:
        if epochs is None or steps_per_epoch is None:
            raise ValueError(f"{owner}: give total_steps, or epochs and steps_per_epoch")
        total_steps = number(owner, "epochs", epochs, minimum=0, strict=True, integer=True) * number(
            owner, "steps_per_epoch", steps_per_epoch, minimum=0, strict=True, integer=True)
    total_steps = number(owner, "total_steps", total_steps, minimum=0, strict=True, integer=True)
    shape = np.broadcast_shapes(np.shape(lr), np.shape(max_lr))
    if shape:
        max_lr = np.broadcast_to(max_lr, shape).copy()
    return OneCycle(max_lr, total_steps, pct_start, div_factor, final_div_factor, anneal_strategy, three_phase)


def SequentialLR(lr: ArrayLike, schedulers: Sequence[Schedule], milestones: Sequence[int],
                 last_epoch: int = -1) -> Schedule:
    """``join(schedulers, milestones)``: the child active from ``milestones[i-1]`` sees the local step
    ``t - milestones[i-1]`` and restarts from its own value at 0, as torch's ``SequentialLR`` does.

    The children are fastlr schedules built with the same ``lr`` (by the functions of this module);
    ``lr`` itself is only checked. A child that torch restarts with its closed form at its milestone
    (``ConstantLR``/``LinearLR``/``PolynomialLR`` with ``total_iters=0``) differs from its recursive start:
    ``from_torch`` handles that case on live schedulers."""
    owner = "SequentialLR"
    no_resume(owner, last_epoch)
    lr_param(owner, lr)
    if len(milestones) != len(schedulers) - 1:
        raise ValueError(f"{owner}: len(milestones) must be len(schedulers) - 1, got {len(milestones)} "
                         f"milestones for {len(schedulers)} schedulers")
    return Join(list(schedulers), list(milestones))


def ChainedScheduler(lr: ArrayLike, schedulers: Sequence[Schedule], optimizer=None) -> Schedule:
    """The product of the children's factors: ``lr * prod(child(t) / lr)``, as torch's chain of
    recursive schedulers multiplies their ratios. The children are fastlr schedules built with the same
    ``lr``, each of them recursive in torch (StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR,
    PolynomialLR). A child that torch evaluates in closed form (``CyclicLR``, ``OneCycleLR``,
    ``CosineAnnealingWarmRestarts``) is no factor: it overwrites the LR (as the last child it erases the
    others: use it alone; ``from_torch`` checks these rules on live schedulers)."""
    owner = "ChainedScheduler"
    lr = lr_param(owner, lr)
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError(f"{owner}: schedulers must not be empty")
    result = schedulers[0]
    for child in schedulers[1:]:
        result = Product(result, child)
    if len(schedulers) == 1:
        return result
    lr_array = np.asarray(lr, dtype=np.float64)
    with np.errstate(divide="ignore"):
        factor = np.where(lr_array > 0, lr_array ** -(len(schedulers) - 1.0), 0.0)
    return Scaled(result, factor if factor.ndim else float(factor))


def SWALR(lr: ArrayLike, swa_lr: ArrayLike, anneal_epochs: int = 10, anneal_strategy: str = "cos",
          last_epoch: int = -1) -> Schedule:
    """From ``lr`` (the group LR when SWALR takes over) to ``swa_lr`` in ``anneal_epochs`` steps, by
    cosine (``Cosine(lr, anneal_epochs, swa_lr)``) or linearly, then ``swa_lr``; ``anneal_epochs = 0``
    is ``swa_lr`` at once. After another schedule: ``join([before, SWALR(float(before(start)), ...)],
    [start])``."""
    owner = "SWALR"
    no_resume(owner, last_epoch)
    lr = lr_param(owner, lr)
    swa_lr = lr_param(owner, swa_lr, "swa_lr")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"{owner}: anneal_strategy must be 'cos' or 'linear', got {describe(anneal_strategy)}")
    anneal_epochs = number(owner, "anneal_epochs", anneal_epochs, minimum=0, integer=True)
    if anneal_epochs == 0:
        return constant(swa_lr, lr)
    if anneal_strategy == "cos":
        return Cosine(lr, anneal_epochs, swa_lr)
    return Linear(lr, swa_lr, anneal_epochs)


# ====================================================================================================
# live schedulers

_CLOSED_FORM = ("CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts", "LambdaLR")
_RECURSIVE = ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR")
_SUPPORTED = _RECURSIVE + _CLOSED_FORM[:3] + ("CosineAnnealingLR", "SWALR", "SequentialLR", "ChainedScheduler")
_MODULES = {"torch.optim.lr_scheduler", "torch.optim.swa_utils"}


def _kind(scheduler) -> str:
    cls = type(scheduler)
    name = cls.__name__
    if cls.__module__ in _MODULES and name in _SUPPORTED:
        import sys

        module = sys.modules[cls.__module__]
        if getattr(module, name, None) is cls:
            return name
    if cls.__module__ in _MODULES and name == "LambdaLR" and getattr(module_of(cls), name, None) is cls:
        if _hf_units(scheduler) is not None:
            return name
    if cls.__module__ in _MODULES and name in ("LambdaLR", "MultiplicativeLR"):
        raise TypeError(f"from_torch: cannot convert {name}: its lr_lambda is an arbitrary Python function "
                        f"(a formula language, fastlr.Formula, is needed and not built yet); transformers' "
                        f"own schedules are recognised")
    if cls.__module__ in _MODULES and name == "ReduceLROnPlateau":
        raise TypeError("from_torch: cannot convert ReduceLROnPlateau: its LR depends on the metric "
                        "(see fastlr.plateau, not built yet)")
    bases = [b.__name__ for b in cls.__mro__[1:] if b.__module__ in _MODULES and b.__name__ in _SUPPORTED]
    hint = f" (a subclass of {bases[0]}: its overrides are unknown)" if bases else ""
    raise TypeError(f"from_torch: cannot convert a {cls.__module__}.{cls.__qualname__}{hint}; supported: "
                    f"{', '.join(_SUPPORTED)}")


def module_of(cls):
    import sys

    return sys.modules.get(cls.__module__)


def _hf_units(scheduler) -> Optional[list]:
    """The multipliers of a LambdaLR made by transformers (one per group), or None."""
    from .hf import unit_from_lambda

    units = [unit_from_lambda(function) for function in getattr(scheduler, "lr_lambdas", [])]
    return units if units and all(unit is not None for unit in units) else None


def _group_values(scheduler, key: str) -> np.ndarray:
    return np.array([float(group[key]) for group in scheduler.optimizer.param_groups], dtype=np.float64)


def _base(scheduler) -> np.ndarray:
    return np.array([float(v) for v in scheduler.base_lrs], dtype=np.float64)


def _convert(scheduler, lr: Optional[np.ndarray], restart: bool) -> Schedule:
    """The schedule of ``scheduler`` from its construction. ``lr``: the LR the (recursive) scheduler
    starts from (default its base LRs); ``restart``: torch restarts it with its closed form at step 0
    (a ``SequentialLR`` child after a milestone)."""
    kind = _kind(scheduler)
    base = _base(scheduler) if lr is None and hasattr(scheduler, "base_lrs") else lr
    if kind == "StepLR":
        return StepLR(base, scheduler.step_size, scheduler.gamma)
    if kind == "MultiStepLR":
        return MultiStepLR(base, sorted(scheduler.milestones.elements()), scheduler.gamma)
    if kind == "ConstantLR":
        if restart and scheduler.total_iters == 0:
            return constant(base)  # the closed form at 0 is lr; the recursion never changes it after
        return ConstantLR(base, scheduler.factor, scheduler.total_iters)
    if kind in ("LinearLR", "PolynomialLR"):
        if restart and scheduler.total_iters == 0:
            raise ValueError(f"from_torch: {kind}(total_iters=0) inside SequentialLR: torch's closed form "
                             f"divides by zero at its milestone")
        if kind == "LinearLR":
            return LinearLR(base, scheduler.start_factor, scheduler.end_factor, scheduler.total_iters)
        return PolynomialLR(base, scheduler.total_iters, scheduler.power)
    if kind == "ExponentialLR":
        return ExponentialLR(base, scheduler.gamma)
    if kind == "CosineAnnealingLR":
        return CosineAnnealingLR(base, scheduler.T_max, scheduler.eta_min,
                                 periods=max(0, math.ceil((scheduler.last_epoch + 1) / (2 * scheduler.T_max))) + 1)
    if kind == "CosineAnnealingWarmRestarts":
        return CosineAnnealingWarmRestarts(base, scheduler.T_0, scheduler.T_mult, scheduler.eta_min)
    if kind == "CyclicLR":
        custom = getattr(scheduler, "_scale_fn_custom", None)
        if custom is not None:
            raise TypeError("from_torch: cannot convert CyclicLR with a custom scale_fn (a formula language, "
                            "fastlr.Formula, is needed and not built yet)")
        up = scheduler.step_ratio * scheduler.total_size
        return CyclicLR(base, np.asarray(scheduler.base_lrs, dtype=np.float64),
                        np.asarray(scheduler.max_lrs, dtype=np.float64), up, scheduler.total_size - up,
                        scheduler.mode, scheduler.gamma)
    if kind == "OneCycleLR":
        phases = scheduler._schedule_phases
        total = scheduler.total_steps
        pct = (phases[0]["end_step"] + 1.0) / total
        initial, peak, final = (_group_values(scheduler, k) for k in ("initial_lr", "max_lr", "min_lr"))
        return OneCycle(peak, total, pct, peak / initial, initial / final, scheduler._anneal_func_type,
                        len(phases) == 3)
    if kind == "SWALR":
        swa = _group_values(scheduler, "swa_lr")
        epochs = scheduler.anneal_epochs
        if epochs == 0:
            return constant(swa)
        step = max(scheduler._step_count - 1, 0)
        alpha = scheduler.anneal_func(max(0.0, min(1.0, step / epochs)))
        if alpha == 1:
            raise ValueError("from_torch: this SWALR has finished annealing: the LR it started from cannot "
                             "be recovered (the schedule from here on is Constant(swa_lr))")
        start = (_group_values(scheduler, "lr") - alpha * swa) / (1 - alpha)
        return SWALR(start, swa, epochs, scheduler._anneal_strategy)
    if kind == "LambdaLR":
        units = _hf_units(scheduler)
        if any(unit != units[0] for unit in units[1:]):
            raise TypeError("from_torch: cannot convert a LambdaLR whose groups follow different schedules")
        return scaled(units[0], base)
    if kind == "SequentialLR":
        children = scheduler._schedulers
        for child in children:
            if type(child).__name__ in ("SequentialLR", "ChainedScheduler"):
                raise TypeError(f"from_torch: cannot convert a SequentialLR holding a {type(child).__name__}")
        parts = [_convert(child, None, restart=i > 0) for i, child in enumerate(children)]
        return Join(parts, list(scheduler._milestones)) if len(parts) > 1 else parts[0]
    if kind == "ChainedScheduler":
        return _convert_chain(scheduler)
    raise AssertionError(kind)


def _convert_chain(scheduler) -> Schedule:
    """Recursive children multiply the LR by their own ratio at every step, so the chain is the product
    of their factors. A closed-form child overwrites the LR: as the last child it erases the others; in
    any other place the children after it multiply its value by one step's ratio, which is no product
    (refused), and a CyclicLR after another child starts from the group's earlier ``initial_lr``."""
    children = list(scheduler._schedulers)
    kinds = [_kind(child) for child in children]
    for kind in kinds:
        if kind in ("SequentialLR", "ChainedScheduler", "SWALR", "CosineAnnealingLR"):
            raise TypeError(f"from_torch: cannot convert a ChainedScheduler holding a {kind} (its update is "
                            f"not a ratio of the current LR, so the chain is not a product)")
    closed = [i for i, kind in enumerate(kinds) if kind in _CLOSED_FORM]
    if closed and closed[-1] != len(children) - 1:
        raise TypeError(f"from_torch: cannot convert a ChainedScheduler with {kinds[closed[-1]]} before other "
                        f"children: they multiply its LR by one step's ratio each step, which is not a product "
                        f"of schedules")
    if closed:
        if kinds[-1] == "CyclicLR" and len(children) > 1:
            raise TypeError("from_torch: cannot convert a ChainedScheduler ending in CyclicLR after other "
                            "children: torch starts it from the group's earlier initial_lr")
        return _convert(children[-1], None, restart=False)
    ones = np.ones(len(scheduler.optimizer.param_groups))
    result = _convert(children[0], _base(children[0]), restart=False)
    for child in children[1:]:
        result = Product(result, _convert(child, ones, restart=False))
    return result


def from_torch(scheduler, *, from_current: bool = False) -> Schedule:
    """The fastlr schedule of a live torch LR scheduler: one column per parameter group
    (``param_shape == (n_groups,)``), whose value at ``t`` is the group LR after ``t`` calls of
    ``step()`` since the scheduler was built.

    Converts StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR,
    CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR, SWALR, SequentialLR and ChainedScheduler (of
    those), and the LambdaLRs of ``transformers.get_scheduler`` (their lambdas are recognised). Anything
    else, a subclass included, is a ``TypeError`` that names its class; other LambdaLR and
    MultiplicativeLR lambdas need a formula language (not built yet).

    A ``CosineAnnealingLR`` is reproduced (rise included) for the periods up to one past its current
    position (``CosineAnnealingLR(..., periods=...)``). To continue from where the scheduler is,
    evaluate from its position:
    ``s.curve(n, start=scheduler.last_epoch)``, or hand ``s`` to ``fastlr.torch.LRScheduler`` with the same
    ``last_epoch``. ``from_current=True`` re-indexes the schedule so that ``t = 0`` is now (the value
    at ``t`` is the group LR after ``t`` more calls of ``step()``): ``fastlr.offset(s, last_epoch)``.
    """
    kind = _kind(scheduler)
    groups = len(scheduler.optimizer.param_groups)
    result = _convert(scheduler, None, restart=False)
    if result.param_shape != (groups,):
        result = Scaled(result, np.ones(groups))
    if from_current:
        position = scheduler._step_count - 1 if kind == "SWALR" else scheduler.last_epoch
        if position != 0:
            result = Offset(result, float(position))
    return result
