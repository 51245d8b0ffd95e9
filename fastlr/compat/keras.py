"""keras.optimizers.schedules under their own names and signatures, as fastlr schedules.

keras evaluates ``schedule(optimizer.iterations)``, the number of updates so far: the same 0-based
index as fastlr's ``t``. keras computes in the optimizer's float type (float32 usually); fastlr in
float64. The formulas are those of keras's documentation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Optional

from .._validation import describe
from ..schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Exponential,
    InverseTime,
    Join,
    PiecewiseConstant,
    Polynomial,
    Schedule,
    WarmupCosine,
)
from ._common import after, number, unsupported

__all__ = ["CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay",
           "PiecewiseConstantDecay", "PolynomialDecay"]


def _lr(owner: str, value) -> float:
    return number(owner, "initial_learning_rate", value, minimum=0)


def _steps(owner: str, name: str, value) -> float:
    return number(owner, name, value, minimum=0, strict=True)


def CosineDecay(initial_learning_rate: float, decay_steps: int, alpha: float = 0.0, name: str = "CosineDecay",
                warmup_target: Optional[float] = None, warmup_steps: int = 0) -> Schedule:
    """Without ``warmup_target``: ``init ((1 - alpha)(1 + cos(pi min(t, D) / D)) / 2 + alpha)``, i.e.
    ``Cosine(init, D, alpha * init)``; ``warmup_steps`` is ignored then, as in keras. With it: linear
    ``init -> warmup_target`` over ``warmup_steps``, then the cosine from ``warmup_target`` over
    ``decay_steps`` more (the total is ``W + D``): ``WarmupCosine(target, W + D, W, alpha * target, init)``."""
    owner = "CosineDecay"
    init = _lr(owner, initial_learning_rate)
    decay_steps = _steps(owner, "decay_steps", decay_steps)
    alpha = number(owner, "alpha", alpha, minimum=0)
    if warmup_target is None:
        return Cosine(init, decay_steps, alpha * init)
    target = number(owner, "warmup_target", warmup_target, minimum=0)
    warmup = number(owner, "warmup_steps", warmup_steps, minimum=0)
    return WarmupCosine(target, warmup + decay_steps, warmup, alpha * target, init)


def CosineDecayRestarts(initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                        m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay") -> Schedule:
    """SGDR: cycle ``i`` lasts ``first_decay_steps * t_mul**i``; value
    ``init ((1 - alpha) m_mul**i (1 + cos(pi f)) / 2 + alpha)``. ``m_mul`` scales the amplitude above
    the floor ``alpha * init``: ``CosineRestarts(init, D0, alpha * init, t_mul, m_mul)`` when ``alpha = 0``
    or ``m_mul = 1`` (where peak and amplitude decay agree); otherwise refused. Cycle starts are exact
    (keras's float32 ``log`` misplaces some)."""
    owner = "CosineDecayRestarts"
    init = _lr(owner, initial_learning_rate)
    first = _steps(owner, "first_decay_steps", first_decay_steps)
    t_mul = number(owner, "t_mul", t_mul, minimum=1)
    m_mul = number(owner, "m_mul", m_mul, minimum=0, strict=True)
    alpha = number(owner, "alpha", alpha, minimum=0)
    if m_mul > 1:
        raise unsupported(owner, f"m_mul={m_mul:g} > 1", "a growing cycle_decay in CosineRestarts")
    if alpha != 0 and m_mul != 1:
        raise unsupported(owner, f"alpha={alpha:g} with m_mul={m_mul:g}",
                          "an amplitude decay (above the floor) in CosineRestarts")
    return CosineRestarts(init, first, alpha * init, t_mul, m_mul)


def ExponentialDecay(initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                     name: str = "ExponentialDecay") -> Schedule:
    """``init * decay_rate ** (t / D)`` (``floor(t / D)`` if ``staircase``): ``Exponential``; no floor.
    ``decay_rate > 1`` grows (refused at the steps where it would overflow float64); 0 is ``init`` then 0."""
    owner = "ExponentialDecay"
    init = _lr(owner, initial_learning_rate)
    decay_steps = _steps(owner, "decay_steps", decay_steps)
    rate = number(owner, "decay_rate", decay_rate, minimum=0)
    if rate > 1 and init == 0:
        return PiecewiseConstant([], [0.0])  # 0 * rate ** e stays 0
    if rate == 0:
        if staircase:
            return PiecewiseConstant([decay_steps], [init, 0.0])
        # 0 ** (t / D) is 1 at t = 0 and 0 after: a jump right after 0
        return PiecewiseConstant([after(0.0)], [init, 0.0])
    return Exponential(init, rate, decay_steps, staircase)


def InverseTimeDecay(initial_learning_rate: float, decay_steps: float, decay_rate: float, staircase: bool = False,
                     name: str = "InverseTimeDecay") -> Schedule:
    """``init / (1 + decay_rate * t / D)`` (``floor(t / D)`` if ``staircase``): ``InverseTime``."""
    owner = "InverseTimeDecay"
    init = _lr(owner, initial_learning_rate)
    decay_steps = _steps(owner, "decay_steps", decay_steps)
    rate = number(owner, "decay_rate", decay_rate, minimum=0)
    return InverseTime(init, rate, decay_steps, staircase)


def PiecewiseConstantDecay(boundaries: Sequence[float], values: Sequence[float],
                           name: str = "PiecewiseConstant") -> Schedule:
    """``values[0]`` for ``t <= boundaries[0]``, ``values[i]`` for ``boundaries[i-1] < t <= boundaries[i]``,
    ``values[-1]`` after: the intervals are closed on the right, so at ``t == boundary`` keras still uses
    the old value (fastlr's ``PiecewiseConstant`` switches at the boundary). Exact as a
    ``PiecewiseConstant`` whose boundaries are the next float above keras's."""
    owner = "PiecewiseConstantDecay"
    if isinstance(boundaries, (str, bytes)) or not hasattr(boundaries, "__iter__"):
        raise TypeError(f"{owner}: boundaries must be a list of numbers, got {describe(boundaries)}")
    bounds = [number(owner, "boundaries", b) for b in boundaries]
    values = [number(owner, "values", v, minimum=0) for v in values]
    if len(values) != len(bounds) + 1:
        raise ValueError(f"{owner}: len(values) must be len(boundaries) + 1, got {len(values)} values for "
                         f"{len(bounds)} boundaries")
    if bounds != sorted(bounds):
        raise ValueError(f"{owner}: boundaries must be increasing, got {describe(list(boundaries))}")
    kept_values, kept_bounds = [values[0]], []
    for boundary, value in zip(bounds, values[1:]):
        if boundary < 0:
            kept_values[0] = value  # every t >= 0 is past it
            continue
        kept_bounds.append(after(boundary))
        kept_values.append(value)
    return PiecewiseConstant(kept_bounds, kept_values)


def PolynomialDecay(initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 1e-4,
                    power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay", *,
                    horizon: Optional[float] = None) -> Schedule:
    """``(init - end)(1 - t' / D') ** power + end``. Without ``cycle``: ``t' = min(t, D)``, ``D' = D``:
    ``Polynomial(init, end, D, power)``. With ``cycle``: ``D' = D ceil(t / D)`` (``D`` at 0), so cycle ``k``
    (``kD < t <= (k+1)D``) restarts from ``end + (init - end)(k + 1)**-power`` and reaches ``end`` at
    ``(k+1)D``; keras repeats this for ever: pass ``horizon=`` (the last step needed) and the cycles up
    to it are joined exactly (an unbounded repetition needs a periodic family)."""
    owner = "PolynomialDecay"
    init = _lr(owner, initial_learning_rate)
    decay_steps = _steps(owner, "decay_steps", decay_steps)
    end = number(owner, "end_learning_rate", end_learning_rate, minimum=0)
    power = number(owner, "power", power, minimum=0, strict=True)
    if not cycle:
        return Polynomial(init, end, decay_steps, power)
    if horizon is None:
        raise ValueError(f"{owner}: cycle=True repeats for ever; pass horizon= (the last step to reproduce)")
    horizon = number(owner, "horizon", horizon, minimum=0)
    cycles = max(1, math.ceil(horizon / decay_steps))
    if cycles > 4096:
        raise unsupported(owner, f"cycle=True over {cycles} cycles", "a periodic polynomial family")
    parts: list[Schedule] = [Polynomial(init, end, decay_steps, power)]
    bounds: list[float] = []
    for k in range(1, cycles):
        # (kD, (k+1)D]: closed on the right, so the new cycle starts just after kD
        start = end + (init - end) * (k + 1.0) ** -power
        boundary = after(k * decay_steps)
        parts.append(Polynomial(start, end, (k + 1) * decay_steps - boundary, power))
        bounds.append(boundary)
    parts.append(Constant(end))
    bounds.append(after(cycles * decay_steps))
    return Join(parts, bounds)
