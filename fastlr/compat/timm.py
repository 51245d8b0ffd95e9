"""timm's schedulers (``timm.scheduler``) under their own names and keyword arguments.

Each function takes ``lr`` (the group's base LR: a float, or one value per group) and timm's keyword
arguments minus ``optimizer``; the value at ``t`` is timm's ``_get_lr(t)``. ``t_in_epochs=False`` is the
default here, so ``t`` counts updates (``step_update(num_updates)``); with ``t_in_epochs=True`` it counts
epochs, and the schedule is the same function of its argument.

Translated exactly: warmup (``warmup_t``, ``warmup_lr_init``, ``warmup_prefix``; a warmup that overlays
a cycle resumes it at its phase there), cycles (``cycle_mul``, ``cycle_decay``, ``cycle_limit``).
Refused: ``k_decay != 1`` and ``noise_range_t`` (noise drawn from torch's generator), which the engine
cannot express. Cycle starts are exact: timm's
``floor(log(...))`` puts a few starts (t = 111 for ``t_initial=1, cycle_mul=10``) in the previous cycle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import describe
from ..schedules import (
    CosineRestarts,
    Join,
    Linear,
    MultiStep,
    Offset,
    PiecewiseConstant,
    Polynomial,
    Schedule,
    StepDecay,
    Tanh,
    WithWarmup,
)
from ._common import constant, lr_param, number, scaled, unsupported

__all__ = ["CosineLRScheduler", "MultiStepLRScheduler", "PolyLRScheduler", "StepLRScheduler", "TanhLRScheduler"]

ArrayLike = Any
# Poly and Tanh cycles are a join of one segment per cycle; more cycles than this are refused
MAX_CYCLES = 256


def _common(owner, lr, warmup_t, warmup_lr_init, noise_range_t, k_decay=1.0):
    lr = lr_param(owner, lr)
    warmup_t = number(owner, "warmup_t", warmup_t, minimum=0)
    warmup_lr_init = number(owner, "warmup_lr_init", warmup_lr_init, minimum=0)
    if noise_range_t is not None:
        raise unsupported(owner, f"noise_range_t={describe(noise_range_t)}", "seeded noise (timm draws it from "
                          "torch's generator)")
    if number(owner, "k_decay", k_decay) != 1:
        raise unsupported(owner, f"k_decay={k_decay:g}", "a k-decay option (t**k / T**k) in the families")
    return lr, warmup_t, warmup_lr_init


def _cycles(owner, t_initial, cycle_mul, cycle_decay, cycle_limit):
    t_initial = number(owner, "t_initial", t_initial, minimum=0, strict=True)
    cycle_mul = number(owner, "cycle_mul", cycle_mul, minimum=0, strict=True)
    cycle_decay = number(owner, "cycle_decay", cycle_decay, minimum=0, strict=True)
    cycle_limit = number(owner, "cycle_limit", cycle_limit, minimum=1, integer=True)
    if cycle_mul < 1:
        raise ValueError(f"{owner}: cycle_mul must be >= 1 (timm's cycle index is undefined below), got "
                         f"{describe(cycle_mul)}")
    if cycle_decay > 1:
        raise unsupported(owner, f"cycle_decay={cycle_decay:g} > 1", "a growing cycle_decay in the families")
    return t_initial, cycle_mul, cycle_decay, int(cycle_limit)


def _cycle_starts(t_initial, cycle_mul, count):
    starts, lengths, start, length = [], [], 0.0, t_initial
    for _ in range(count):
        starts.append(start)
        lengths.append(length)
        start += length
        length *= cycle_mul
    return starts, lengths, start


def _joined_cycles(owner, lr, lr_min, t_initial, cycle_mul, cycle_decay, cycle_limit, build, offset=0.0):
    """One segment per cycle (``build(peak, length, phase)`` from local phase ``phase``), then ``lr_min``.
    ``offset``: the cycles are seen from ``t = offset`` on (a warmup that overlays the first cycle)."""
    if cycle_limit > MAX_CYCLES:
        raise unsupported(owner, f"cycle_limit={cycle_limit} > {MAX_CYCLES}", "a restarts option in this family")
    starts, lengths, end = _cycle_starts(t_initial, cycle_mul, cycle_limit)
    parts, bounds = [], []
    for i, (start, length) in enumerate(zip(starts, lengths)):
        if start + length <= offset:
            continue
        phase = max(offset - start, 0.0)
        parts.append(build(np.multiply(lr, cycle_decay**i), length, phase))
        bounds.append(max(start - offset, 0.0))
    parts.append(constant(lr_min, lr))
    bounds.append(max(end - offset, 0.0))
    return Join(parts, bounds[1:]) if len(parts) > 1 else parts[0]


def _warmup(lr, warmup_t, warmup_lr_init, prefix, schedule, target=None):
    """timm's warmup: ``warmup_lr_init + t (target - warmup_lr_init) / warmup_t`` for ``t < warmup_t``;
    ``schedule`` runs on ``t - warmup_t`` (it already starts at the right phase)."""
    if warmup_t == 0:
        return schedule
    if target is None:
        return Join([Linear(warmup_lr_init, lr, warmup_t), schedule], [warmup_t])
    return WithWarmup(schedule, warmup_t, warmup_lr_init)


def CosineLRScheduler(lr: ArrayLike, t_initial: float, lr_min: float = 0.0, cycle_mul: float = 1.0,
                      cycle_decay: float = 1.0, cycle_limit: int = 1, warmup_t: float = 0,
                      warmup_lr_init: float = 0.0, warmup_prefix: bool = False, t_in_epochs: bool = False,
                      noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0, noise_seed: int = 42,
                      k_decay: float = 1.0, initialize: bool = True) -> Schedule:
    """SGDR as timm computes it: ``CosineRestarts(lr, t_initial, lr_min, cycle_mul, cycle_decay,
    cycle_limit)``, after a warmup ``warmup_lr_init -> lr`` over ``warmup_t`` that shifts the cycles
    (``warmup_prefix=True``). Without the prefix the warmup overlays the cycles, which continue
    unshifted from ``warmup_t`` on (the cycle in progress from its phase there)."""
    owner = "CosineLRScheduler"
    lr, warmup_t, warmup_lr_init = _common(owner, lr, warmup_t, warmup_lr_init, noise_range_t, k_decay)
    t_initial, cycle_mul, cycle_decay, cycle_limit = _cycles(owner, t_initial, cycle_mul, cycle_decay, cycle_limit)
    lr_min = number(owner, "lr_min", lr_min, minimum=0)
    cycles = CosineRestarts(lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit)
    if warmup_t == 0:
        return cycles
    if not warmup_prefix:
        # the warmup overlays the cycles: from warmup_t on they continue unshifted, the cycle in
        # progress from its phase there
        return _warmup(lr, warmup_t, warmup_lr_init, False, _joined_cycles(
            owner, lr, lr_min, t_initial, cycle_mul, cycle_decay, cycle_limit,
            lambda peak, length, phase: _cosine_from(owner, peak, length, lr_min, phase), offset=warmup_t))
    return _warmup(lr, warmup_t, warmup_lr_init, True, cycles, target="schedule")


def _cosine_from(owner, peak, length, lr_min, phase):
    cycle = CosineRestarts(peak, length, lr_min, 1.0, 1.0, 1)
    return Offset(cycle, phase) if phase > 0 else cycle


def TanhLRScheduler(lr: ArrayLike, t_initial: float, lb: float = -7.0, ub: float = 3.0, lr_min: float = 0.0,
                    cycle_mul: float = 1.0, cycle_decay: float = 1.0, cycle_limit: int = 1, warmup_t: float = 0,
                    warmup_lr_init: float = 0.0, warmup_prefix: bool = False, t_in_epochs: bool = False,
                    noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0, noise_seed: int = 42,
                    initialize: bool = True) -> Schedule:
    """``lr_min + (lr_max - lr_min)(1 - tanh(lb (1 - r) + ub r)) / 2``, ``r = t_curr / t_i``, per cycle:
    one ``Tanh`` segment per cycle (the first one re-parameterised to start at the warmup's end when the
    warmup overlays it), ``lr_min`` after ``cycle_limit`` cycles. The warmup ends at the curve's value
    (timm's target is ``_get_lr(warmup_t)`` without the prefix)."""
    owner = "TanhLRScheduler"
    lr, warmup_t, warmup_lr_init = _common(owner, lr, warmup_t, warmup_lr_init, noise_range_t)
    t_initial, cycle_mul, cycle_decay, cycle_limit = _cycles(owner, t_initial, cycle_mul, cycle_decay, cycle_limit)
    lr_min = number(owner, "lr_min", lr_min, minimum=0)
    lb, ub = number(owner, "lb", lb), number(owner, "ub", ub)
    if not lb < ub:
        raise ValueError(f"{owner}: lb must be < ub, got lb={describe(lb)}, ub={describe(ub)}")

    def segment(peak, length, phase):
        lower = lb + (ub - lb) * phase / length  # tanh's argument is affine in t: start it at the phase
        return Tanh(peak, length - phase, lr_min, lower, ub)

    offset = 0.0 if warmup_prefix else warmup_t
    cycles = _joined_cycles(owner, lr, lr_min, t_initial, cycle_mul, cycle_decay, cycle_limit, segment, offset)
    if warmup_t == 0:
        return cycles
    if warmup_prefix:
        return _warmup(lr, warmup_t, warmup_lr_init, True, cycles, target=None)
    return _warmup(lr, warmup_t, warmup_lr_init, False, cycles, target="schedule")


def PolyLRScheduler(lr: ArrayLike, t_initial: float, power: float = 0.5, lr_min: float = 0.0,
                    cycle_mul: float = 1.0, cycle_decay: float = 1.0, cycle_limit: int = 1, warmup_t: float = 0,
                    warmup_lr_init: float = 0.0, warmup_prefix: bool = False, t_in_epochs: bool = False,
                    noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0, noise_seed: int = 42,
                    k_decay: float = 1.0, initialize: bool = True) -> Schedule:
    """``lr_min + (lr_max - lr_min)(1 - t_curr / t_i) ** power`` per cycle: one ``Polynomial`` per cycle
    (the first re-parameterised when the warmup overlays it: ``(1 - (W + u)/T)**p =
    ((T - W)/T)**p (1 - u/(T - W))**p``), ``lr_min`` after ``cycle_limit`` cycles."""
    owner = "PolyLRScheduler"
    lr, warmup_t, warmup_lr_init = _common(owner, lr, warmup_t, warmup_lr_init, noise_range_t, k_decay)
    t_initial, cycle_mul, cycle_decay, cycle_limit = _cycles(owner, t_initial, cycle_mul, cycle_decay, cycle_limit)
    lr_min = number(owner, "lr_min", lr_min, minimum=0)
    power = number(owner, "power", power, minimum=0, strict=True)

    def segment(peak, length, phase):
        start = lr_min + (np.asarray(peak) - lr_min) * ((length - phase) / length) ** power
        start = start if np.ndim(start) else float(start)
        return Polynomial(start, lr_min, length - phase, power)

    offset = 0.0 if warmup_prefix else warmup_t
    cycles = _joined_cycles(owner, lr, lr_min, t_initial, cycle_mul, cycle_decay, cycle_limit, segment, offset)
    return _warmup(lr, warmup_t, warmup_lr_init, warmup_prefix, cycles,
                   target="schedule" if warmup_prefix else None)


def StepLRScheduler(lr: ArrayLike, decay_t: float, decay_rate: float = 1.0, warmup_t: float = 0,
                    warmup_lr_init: float = 0.0, warmup_prefix: bool = True, t_in_epochs: bool = False,
                    noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0, noise_seed: int = 42,
                    initialize: bool = True) -> Schedule:
    """``lr * decay_rate ** (t // decay_t)``: ``StepDecay``, after the warmup (``t - warmup_t`` with the
    prefix, the default; unshifted without it). ``decay_rate > 1`` is refused (unbounded growth)."""
    owner = "StepLRScheduler"
    lr, warmup_t, warmup_lr_init = _common(owner, lr, warmup_t, warmup_lr_init, noise_range_t)
    decay_t = number(owner, "decay_t", decay_t, minimum=0, strict=True)
    rate = number(owner, "decay_rate", decay_rate, minimum=0)
    if rate > 1:
        raise unsupported(owner, f"decay_rate={rate:g} > 1 (unbounded growth)", "a growth option in StepDecay")
    offset = 0.0 if warmup_prefix or warmup_t == 0 else warmup_t
    done = math.floor(offset / decay_t)  # whole decays before the schedule is first seen
    first_change = decay_t * (done + 1) - offset
    if rate == 0:
        body: Schedule = scaled(PiecewiseConstant([first_change], [1.0 if done == 0 else 0.0, 0.0]), lr)
    elif done == 0 and offset == 0:
        body = StepDecay(lr, decay_t, rate)
    else:
        body = Join([constant(np.multiply(lr, rate**done), lr), StepDecay(np.multiply(lr, rate ** (done + 1)),
                                                                           decay_t, rate)], [first_change])
    return _warmup(lr, warmup_t, warmup_lr_init, warmup_prefix, body)


def MultiStepLRScheduler(lr: ArrayLike, decay_t: Sequence[float], decay_rate: float = 1.0, warmup_t: float = 0,
                         warmup_lr_init: float = 0.0, warmup_prefix: bool = True, t_in_epochs: bool = False,
                         noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0,
                         noise_seed: int = 42, initialize: bool = True) -> Schedule:
    """``lr * decay_rate ** bisect_right(decay_t, t + 1)``: milestone ``m`` applies at ``t = m - 1``, one
    step before torch's ``MultiStepLR`` (timm's convention, kept). ``MultiStep`` with milestones
    ``m - 1``, after the warmup; ``decay_t`` must be sorted (timm assumes it)."""
    owner = "MultiStepLRScheduler"
    lr, warmup_t, warmup_lr_init = _common(owner, lr, warmup_t, warmup_lr_init, noise_range_t)
    if isinstance(decay_t, (str, bytes)) or not hasattr(decay_t, "__iter__"):
        raise TypeError(f"{owner}: decay_t must be a list of milestones, got {describe(decay_t)}")
    milestones = [number(owner, "decay_t", m) for m in decay_t]
    if milestones != sorted(milestones):
        raise ValueError(f"{owner}: decay_t must be sorted, got {describe(list(decay_t))}")
    rate = number(owner, "decay_rate", decay_rate, minimum=0)
    offset = 0.0 if warmup_prefix else warmup_t
    applied = [max(m - 1.0 - offset, 0.0) for m in milestones]
    if rate == 0 or rate > 1:
        values = [1.0]
        for _ in applied:
            values.append(values[-1] * rate)
        body: Schedule = scaled(PiecewiseConstant(applied, values), lr)
    else:
        body = MultiStep(lr, applied, rate)
    return _warmup(lr, warmup_t, warmup_lr_init, warmup_prefix, body)

