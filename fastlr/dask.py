"""Schedules over dask arrays: lazy sweeps that run out of core, on one machine or a cluster.

``schedule(t)`` with a dask array ``t`` returns a lazy dask array (``import fastlr`` never imports
dask; this module does). Each chunk is evaluated by the C++ core (the active backend) on the worker
that holds it, with the chunk's own steps and the matching slices of the array parameters: a schedule
with 10,000 configurations (``param_shape == (10000,)``) sends each task only the parameters of its
columns. Chunks along parameter-only dimensions are sized so that a block holds about dask's
``array.chunk-size``.

Nothing here needs a ``dask.distributed`` client; with one, the same graph runs on its workers::

    steps = fastlr.dask.steps(1_000_000, chunks=100_000)      # (n, 1): broadcasts with the configs
    lr = sweep_schedule(steps)                                # (1_000_000, 10_000), lazy
    mean_lr = lr.mean(axis=0).compute()                        # out of core
    fastlr.dask.to_zarr(lr, "sweep.zarr", progress=True)       # the whole result, chunked, atomically

Steps are validated per chunk when the graph runs (a negative or non-finite step raises ``ValueError``
from ``compute``); dtypes and shapes are checked at once.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Union

import dask
import dask.array as da
import numpy as np

from . import _dispatch
from . import _program as P

__all__ = ["evaluate", "steps", "curve", "to_zarr"]


class _ChunkSchedule:
    """The schedule restricted to one chunk: the same code and tables, the chunk's operand slices."""

    def __init__(self, program: P.Program, param_shape: tuple[int, ...]) -> None:
        self._compiled = program
        self.param_shape = param_shape

    def _program(self) -> P.Program:
        return self._compiled


def _chunk_program(code, tables, n_registers, result_register, operands) -> P.Program:
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in operands]
    sizes = [a.size for a in arrays]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if arrays else np.zeros(0, np.int64)
    data = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0)
    return P.Program(code=code, operand_data=data, operand_offset=offsets,
                     operand_shape=tuple(a.shape for a in arrays), tables=tables,
                     n_registers=n_registers, result_register=result_register)


def _evaluate_chunk(steps, *array_operands, layout, code, tables, n_registers, result_register,
                    out_dtype):
    """One task: rebuild the program over this chunk's operand slices and run the active backend."""
    operands, arrays = [], iter(array_operands)
    for kind, value in layout:
        operands.append(next(arrays) if kind == "array" else value)
    program = _chunk_program(code, tables, n_registers, result_register, operands)
    shapes = [np.shape(a) for a in operands if np.ndim(a)]
    chunk = _ChunkSchedule(program, tuple(np.broadcast_shapes(*shapes)) if shapes else ())
    result = _dispatch._numpy_array_call(chunk, steps, None, out_dtype)
    return np.asarray(result).reshape(np.broadcast_shapes(steps.shape, chunk.param_shape))


def _target_elements(dtype) -> int:
    limit = dask.config.get("array.chunk-size", "128MiB")
    return max(int(dask.utils.parse_bytes(limit)) // np.dtype(dtype).itemsize, 1)


def evaluate(schedule, t, out=None, dtype: Any = None) -> da.Array:
    """``schedule(t)`` for a dask array ``t``: a lazy dask array of the broadcast shape."""
    if out is not None:
        raise TypeError("out: a schedule of a dask array is lazy; store the result with "
                        "fastlr.dask.to_zarr(result, path) or dask.array.store")
    if not isinstance(t, da.Array):
        raise TypeError(f"t must be a dask array, got {type(t).__name__}")
    if t.dtype.kind not in "iuf":
        raise TypeError(f"steps must be integers or real numbers, got an array of dtype {t.dtype}")
    result_dtype = _dispatch._result_dtype(None, dtype)
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
        _evaluate_chunk, index, steps, index, *inputs,
        dtype=result_dtype, meta=np.empty((0,) * ndim, dtype=result_dtype),
        layout=tuple(layout), code=program.code, tables=program.tables, n_registers=program.n_registers,
        result_register=program.result_register, out_dtype=result_dtype)


def steps(n: int, *, start: float = 0, chunks: Union[int, str] = "auto", ndim: int = 2) -> da.Array:
    """The lazy steps ``start + arange(n)`` with shape ``(n,) + (1,) * (ndim - 1)`` (each chunk makes
    its own), to broadcast against a schedule's configurations."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"steps: n must be an integer >= 0, got {n!r}")
    if not (isinstance(start, (int, float)) and start >= 0 and math.isfinite(start)):
        raise ValueError(f"steps: start must be finite and >= 0, got {start!r}")
    if isinstance(ndim, bool) or not isinstance(ndim, int) or ndim < 1:
        raise ValueError(f"steps: ndim must be an integer >= 1, got {ndim!r}")
    dtype = np.int64 if float(start).is_integer() else np.float64
    values = da.arange(start, start + n, dtype=dtype, chunks=chunks) if n else da.zeros(0, dtype=dtype)
    return values.reshape((n,) + (1,) * (ndim - 1))


def curve(schedule, n: int, *, start: float = 0, chunks: Union[int, str] = "auto", dtype: Any = None) -> da.Array:
    """``schedule.curve(n, start=start)`` as a lazy dask array of shape ``(n,) + param_shape``."""
    return evaluate(schedule, steps(n, start=start, chunks=chunks, ndim=1 + len(schedule.param_shape)),
                    dtype=dtype)


def _progress_context(progress: bool):
    if not progress:
        return contextlib.nullcontext()
    with contextlib.suppress(ImportError, ValueError):
        from distributed import get_client

        get_client()
        return None  # a distributed client: its own progress bar, started on the futures
    from dask.diagnostics import ProgressBar

    return ProgressBar()


def to_zarr(result: da.Array, path: Union[str, os.PathLike], *, overwrite: bool = False,
            progress: bool = False) -> Path:
    """Write ``result`` as a chunked zarr array at ``path``, atomically: into a temporary directory
    next to ``path``, renamed onto it when every chunk is written (on failure nothing is left).

    ``path`` must not exist unless ``overwrite``. On a distributed cluster the path must be on a file
    system every worker sees. ``progress=True`` shows dask's progress bar (``distributed.progress``
    under a client). Returns the path.
    """
    if not isinstance(result, da.Array):
        raise TypeError(f"to_zarr: result must be a dask array, got {type(result).__name__}")
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"to_zarr: {str(target)!r} exists; pass overwrite=True to replace it")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"to_zarr: the directory {str(target.parent)!r} does not exist")
    temporary = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:12]}"
    try:
        context = _progress_context(progress)
        if context is None:  # a distributed client
            from distributed import progress as distributed_progress

            future = da.to_zarr(result, str(temporary), compute=False)
            future = future.persist()
            distributed_progress(future)
            future.compute()
        else:
            with context:
                da.to_zarr(result, str(temporary), compute=True)
        if target.exists():
            trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:12]}"
            os.replace(target, trash)
            os.replace(temporary, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return target
