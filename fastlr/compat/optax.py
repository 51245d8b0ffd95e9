"""optax's schedule functions under their own names and signatures, as fastlr schedules.

optax evaluates ``schedule(count)`` with ``count`` = the number of updates so far, the same 0-based
index as fastlr's ``t``, so each function returns the schedule whose value at ``t`` is optax's value at
``count = t`` (optax computes in float32 unless jax's x64 mode is on; fastlr in float64).
Parameters are scalars, as in optax (fastlr's families take arrays too: use them directly for sweeps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

from .._validation import describe
from ..schedules import (
    Constant,
    Cosine,
    Exponential,
    Join,
    Linear,
    OneCycle,
    PiecewiseConstant,
    PiecewiseLinear,
    Polynomial,
    Product,
    Scaled,
    Schedule,
    WarmupCosine,
)
from ._common import number, unsupported

__all__ = [
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "sgdr_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]

# cosine_decay_schedule's ``exponent`` as a product of that many cosines, at most
MAX_EXPONENT = 16


def _lr(owner: str, name: str, value) -> float:
    return number(owner, name, value, minimum=0)


def _begin(owner: str, value) -> float:
    # optax falls back to 0 for a negative transition_begin
    return max(number(owner, "transition_begin", value), 0.0)


def _after(begin: float, before: Schedule, schedule: Schedule) -> Schedule:
    return schedule if begin <= 0 else Join([before, schedule], [begin])


def constant_schedule(value: float) -> Schedule:
    """``value`` at every count."""
    return Constant(_lr("constant_schedule", "value", value))


def polynomial_schedule(init_value: float, end_value: float, power: float, transition_steps: int,
                        transition_begin: int = 0) -> Schedule:
    """``(init - end) * (1 - clip(t - begin, 0, T) / T) ** power + end``: ``Polynomial`` after a hold
    of ``transition_begin``. ``transition_steps <= 0`` or ``power = 0`` is the constant ``init_value``."""
    owner = "polynomial_schedule"
    init = _lr(owner, "init_value", init_value)
    end = _lr(owner, "end_value", end_value)
    steps = number(owner, "transition_steps", transition_steps)
    power = number(owner, "power", power, minimum=0)
    begin = _begin(owner, transition_begin)
    if steps <= 0 or power == 0:
        return Constant(init)
    return _after(begin, Constant(init), Polynomial(init, end, steps, power))


def linear_schedule(init_value: float, end_value: float, transition_steps: int,
                    transition_begin: int = 0) -> Schedule:
    """``polynomial_schedule`` with power 1: ``Linear`` after a hold of ``transition_begin``."""
    owner = "linear_schedule"
    init = _lr(owner, "init_value", init_value)
    end = _lr(owner, "end_value", end_value)
    steps = number(owner, "transition_steps", transition_steps)
    begin = _begin(owner, transition_begin)
    if steps <= 0:
        return Constant(init)
    return _after(begin, Constant(init), Linear(init, end, steps))


def _boundaries(owner: str, mapping: Optional[Mapping]) -> list[tuple[float, float]]:
    if mapping is None:
        return []
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{owner}: boundaries_and_scales must be a dict {{step: scale}}, got {describe(mapping)}")
    items = sorted((number(owner, "boundary", b), number(owner, "scale", s)) for b, s in mapping.items())
    for _, scale in items:
        if scale < 0:
            raise ValueError(f"{owner}: scales must be >= 0, got {describe(scale)}")
    return items


def piecewise_constant_schedule(init_value: float, boundaries_and_scales: Optional[Mapping[int, float]] = None
                                ) -> Schedule:
    """``init * prod(scale_i for boundary_i <= t)``: the scales are cumulative, and apply at
    ``t == boundary``. A ``PiecewiseConstant`` of the running products."""
    owner = "piecewise_constant_schedule"
    value = _lr(owner, "init_value", init_value)
    boundaries, values = [], []
    for boundary, scale in _boundaries(owner, boundaries_and_scales):
        if boundary <= 0:
            value = value * scale  # already applied at t = 0
            continue
        boundaries.append(boundary)
        values.append(value)
        value = value * scale
    return PiecewiseConstant(boundaries, values + [value])


def _interpolation_points(owner, init_value, boundaries_and_scales):
    init = _lr(owner, "init_value", init_value)
    items = _boundaries(owner, boundaries_and_scales)
    for boundary, _ in items:
        if boundary < 0:
            raise ValueError(f"{owner}: boundaries must be >= 0, got {describe(boundary)}")
    bounds, values = [0.0], [init]
    for boundary, scale in items:
        bounds.append(boundary)
        values.append(values[-1] * scale)
    return bounds, values


def piecewise_interpolate_schedule(interpolate_type: str, init_value: float,
                                   boundaries_and_scales: Optional[Mapping[int, float]] = None) -> Schedule:
    """Interpolation through ``(0, init)``, ``(b_i, init * prod(scales up to i))``, linear or cosine
    (``end + (start - end) (1 + cos(pi p)) / 2``), holding the last value after the last boundary.

    As in optax, an interval shorter than one step interpolates with denominator 1 (it is cut before it
    reaches its end value), and an empty one is a jump. Linear is a ``PiecewiseLinear`` when no interval
    is shorter than one step; otherwise (and for cosine) a ``join`` of one segment per interval."""
    owner = "piecewise_interpolate_schedule"
    if interpolate_type not in ("linear", "cosine"):
        raise ValueError(f"{owner}: interpolate_type must be 'linear' or 'cosine', got {describe(interpolate_type)}")
    bounds, values = _interpolation_points(owner, init_value, boundaries_and_scales)
    return _interpolate(interpolate_type, bounds, values)


def _interpolate(kind: str, bounds: list[float], values: list[float]) -> Schedule:
    sizes = [b - a for a, b in zip(bounds, bounds[1:])]
    if kind == "linear" and all(size >= 1 or size == 0 for size in sizes):
        return PiecewiseLinear(bounds, values)
    parts, starts = [], []
    for i, size in enumerate(sizes):
        if size == 0:
            continue
        span = max(size, 1.0)
        start, end = values[i], values[i + 1]
        parts.append(Linear(start, end, span) if kind == "linear" else Cosine(start, span, end))
        starts.append(bounds[i])
    parts.append(Constant(values[-1]))
    starts.append(bounds[-1])
    if starts[0] > 0:  # intervals from 0 all empty: the value at 0 is already a later point's
        parts.insert(0, Constant(values[0]))
        starts.insert(0, 0.0)
    return Join(parts, starts[1:]) if len(parts) > 1 else parts[0]


def _onecycle_args(owner, transition_steps, peak_value, div_factor, final_div_factor):
    """The checked arguments the two one-cycle schedules share: (steps, peak, div, final_div)."""
    steps = number(owner, "transition_steps", transition_steps)
    if steps <= 0:
        raise ValueError(f"{owner}: transition_steps must be > 0, got {describe(transition_steps)}")
    peak = _lr(owner, "peak_value", peak_value)
    div = number(owner, "div_factor", div_factor, minimum=0, strict=True)
    final_div = number(owner, "final_div_factor", final_div_factor, minimum=0, strict=True)
    return steps, peak, div, final_div


def linear_onecycle_schedule(transition_steps: int, peak_value: float, pct_start: float = 0.3,
                             pct_final: float = 0.85, div_factor: float = 25.0,
                             final_div_factor: float = 1e4) -> Schedule:
    """Three linear phases through ``peak/div`` (t = 0), ``peak`` (``int(pct_start T)``), ``peak/div``
    (``int(pct_final T)``) and ``peak/(div * final_div)`` (T), held after: a ``PiecewiseLinear``."""
    steps, peak, div, final_div = _onecycle_args("linear_onecycle_schedule", transition_steps, peak_value,
                                                 div_factor, final_div_factor)
    table = {int(pct_start * steps): div, int(pct_final * steps): 1.0 / div, transition_steps: 1.0 / final_div}
    return piecewise_interpolate_schedule("linear", peak / div, table)


def cosine_onecycle_schedule(transition_steps: int, peak_value: float, pct_start: float = 0.3,
                             div_factor: float = 25.0, final_div_factor: float = 1e4) -> Schedule:
    """Cosine from ``peak/div`` to ``peak`` at ``P = int(pct_start T)``, then to ``peak/(div final_div)``
    at ``T``, held after.

    This is torch's convention shifted by one: ``OneCycle(peak, total_steps=T + 1,
    pct_start=(P + 1)/(T + 1), div, final_div)`` (e.g. optax's ``cosine_onecycle(5, pct_start=0.4)`` is
    ``OneCycle(total_steps=6, pct_start=0.5)``), which is what this returns when ``0 < P < T``; an empty
    phase (``P = 0``, or ``P = T`` where optax's dict keeps only the last scale) is a join of segments."""
    steps, peak, div, final_div = _onecycle_args("cosine_onecycle_schedule", transition_steps, peak_value,
                                                 div_factor, final_div_factor)
    turn = int(pct_start * steps)
    if 0 < turn < steps and float(steps).is_integer():
        return OneCycle(peak, steps + 1, (turn + 1) / (steps + 1), div, final_div)
    table = {turn: div, int(steps): 1.0 / (div * final_div)}
    return piecewise_interpolate_schedule("cosine", peak / div, table)


def exponential_decay(init_value: float, transition_steps: int, decay_rate: float, transition_begin: int = 0,
                      staircase: bool = False, end_value: Optional[float] = None) -> Schedule:
    """``init * rate ** ((t - begin) / T)`` for ``t > begin`` (the exponent floored if ``staircase``),
    ``init`` before; ``end_value`` bounds it (below for a decay, above for growth).

    ``transition_steps <= 0`` or ``decay_rate == 0``: the constant ``init`` (optax's rule). Growth
    (``decay_rate > 1``) is ``Exponential``'s, capped by ``end_value``; an uncapped growth is refused
    at the steps where it would overflow float64 (where optax returns inf)."""
    owner = "exponential_decay"
    init = _lr(owner, "init_value", init_value)
    steps = number(owner, "transition_steps", transition_steps)
    rate = number(owner, "decay_rate", decay_rate, minimum=0)
    begin = _begin(owner, transition_begin)
    end = None if end_value is None else number(owner, "end_value", end_value)
    if steps <= 0 or rate == 0:
        return Constant(init)
    if rate < 1:
        if end is not None and end >= init:
            return Constant(end)  # max(value, end): the bound wins everywhere
        floor = 0.0 if end is None else max(end, 0.0)
        return _after(begin, Constant(init), Exponential(init, rate, steps, staircase, floor))
    if end is not None:
        if end < 0:
            raise ValueError(f"{owner}: end_value must be >= 0, got {describe(end)}")
        if end <= init or rate == 1:
            return Constant(min(init, end))  # min(value, end) with value >= init
    if rate == 1 or init == 0:
        return Constant(init)  # 0 * rate ** e stays 0
    return _after(begin, Constant(init), Exponential(init, rate, steps, staircase, 0.0, max_lr=end))


def _cosine_decay(owner: str, init: float, decay_steps: float, alpha: float, exponent: float) -> Schedule:
    if not decay_steps > 0:
        raise ValueError(f"{owner}: decay_steps must be > 0, got {describe(decay_steps)}")
    if exponent == 0:
        return Constant(init)
    if exponent == 1:
        return Cosine(init, decay_steps, alpha * init)
    if alpha != 0 or not float(exponent).is_integer() or not 1 <= exponent <= MAX_EXPONENT:
        raise unsupported(owner, f"exponent={exponent:g} with alpha={alpha:g}",
                          "a power option in Cosine (only integer exponents with alpha = 0 are exact, as "
                          "products of cosines)")
    result: Schedule = Cosine(1.0, decay_steps)
    for _ in range(int(exponent) - 1):
        result = Product(result, Cosine(1.0, decay_steps))
    return Scaled(result, init)


def cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0,
                          exponent: float = 1.0) -> Schedule:
    """``init * ((1 - alpha) * c ** exponent + alpha)``, ``c = (1 + cos(pi min(t, D) / D)) / 2``:
    ``Cosine(init, D, alpha * init)`` for exponent 1; an integer exponent with ``alpha = 0`` is a product
    of cosines; other exponents are refused (the family has no power)."""
    owner = "cosine_decay_schedule"
    init = _lr(owner, "init_value", init_value)
    alpha = number(owner, "alpha", alpha, minimum=0)
    exponent = number(owner, "exponent", exponent, minimum=0)
    return _cosine_decay(owner, init, number(owner, "decay_steps", decay_steps), alpha, exponent)


