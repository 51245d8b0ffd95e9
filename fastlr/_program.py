"""Compiled form of a schedule: the flat program that the C++ core and numba interpret.

See ``docs/engine.md``. A schedule compiles once (lazily) into a :class:`Program`; the facade asks the
program for the strides of its operands against an output shape and hands both to a backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._families import BY_NAME as _BY_NAME
from ._families import COMBINATORS

_COMBINATOR = {spec.name: spec for spec in COMBINATORS}

INSTRUCTION_WIDTH = 16
FIELD_OPERANDS = 8
MAX_OPERANDS = INSTRUCTION_WIDTH - FIELD_OPERANDS

# The opcodes by name, read from the family table (_families.py states each once).
CONSTANT = _BY_NAME["Constant"].opcode
LINEAR = _BY_NAME["Linear"].opcode
STEP_DECAY = _BY_NAME["StepDecay"].opcode
MULTI_STEP = _BY_NAME["MultiStep"].opcode
EXPONENTIAL = _BY_NAME["Exponential"].opcode
INVERSE_TIME = _BY_NAME["InverseTime"].opcode
POLYNOMIAL = _BY_NAME["Polynomial"].opcode
COSINE = _BY_NAME["Cosine"].opcode
COSINE_RESTARTS = _BY_NAME["CosineRestarts"].opcode
WARMUP_COSINE = _BY_NAME["WarmupCosine"].opcode
WARMUP_STABLE_DECAY = _BY_NAME["WarmupStableDecay"].opcode
ONE_CYCLE = _BY_NAME["OneCycle"].opcode
CYCLIC = _BY_NAME["Cyclic"].opcode
INVERSE_SQRT = _BY_NAME["InverseSqrt"].opcode
TANH = _BY_NAME["Tanh"].opcode
PIECEWISE_CONSTANT = _BY_NAME["PiecewiseConstant"].opcode
PIECEWISE_LINEAR = _BY_NAME["PiecewiseLinear"].opcode
SHIFT, SELECT, MUL, SCALE, RAMP, ZERO = (_COMBINATOR[name].opcode for name in
                                         ("SHIFT", "SELECT", "MUL", "SCALE", "RAMP", "ZERO"))


class ProgramBuilder:
    """Collects instructions, operands and tables while a schedule tree emits itself."""

    def __init__(self) -> None:
        self._code: list[list[int]] = []
        self._operands: list[np.ndarray] = []
        self._tables: list[float] = []
        self._n_registers = 1  # register 0 holds the steps

    def operand(self, value) -> int:
        """Register a broadcastable numeric parameter; returns its operand index."""
        # np.array(copy=True) keeps 0-d values 0-d (ascontiguousarray would make them 1-D)
        self._operands.append(np.array(value, dtype=np.float64, order="C", copy=True))
        return len(self._operands) - 1

    def table(self, values) -> tuple[int, int]:
        offset = len(self._tables)
        self._tables.extend(float(v) for v in values)
        return offset, len(self._tables) - offset

    def emit(self, opcode: int, *, src: int = 0, src2: int = 0, src3: int = 0, mode: int = 0,
             table: tuple[int, int] = (0, 0), operands: tuple[int, ...] = ()) -> int:
        """Append one instruction writing a fresh register; returns that register."""
        if len(operands) > MAX_OPERANDS:
            raise AssertionError("too many operands for one instruction")
        dst = self._n_registers
        self._n_registers += 1
        row = [opcode, dst, src, src2, src3, mode, table[0], table[1]]
        row += list(operands) + [-1] * (MAX_OPERANDS - len(operands))
        self._code.append(row)
        return dst

    def build(self, result_register: int) -> Program:
        sizes = [op.size for op in self._operands]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes else \
            np.zeros(0, dtype=np.int64)
        data = np.concatenate([op.ravel() for op in self._operands]) if sizes else np.zeros(0)
        code = np.array(self._code, dtype=np.int64).reshape(-1, INSTRUCTION_WIDTH)
        for array in (code, data, offsets):
            array.flags.writeable = False
        tables = np.array(self._tables, dtype=np.float64)
        tables.flags.writeable = False
        return Program.assemble(code, data, offsets, tuple(op.shape for op in self._operands), tables,
                                self._n_registers, result_register)


@dataclass(frozen=True, eq=False)
class Program:
    """A compiled schedule (docs/engine.md, section 1)."""

    code: np.ndarray
    operand_data: np.ndarray
    operand_offset: np.ndarray
    operand_shape: tuple
    tables: np.ndarray
    n_registers: int
    result_register: int
    # whether any operand is an array (else a flat call needs no strides), and the operand strides of
    # such a call: (n_operands, 1) zeros
    has_array_operands: bool = False
    flat_scalar_strides: np.ndarray = field(default=None, repr=False)
    # caches in the open: operand strides per output shape, and what each backend derives from the
    # program (the C++ core's compiled program, the scalar entry points), keyed by backend
    _stride_cache: dict = field(default_factory=dict, repr=False)
    backend_data: dict = field(default_factory=dict, repr=False)

    @classmethod
    def assemble(cls, code, operand_data, operand_offset, operand_shape, tables, n_registers,
                 result_register) -> Program:
        """A program with its derived fields (whether any operand is an array, the flat strides)."""
        flat = np.zeros((len(operand_shape), 1), dtype=np.int64)
        flat.flags.writeable = False
        return cls(code=code, operand_data=operand_data, operand_offset=operand_offset,
                   operand_shape=tuple(operand_shape), tables=tables, n_registers=n_registers,
                   result_register=result_register,
                   has_array_operands=any(shape != () for shape in operand_shape), flat_scalar_strides=flat)

    def operand_strides(self, shape: tuple[int, ...]) -> np.ndarray:
        """Element strides ``(n_operands, len(shape))`` of every operand broadcast to ``shape``."""
        cached = self._stride_cache.get(shape)
        if cached is not None:
            return cached
        strides = np.zeros((len(self.operand_shape), len(shape)), dtype=np.int64)
        for k, op_shape in enumerate(self.operand_shape):
            strides[k] = broadcast_strides(op_shape, _c_strides(op_shape), shape)
        strides.flags.writeable = False
        if len(self._stride_cache) < 16:
            self._stride_cache[shape] = strides
        return strides


def _c_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for extent in reversed(shape):
        strides.append(step)
        step *= extent
    return tuple(reversed(strides))


def broadcast_strides(shape, strides, target) -> list[int]:
    """Element strides of an array of ``shape``/``strides`` broadcast to ``target`` (0 where broadcast)."""
    lead = len(target) - len(shape)
    result = [0] * len(target)
    for d, (extent, stride) in enumerate(zip(shape, strides)):
        result[lead + d] = 0 if extent == 1 else stride
    return result


def coalesce(shape: tuple[int, ...], stride_rows: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
    """Merge adjacent dimensions that every operand walks contiguously, and drop unit dimensions.

    ``stride_rows`` is ``(n_operands, ndim)``. Returns the shorter shape (at least 1-D) and strides.
    A C-contiguous output is always mergeable, so only the operands decide.
    """
    dims = [d for d, extent in enumerate(shape) if extent != 1]
    if not dims:
        return (1,), np.zeros((stride_rows.shape[0], 1), dtype=np.int64)
    out_shape = [shape[dims[0]]]
    out_strides = [stride_rows[:, dims[0]].copy()]
    for d in dims[1:]:
        inner = stride_rows[:, d]
        if np.array_equal(out_strides[-1], inner * shape[d]):
            out_shape[-1] *= shape[d]
            out_strides[-1] = inner.copy()
        else:
            out_shape.append(shape[d])
            out_strides.append(inner.copy())
    return tuple(out_shape), np.stack(out_strides, axis=1).astype(np.int64)
