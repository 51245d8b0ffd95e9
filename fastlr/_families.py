"""The family table: each family's identity, stated once.

A row gives the facade class's name, the opcode of the compiled program (``docs/engine.md``), the
broadcast parameters in operand order, how the string and flag parameters encode the instruction's
``mode`` field, which list parameters form its table, and the reference formula. The facade
(``schedules.py``), the program builder and the numba backend read it; a test holds the C++ core's
opcodes and operand counts (``csrc/include/fastlr/program.hpp``) and the ``docs/engine.md`` table to it.

Adding a family: a row here, its facade class, its reference formula, its C++ header (plus one line
of dispatch) and its numba block loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import _reference


@dataclass(frozen=True)
class FamilySpec:
    """One family of the engine.

    ``modes``: ``(parameter, {value: contribution})`` pairs; the instruction's mode is the sum of the
    contributions of the parameters' values. ``table``: the list parameters concatenated into the
    instruction's table, whose length field is the length of the first of them.
    """

    name: str
    opcode: int
    operands: tuple[str, ...]
    reference: Callable[..., Any]
    modes: tuple[tuple[str, dict], ...] = ()
    table: tuple[str, ...] = ()

    def mode(self, values: dict[str, Any]) -> int:
        """The instruction's mode field for the parameter ``values``."""
        return sum(encoding[values[parameter]] for parameter, encoding in self.modes)

    def max_mode(self) -> int:
        return sum(max(encoding.values()) for _, encoding in self.modes)

    def table_values(self, values: dict[str, Any]) -> tuple[list[float], int]:
        """The instruction's table (the list parameters concatenated) and its length field."""
        if not self.table:
            return [], 0
        flat = [float(x) for name in self.table for x in values[name]]
        return flat, len(values[self.table[0]])


_STAIRCASE = (("staircase", {False: 0, True: 1}),)

FAMILIES: tuple[FamilySpec, ...] = (
    FamilySpec("Constant", 1, ("lr",), _reference.constant),
    FamilySpec("Linear", 2, ("start_lr", "end_lr", "total_steps"), _reference.linear),
    FamilySpec("StepDecay", 3, ("lr", "gamma", "step_size"), _reference.step_decay),
    FamilySpec("MultiStep", 4, ("lr", "gamma"), _reference.multi_step, table=("milestones",)),
    FamilySpec("Exponential", 5, ("lr", "gamma", "step_size", "min_lr", "max_lr"), _reference.exponential,
               _STAIRCASE),
    FamilySpec("InverseTime", 6, ("lr", "decay_rate", "decay_steps"), _reference.inverse_time, _STAIRCASE),
    FamilySpec("Polynomial", 7, ("start_lr", "end_lr", "total_steps", "power"), _reference.polynomial),
    FamilySpec("Cosine", 8, ("peak_lr", "total_steps", "min_lr"), _reference.cosine),
    FamilySpec("CosineRestarts", 9,
               ("peak_lr", "cycle_steps", "min_lr", "cycle_mult", "cycle_decay", "cycle_limit"),
               _reference.cosine_restarts),
    FamilySpec("WarmupCosine", 10, ("peak_lr", "total_steps", "warmup_steps", "min_lr", "init_lr"),
               _reference.warmup_cosine),
    FamilySpec("WarmupStableDecay", 11,
               ("peak_lr", "total_steps", "warmup_steps", "decay_steps", "min_lr", "init_lr"),
               _reference.warmup_stable_decay,
               (("decay_shape", {"linear": 0, "cosine": 1, "1-sqrt": 2, "1-square": 3}),)),
    FamilySpec("OneCycle", 12, ("max_lr", "total_steps", "pct_start", "div_factor", "final_div_factor"),
               _reference.one_cycle,
               (("anneal", {"cos": 0, "linear": 1}), ("three_phase", {False: 0, True: 2}))),
    FamilySpec("Cyclic", 13, ("base_lr", "max_lr", "step_size_up", "step_size_down", "gamma"),
               _reference.cyclic, (("mode", {"triangular": 0, "triangular2": 1, "exp_range": 2}),)),
    FamilySpec("InverseSqrt", 14, ("peak_lr", "warmup_steps", "init_lr"), _reference.inverse_sqrt),
    FamilySpec("Tanh", 15, ("peak_lr", "total_steps", "min_lr", "lower", "upper"), _reference.tanh),
    FamilySpec("PiecewiseConstant", 16, (), _reference.piecewise_constant, table=("boundaries", "values")),
    FamilySpec("PiecewiseLinear", 17, (), _reference.piecewise_linear, table=("boundaries", "values")),
)

BY_NAME: dict[str, FamilySpec] = {spec.name: spec for spec in FAMILIES}


@dataclass(frozen=True)
class CombinatorSpec:
    """An instruction that composes schedules (``docs/engine.md``, combinators)."""

    name: str
    opcode: int
    operands: tuple[str, ...]


COMBINATORS: tuple[CombinatorSpec, ...] = (
    CombinatorSpec("SHIFT", 32, ("boundary",)),
    CombinatorSpec("SELECT", 33, ("boundary",)),
    CombinatorSpec("MUL", 34, ()),
    CombinatorSpec("SCALE", 35, ("factor",)),
    CombinatorSpec("RAMP", 36, ("warmup_steps", "init_lr")),
    CombinatorSpec("ZERO", 37, ()),
)

#: operand count of every opcode (families and combinators)
OPERAND_COUNT: dict[int, int] = {spec.opcode: len(spec.operands) for spec in FAMILIES + COMBINATORS}