def warmup_cosine_decay_schedule(init_value: float, peak_value: float, warmup_steps: int, decay_steps: int,
                                 end_value: float = 0.0, exponent: float = 1.0) -> Schedule:
    """Linear ``init -> peak`` over ``warmup_steps``, then cosine to ``end_value`` at ``decay_steps``
    (which includes the warmup): ``WarmupCosine(peak, decay_steps, warmup_steps, end_value, init)``.
    ``peak_value = 0`` ignores ``end_value``, as optax does; ``decay_steps == warmup_steps`` is a
    ValueError (optax's too)."""
    owner = "warmup_cosine_decay_schedule"
    init = _lr(owner, "init_value", init_value)
    peak = _lr(owner, "peak_value", peak_value)
    warmup = number(owner, "warmup_steps", warmup_steps, minimum=0)
    total = number(owner, "decay_steps", decay_steps)
    end = _lr(owner, "end_value", end_value)
    exponent = number(owner, "exponent", exponent, minimum=0)
    if not total > warmup:
        raise ValueError(f"{owner}: decay_steps must be > warmup_steps, got decay_steps={describe(total)}, "
                         f"warmup_steps={describe(warmup)}")
    if peak == 0:
        end = 0.0
    if exponent == 1:
        return WarmupCosine(peak, total, warmup, end, init)
    decay = _cosine_decay(owner, peak, total - warmup, end / peak if peak else 0.0, exponent)
    if warmup == 0:
        return decay
    return Join([Linear(init, peak, warmup), decay], [warmup])


