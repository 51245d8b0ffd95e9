"""``fastlr curve``: evaluate a schedule over steps; print a summary, or write .npy/.csv/.txt.

Both paths compute the curve in pieces (:func:`fastlr._save.curve_chunks`), so any number of steps runs
in bounded memory, shows a progress bar on a terminal once it lasts, and stops promptly on Ctrl-C. Files
are written by :func:`fastlr.save_curve`: checked against the free space first, atomic.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._backends import get_backend
from .._save import FORMATS, curve_chunks, group_names, save_curve
from .options import backend_context, check_output, count, real, write_error
from .progress import Progress
from .spec import parse, short_repr
from .text import CLIError, fmt_rate, fmt_time, one_line, steps_text

# Work shorter than this leaves no progress bar behind.
PROGRESS_DELAY = 0.5


class Stats:
    """First, peak (and where), final values of a curve seen piece by piece."""

    def __init__(self) -> None:
        self.first = None
        self.final = None
        self.peak = None
        self.peak_index = None

    def add(self, offset: int, chunk: np.ndarray) -> None:
        if not len(chunk):
            return
        if self.first is None:
            self.first = chunk[0].copy()
        self.final = chunk[-1].copy()
        index = np.argmax(chunk, axis=0)
        value = np.max(chunk, axis=0)
        if self.peak is None:
            self.peak, self.peak_index = value, index + offset
        else:
            better = value > self.peak
            self.peak = np.where(better, value, self.peak)
            self.peak_index = np.where(better, index + offset, self.peak_index)


def _fmt_value(value) -> str:
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _fmt_value(value[()])
        if value.size <= 12:
            return "[" + ", ".join(_fmt_value(v) for v in value.ravel()) + "]"
        return np.array2string(value, separator=", ", threshold=12, max_line_width=10**6)
    return repr(float(value)) if not isinstance(value, np.float32) else str(value)


def cmd_curve(args) -> int:
    schedule = parse(args.spec)
    dtype = np.dtype(args.dtype)
    start = real(args.start, "--start") if args.start is not None else 0
    if args.steps is not None:
        n = count(args.steps, "--steps")
    else:
        horizon = schedule.horizon
        if horizon is None:
            raise CLIError(f"{type(schedule).__name__} never settles (no horizon): pass --steps N")
        n = max(int(math.ceil(horizon)), 1)
    out = args.out
    if out:
        check_output(out, FORMATS)

    with backend_context(args.backend):
        backend = get_backend()
        begin = time.perf_counter()
        schedule.curve(1, start=start, dtype=dtype)  # loads (or compiles) the backend's kernel
        first_call = time.perf_counter() - begin
        if not out:
            stats = Stats()
            elapsed = 0.0
            with Progress(n, "curve", delay=PROGRESS_DELAY) as bar:
                pieces = curve_chunks(schedule, n, start, dtype)
                while True:
                    begin = time.perf_counter()
                    piece = next(pieces, None)
                    elapsed += time.perf_counter() - begin
                    if piece is None:
                        break
                    stats.add(*piece)
                    bar.update(len(piece[1]))
            _print_summary(schedule, n, start, dtype, backend, stats, elapsed, first_call)
            return 0
        begin = time.perf_counter()
        with Progress(n, out, delay=PROGRESS_DELAY) as bar:
            try:
                save_curve(schedule, out, n, start=start, dtype=dtype, progress=bar.update)
            except OSError as error:
                raise CLIError(write_error(out, error)) from None
        elapsed = time.perf_counter() - begin
    rate = n / elapsed if elapsed > 0 else float("inf")
    groups = f", {len(group_names(schedule.param_shape))} groups" if schedule.param_shape else ""
    print(f"wrote {n:,} {dtype.name} values ({steps_text(start, n)}{groups}) of {short_repr(schedule, 90)} "
          f"to {out}; backend {backend}, {fmt_time(elapsed)} ({fmt_rate(rate)})")
    return 0


def _print_summary(schedule, n, start, dtype, backend, stats: Stats, elapsed: float, first_call: float):
    def step_of(index):
        if isinstance(index, np.ndarray) and index.ndim:
            steps = index + start
            if steps.size <= 12:
                return "[" + ", ".join(f"{v:g}" for v in steps.ravel().tolist()) + "]"
            return np.array2string(steps, separator=", ", threshold=12)
        value = start + int(index)
        return f"{value:,}" if isinstance(value, int) else f"{value:g}"

    rate = n / elapsed if elapsed > 0 else float("inf")
    groups = (f", {len(group_names(schedule.param_shape))} groups (shape {schedule.param_shape})"
              if schedule.param_shape else "")
    lines = [
        ("schedule", one_line(repr(schedule))),
        ("steps", f"{n:,} ({steps_text(start, n)}), {dtype.name}{groups}"),
        ("backend", backend),
        ("first", _fmt_value(stats.first)),
        ("peak", f"{_fmt_value(stats.peak)} at step {step_of(stats.peak_index)}"),
        ("final", f"{_fmt_value(stats.final)} at step {step_of(n - 1)}"),
        ("time", f"{fmt_time(elapsed)} ({fmt_rate(rate)}); first call {fmt_time(first_call)} "
                 f"(kernel load)"),
    ]
    for key, value in lines:
        print(f"{key:9s} {value}")
