"""Shared pieces of the compat translations: argument checks and exact compositions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import as_number_array, describe, require
from ..schedules import Constant, Cosine, Join, PiecewiseConstant, Scaled, Schedule

ArrayLike = Any


class Unsupported(ValueError):
    """A translation the engine cannot express exactly (raised instead of an approximation)."""


def unsupported(owner: str, what: str, need: str) -> Unsupported:
    return Unsupported(f"{owner}: {what} is not supported: it needs {need}, which fastlr does not have "
                       f"yet (no approximation is made)")


def lr_param(owner: str, value, name: str = "lr"):
    """A per-group learning rate: a float, or a read-only float64 array (one value per group), >= 0."""
    if isinstance(value, (list, tuple)):
        value = np.asarray(value, dtype=np.float64) if all(_is_number(v) for v in value) else value
    array = as_number_array(owner, name, value)
    require(owner, np.asarray(array) >= 0, f"{name} must be >= 0", {name: array})
    return array


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def number(owner: str, name: str, value, *, minimum=None, strict=False, integer=False) -> float:
    """A scalar numeric argument as a float, with a lower bound and an optional integer check."""
    if not _is_number(value):
        raise TypeError(f"{owner}: {name} must be a number, got {describe(value)} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {describe(value)}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ValueError(f"{owner}: {name} must be {'>' if strict else '>='} {minimum:g}, got {describe(value)}")
    if integer and not value.is_integer():
        raise ValueError(f"{owner}: {name} must be an integer, got {describe(value)}")
    return value


def no_resume(owner: str, last_epoch) -> None:
    if last_epoch != -1:
        raise ValueError(f"{owner}: last_epoch={describe(last_epoch)} (resuming) is not translated: the compat "
                         f"schedule is indexed from the scheduler's construction; convert the live scheduler "
                         f"with fastlr.from_torch, or evaluate the schedule from your step with "
                         f"curve(n, start=step)")


def shape_of(*values) -> tuple[int, ...]:
    return np.broadcast_shapes(*(np.shape(v) for v in values))


def constant(value, *like) -> Constant:
    """``Constant(value)`` broadcast to the shape of the per-group parameters ``like``."""
    shape = shape_of(value, *like)
    if shape:
        return Constant(np.broadcast_to(np.asarray(value, dtype=np.float64), shape).copy())
    return Constant(float(value))


def scaled(unit: Schedule, factor) -> Schedule:
    """``unit * factor``: a schedule of multipliers times the per-group learning rates."""
    if not np.shape(factor) and float(factor) == 1.0:
        return unit
    return Scaled(unit, factor)


def powers_table(owner: str, init, rate: float, boundaries: Sequence[float]) -> Schedule:
    """``init * rate**k`` after the k-th boundary: a finite table, for factors the decay families refuse
    (0, or > 1 over finitely many boundaries)."""
    values = [1.0]
    for _ in boundaries:
        values.append(values[-1] * rate)
    return scaled(PiecewiseConstant(list(boundaries), values), init)


def cosine_waves(high, low, half: float, count: int) -> Schedule:
    """``count`` alternating half cosine waves of length ``half``: high -> low, low -> high, ...

    The exact continuation of ``low + (high - low) (1 + cos(pi t / half)) / 2`` on ``[0, count * half]``;
    the value at the end of the last half-wave is held after it."""
    if count < 1:
        raise ValueError("cosine_waves: count must be >= 1")
    parts = [Cosine(high, half, low) if k % 2 == 0 else Cosine(low, half, high) for k in range(count)]
    if count == 1:
        return parts[0]
    return Join(parts, [half * k for k in range(1, count)])


def after(value: float) -> float:
    """The smallest float above ``value``: ``t < after(b)`` is exactly ``t <= b`` for float64 steps, so a
    boundary that is closed on the right (keras) becomes fastlr's half-open one without approximation."""
    return float(np.nextafter(value, math.inf))
