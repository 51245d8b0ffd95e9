"""The dask graph of ``schedule(t)`` for a dask array ``t``: one task per chunk, each with its own steps
and the slices of the array parameters that its block needs (``fastlr.dask`` documents the use).

The facade (``_dispatch``) builds the graph here and passes its own chunk evaluator (the numpy route
to the active backend), so that this module depends on nothing of the package but the program.
"""

from __future__ import annotations

import math
from typing import Callable

import dask
import dask.array as da
import numpy as np

from . import _program as P


class _ChunkSchedule:
    """The schedule restricted to one chunk: the same code and tables, the chunk's operand slices."""

    def __init__(self, program: P.Program, param_shape: tuple[int, ...]) -> None:
        self._compiled = program
        self.param_shape = param_shape

    def _program(self) -> P.Program:
        return self._compiled

    def overflow_step(self) -> float:
        """The whole schedule's steps were checked against its overflow step (``evaluate``)."""
        return math.inf


def _chunk_program(code, tables, n_registers, result_register, operands) -> P.Program:
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in operands]
    sizes = [a.size for a in arrays]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if arrays else np.zeros(0, np.int64)
    data = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0)
    return P.Program.assemble(code, data, offsets, tuple(a.shape for a in arrays), tables, n_registers,
                              result_register)


def chunk_schedule(array_operands, layout, code, tables, n_registers, result_register) -> _ChunkSchedule:
    """The schedule of one task: the program rebuilt over this chunk's operand slices."""
    operands, arrays = [], iter(array_operands)
    for kind, value in layout:
        operands.append(next(arrays) if kind == "array" else value)
    program = _chunk_program(code, tables, n_registers, result_register, operands)
    shapes = [np.shape(a) for a in operands if np.ndim(a)]
    return _ChunkSchedule(program, tuple(np.broadcast_shapes(*shapes)) if shapes else ())


def _target_elements(dtype) -> int:
    limit = dask.config.get("array.chunk-size", "128MiB")
    return max(int(dask.utils.parse_bytes(limit)) // np.dtype(dtype).itemsize, 1)


def evaluate(schedule, t, out, result_dtype, chunk_function: Callable) -> da.Array:
    """``schedule(t)`` for a dask array ``t``: a lazy dask array of the broadcast shape, whose blocks
    ``chunk_function(steps, *operand_slices, layout=..., code=..., ..., out_dtype=...)`` computes."""
    if out is not None:
        raise TypeError("out: a schedule of a dask array is lazy; store the result with "
                        "fastlr.dask.to_zarr(result, path) or dask.array.store")
    if not isinstance(t, da.Array):
        raise TypeError(f"t must be a dask array, got {type(t).__name__}")
    if t.dtype.kind not in "iuf":
        raise TypeError(f"steps must be integers or real numbers, got an array of dtype {t.dtype}")
    if schedule.overflow_step() < math.inf and t.size:
        # an uncapped growth: its steps are reduced once (eagerly) so that no chunk can return inf
        schedule._refuse_overflow(float(t.max().compute()))
    param_shape = schedule.param_shape
    try:
        shape = tuple(np.broadcast_shapes(t.shape, param_shape))
    except ValueError:
        raise ValueError(f"steps with shape {t.shape} do not broadcast with the parameters of "
                         f"{type(schedule).__name__} (shape {param_shape})") from None
    if any(math.isnan(n) for n in t.shape):
        raise ValueError("steps have unknown chunk sizes; call t.compute_chunk_sizes() first")
    ndim = len(shape)
    program = schedule._program()
    steps = t.reshape((1,) * (ndim - t.ndim) + t.shape) if t.ndim < ndim else t
    # chunks of the parameter-only dimensions: as many columns as keep a block near the chunk size
    budget = max(_target_elements(result_dtype) // max(math.prod(max(c) if c else 1 for c in steps.chunks), 1), 1)
    param_chunks: dict[int, int] = {}
    for d in reversed(range(ndim)):
        if steps.shape[d] == 1 and shape[d] > 1:
            param_chunks[d] = min(shape[d], budget)
            budget = max(budget // param_chunks[d], 1)
    layout, inputs = [], []
    index = tuple(range(ndim))
    for offset, op_shape in zip(program.operand_offset.tolist(), program.operand_shape):
        value = program.operand_data[offset:offset + max(math.prod(op_shape), 1)].reshape(op_shape)
        if not op_shape:
            layout.append(("scalar", value))
            continue
        aligned = value.reshape((1,) * (ndim - value.ndim) + value.shape)
        chunks = tuple(1 if aligned.shape[d] == 1 else steps.chunks[d] if steps.shape[d] == aligned.shape[d]
                       else param_chunks.get(d, aligned.shape[d]) for d in range(ndim))
        layout.append(("array", None))
        inputs += [da.from_array(aligned, chunks=chunks), index]
    return da.blockwise(
        chunk_function, index, steps, index, *inputs,
        dtype=result_dtype, meta=np.empty((0,) * ndim, dtype=result_dtype),
        layout=tuple(layout), code=program.code, tables=program.tables, n_registers=program.n_registers,
        result_register=program.result_register, out_dtype=result_dtype)


