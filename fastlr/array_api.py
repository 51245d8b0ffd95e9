"""Schedules on the arrays of any Array API library (torch on any device, JAX, CuPy, ...).

``schedule(t)`` already routes a non-numpy ``t`` here: the result is an array of ``t``'s library, on
``t``'s device, computed by that library's operations (torch CPU tensors go through the C++ core
instead, zero-copy, and come back as tensors). This module adds what a call cannot express:

``evaluate(schedule, t, params={"peak_lr": x})`` replaces array parameters by arrays of ``t``'s
library (a device tensor, a JAX tracer), so that they live on the device or carry gradients.

Gradients (JAX, torch autograd) flow through every numeric parameter, as the derivative of the
piecewise formula of ``fastlr/_reference.py`` at that point: linear in the learning rates (``peak_lr``,
``min_lr``, ``init_lr``, ``start_lr``, ``end_lr``, ``max_lr``, ``base_lr``, ``lr``, ``factor``);
smooth in ``gamma``, ``power``, ``decay_rate``, ``total_steps``, ``warmup_steps``, ``decay_steps``,
``lower``/``upper`` away from phase boundaries; zero through a floor (``step_size`` of staircases,
CosineRestarts' cycle index). List parameters (milestones, boundaries, values) are constants.

Replacement arrays must have the shape of the parameter they replace; concrete ones must be finite.
The family rules (``warmup_steps <= total_steps``, ...) are checked on the schedule's own values, not on
replacements (a traced value has none to check).
"""

from __future__ import annotations

from typing import Any, Optional

from . import _array_api

__all__ = ["evaluate", "parameter_names"]


def evaluate(schedule, t, *, params: Optional[dict[str, Any]] = None, out=None, dtype: Any = None):
    """``schedule(t)`` computed with the operations of ``t``'s library, with ``params`` replacing
    array parameters by name (a name shared by several parts replaces all of them, if they hold the
    same value). ``out=``: an array of the same library and device (torch, CuPy: written in place)."""
    return _array_api.call(schedule, t, out, dtype, params)


def parameter_names(schedule) -> tuple[str, ...]:
    """The names ``params=`` accepts for ``schedule``."""
    return tuple(sorted(_array_api.operand_names(schedule._program())))