def warmup_exponential_decay_schedule(init_value: float, peak_value: float, warmup_steps: int,
                                      transition_steps: int, decay_rate: float, transition_begin: int = 0,
                                      staircase: bool = False, end_value: Optional[float] = None) -> Schedule:
    """Linear ``init -> peak`` over ``warmup_steps``, then ``exponential_decay(peak, ...)`` on the local
    count ``t - warmup_steps``."""
    owner = "warmup_exponential_decay_schedule"
    init = _lr(owner, "init_value", init_value)
    peak = _lr(owner, "peak_value", peak_value)
    warmup = number(owner, "warmup_steps", warmup_steps, minimum=0)
    decay = exponential_decay(peak, transition_steps, decay_rate, transition_begin, staircase, end_value)
    if warmup == 0:
        return decay  # optax's empty linear warmup is joined at 0: the decay from the first count
    return Join([Linear(init, peak, warmup), decay], [warmup])


def sgdr_schedule(cosine_kwargs: Sequence[Mapping[str, Any]]) -> Schedule:
    """A join of ``warmup_cosine_decay_schedule(**kwargs)`` cycles, each starting where the previous
    one's ``decay_steps`` ends; the last cycle's end value is held."""
    owner = "sgdr_schedule"
    if not cosine_kwargs:
        raise ValueError(f"{owner}: cosine_kwargs must not be empty")
    schedules, boundaries, step = [], [], 0.0
    for kwargs in cosine_kwargs:
        schedules.append(warmup_cosine_decay_schedule(**kwargs))
        step += number(owner, "decay_steps", kwargs["decay_steps"])
        boundaries.append(step)
    return Join(schedules, boundaries[:-1]) if len(schedules) > 1 else schedules[0]


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """``schedules[i + 1]`` from ``boundaries[i]`` on, on the local count ``t - boundaries[i]``: ``join``."""
    return Join(list(schedules), list(boundaries))
