"""A schedule's curve written to a ``.npy``, ``.csv`` or ``.txt`` file, chunk by chunk, atomically.

The curve is computed in fixed-size pieces into one reused buffer and each piece is written with a
checked write, so a curve of any length needs constant memory, stops promptly on Ctrl-C, and a failure
of the filesystem is an ``OSError`` (never a crash). The file goes through
:func:`fastlr._files.atomic_output`: its size is checked against the free space before anything is
created, and the target appears only once it is complete.
"""

from __future__ import annotations

import io
import math
import numbers
import os
from collections.abc import Iterator
from typing import Any, Callable, Optional

import numpy as np

from ._files import PathLike, atomic_output
from .schedules import Schedule

FORMATS = (".npy", ".csv", ".txt")
# Values per computed piece: large enough that the per-call overhead vanishes, small enough that one
# piece takes milliseconds (Ctrl-C waits for the piece in progress) and memory stays bounded.
CHUNK_ELEMENTS = 1 << 22
# Text is formatted value by value in Python, far slower than computing: smaller pieces keep Ctrl-C
# and the progress bar responsive.
TEXT_CHUNK_ELEMENTS = 1 << 16
# Rows formatted to estimate the size of a text file before writing it.
SAMPLE_ROWS = 2048


def curve_format(path: PathLike) -> str:
    """The file type of ``path`` from its extension: ``".npy"``, ``".csv"`` or ``".txt"``."""
    text = os.fspath(path)
    extension = os.path.splitext(text)[1].lower()
    if extension not in FORMATS:
        raise ValueError(f"path {text!r}: unsupported file type {extension or '(no extension)'!r}; "
                         f"use {', '.join(FORMATS)}")
    return extension


def group_names(param_shape: tuple[int, ...]) -> list[str]:
    """Column names of a curve's groups: ``lr`` for a scalar schedule, ``lr_0``, ``lr_1``, ... (or
    ``lr_0_1`` for 2-D parameters) for array parameters."""
    if not param_shape:
        return ["lr"]
    if len(param_shape) == 1:
        return [f"lr_{i}" for i in range(param_shape[0])]
    return ["lr_" + "_".join(map(str, index)) for index in np.ndindex(*param_shape)]


def _group_size(schedule: Schedule) -> int:
    return int(np.prod(schedule.param_shape)) if schedule.param_shape else 1


def _steps_at(start, indices: np.ndarray, ndim: int) -> np.ndarray:
    """The steps ``start + i`` for the given ``i``, shaped to broadcast over ``ndim`` group axes; float
    steps are ``float(start) + float(i)``, as ``curve`` computes them, so pieces match one call."""
    if isinstance(start, numbers.Integral):
        steps = int(start) + indices.astype(np.int64)
    else:
        steps = float(start) + indices.astype(np.float64)
    return steps.reshape((len(indices),) + (1,) * ndim)


