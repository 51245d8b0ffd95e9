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
from pathlib import Path
from typing import Any, Union

import dask.array as da
import numpy as np

from . import _dispatch

__all__ = ["evaluate", "steps", "curve", "to_zarr"]


def evaluate(schedule, t, dtype: Any = None) -> da.Array:
    """``schedule(t)`` for a dask array ``t`` (what ``schedule(t)`` does): a lazy dask array."""
    if not isinstance(t, da.Array):
        raise TypeError(f"t must be a dask array, got {type(t).__name__}")
    return _dispatch.array_call(schedule, t, None, dtype)


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
    """Write ``result`` as a chunked zarr array at ``path``, atomically (``fastlr._files``'s
    ``atomic_directory``: a free-space check for the uncompressed size, a temporary directory beside
    ``path`` renamed onto it when every chunk is written; on failure nothing is left).

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
    from ._files import atomic_directory

    context = _progress_context(progress)
    with atomic_directory(target, size=int(result.nbytes), estimated=True) as temporary:
        if context is None:  # a distributed client: its progress bar follows the persisted graph
            from distributed import progress as distributed_progress

            stored = da.to_zarr(result, str(temporary), compute=False, overwrite=True).persist()
            distributed_progress(stored)
            stored.compute()
        else:
            with context:
                da.to_zarr(result, str(temporary), compute=True, overwrite=True)
    return target