def curve_chunks(schedule: Schedule, n: int, start=0, dtype: Any = np.float64, *,
                 rows: Optional[int] = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(offset, values)`` with ``values == schedule.curve(n, start=start)[offset:offset + k]``,
    for consecutive pieces of ``rows`` steps (default: about 4M values). ``values`` is a view of one
    buffer that the next piece overwrites."""
    group = _group_size(schedule)
    rows = max(1, CHUNK_ELEMENTS // group) if rows is None else max(1, int(rows))
    buffer = np.empty((min(rows, n),) + schedule.param_shape, dtype=dtype)
    integer = isinstance(start, numbers.Integral)
    for offset in range(0, n, rows):
        k = min(rows, n - offset)
        view = buffer[:k]
        if integer:
            schedule.curve(k, start=int(start) + offset, out=view)
        else:
            schedule(_steps_at(start, np.arange(offset, offset + k), len(schedule.param_shape)), out=view)
        yield offset, view


def _step_texts(start, indices) -> list[str]:
    if isinstance(start, numbers.Integral):
        return [str(int(start) + int(i)) for i in indices]
    return [repr(float(start) + float(i)) for i in indices]


def _rows_text(steps: Optional[list[str]], values: np.ndarray, separator: str) -> str:
    """One line per row: the step (for .csv), then the values, each printed so that it reads back
    exactly (``repr`` of the float64, the shortest string of the float32)."""
    flat = values.reshape(values.shape[0], -1)
    if flat.dtype == np.float32:
        columns = [flat[:, g].astype(str).tolist() for g in range(flat.shape[1])]
    else:
        columns = [list(map(repr, flat[:, g].tolist())) for g in range(flat.shape[1])]
    if steps is not None:
        columns.insert(0, steps)
    return "".join(separator.join(row) + "\n" for row in zip(*columns))


def _text_header(schedule: Schedule, n: int, start, extension: str) -> str:
    if extension == ".csv":
        return ",".join(["step"] + group_names(schedule.param_shape)) + "\n"
    return f"# fastlr curve {' '.join(repr(schedule).split())}; t = {start!r} .. {start + n - 1!r}\n"


def _npy_header(shape: tuple[int, ...], dtype: np.dtype) -> bytes:
    fields = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": tuple(int(d) for d in shape)}
    buffer = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buffer, fields)
    except ValueError:  # a header over 64 KiB needs format 2.0
        buffer = io.BytesIO()
        np.lib.format.write_array_header_2_0(buffer, fields)
    return buffer.getvalue()


def file_size(schedule: Schedule, n: int, start, dtype: Any, extension: str) -> tuple[int, bool]:
    """``(bytes, estimated)``: the size of the file :func:`save_curve` writes. Exact for ``.npy`` and for
    short text files; for longer text files the mean length of a line of evenly spaced sample rows
    times the number of rows."""
    dtype = np.dtype(dtype)
    if extension == ".npy":
        return len(_npy_header((n,) + schedule.param_shape, dtype)) + n * _group_size(schedule) * dtype.itemsize, False
    header = len(_text_header(schedule, n, start, extension).encode())
    if n == 0:
        return header, False
    estimated = n > SAMPLE_ROWS
    indices = np.unique(np.rint(np.linspace(0, n - 1, SAMPLE_ROWS)).astype(np.int64)) if estimated \
        else np.arange(n, dtype=np.int64)
    values = schedule(_steps_at(start, indices, len(schedule.param_shape)), dtype=dtype)
    text = _rows_text(_step_texts(start, indices) if extension == ".csv" else None, values,
                      "," if extension == ".csv" else " ")
    body = len(text.encode())
    if estimated:
        body = math.ceil(body / len(indices) * n)
    return header + body, estimated


def _check_arguments(schedule, path, n, start, dtype, progress) -> tuple[str, int, np.dtype]:
    if not isinstance(schedule, Schedule):
        raise TypeError(f"save_curve: schedule must be a fastlr schedule, got {type(schedule).__name__}")
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise TypeError(f"save_curve: path must be a str or os.PathLike, got {type(path).__name__}")
    extension = curve_format(path)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"save_curve: dtype must be float32 or float64, got {dtype!r}") from None
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"save_curve: dtype must be float32 or float64, got {dtype}")
    if n is None:
        horizon = schedule.horizon
        if horizon is None:
            raise TypeError(f"save_curve: {type(schedule).__name__} has no horizon: pass the number of "
                            f"steps, n")
        n = max(int(math.ceil(horizon)), 1)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"save_curve: n must be an integer, got {n!r} ({type(n).__name__})")
    if n < 0:
        raise ValueError(f"save_curve: n must be >= 0, got n={n}")
    if progress is not None and not callable(progress):
        raise TypeError(f"save_curve: progress must be a callable or None, got {type(progress).__name__}")
    schedule.curve(0, start=start, dtype=dtype)  # the curve's own checks of start, before any file
    return extension, int(n), dtype


def save_curve(schedule: Schedule, path: PathLike, n: Optional[int] = None, *, start: float = 0,
               dtype: Any = np.float64, progress: Optional[Callable[[int], object]] = None) -> None:
    """Write ``schedule.curve(n, start=start, dtype=dtype)`` to ``path``, atomically.

    The format follows the extension:

    - ``.npy``: the array, shape ``(n,) + schedule.param_shape``, for ``np.load`` (row ``i`` is the LR
      of step ``start + i``);
    - ``.csv``: a header ``step,lr`` (``step,lr_0,lr_1,...`` with array parameters), then one row per
      step;
    - ``.txt``: a ``#`` comment naming the schedule, then one row of values per step (``np.loadtxt``).

    Text values read back exactly (float64 as ``repr``, float32 as its shortest string).

    ``n`` defaults to the schedule's horizon (``TypeError`` if it has none). ``progress``, if given, is
    called with the number of steps written after each piece.

    Guarantees: bad arguments raise ``TypeError``/``ValueError`` and a path that cannot be written an
    ``OSError`` before anything is created; so does a file that would not fit in the free space (an
    ``OSError`` with ``errno.ENOSPC`` and both sizes in its message; 1% of the filesystem, at most
    64 MiB, is kept free); the data goes to a temporary file beside ``path`` that
    replaces ``path`` only when complete. On any failure or interruption (a full disk, an I/O error,
    Ctrl-C, SIGTERM) the temporary file is removed, an existing file at ``path`` is left unchanged, and
    the exception propagates. Memory stays bounded (about 32 MiB) whatever ``n``.

    >>> import fastlr, numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "lr.npy")
    >>> fastlr.save_curve(fastlr.Cosine(1e-3, 1000), path)
    >>> np.load(path).shape
    (1000,)
    """
    extension, n, dtype = _check_arguments(schedule, path, n, start, dtype, progress)
    size, estimated = file_size(schedule, n, start, dtype, extension)
    if extension == ".npy":
        with atomic_output(path, size=size) as handle:
            handle.write(_npy_header((n,) + schedule.param_shape, dtype))
            for _, values in curve_chunks(schedule, n, start, dtype):
                handle.write(values)
                if progress is not None:
                    progress(values.shape[0])
        return
    csv = extension == ".csv"
    rows = max(1, TEXT_CHUNK_ELEMENTS // _group_size(schedule))
    with atomic_output(path, size=size, estimated=estimated, text=True) as handle:
        handle.write(_text_header(schedule, n, start, extension))
        for offset, values in curve_chunks(schedule, n, start, dtype, rows=rows):
            k = values.shape[0]
            steps = _step_texts(start, range(offset, offset + k)) if csv else None
            handle.write(_rows_text(steps, values, "," if csv else " "))
            if progress is not None:
                progress(k)


__all__ = ["FORMATS", "curve_chunks", "curve_format", "file_size", "group_names", "save_curve"]
