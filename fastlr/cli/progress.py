"""A one-line progress bar on stderr, drawn only when stderr is a terminal (silent in pipes, logs and
tests)."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

from .text import fmt_duration

WIDTH = 100  # characters of the line the bar occupies (and clears when it is done)


class Progress:
    """``with Progress(total, "curve") as bar: bar.update(k)``.

    Draws at most ten times a second, and not before ``delay`` seconds have passed, so that work that
    ends sooner leaves no trace. The line is cleared when the block ends, normally or not.
    """

    def __init__(self, total: float, label: str = "", *, enabled: Optional[bool] = None,
                 stream: Optional[TextIO] = None, width: int = 30, delay: float = 0.0):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            try:
                enabled = bool(self.stream.isatty())
            except (AttributeError, ValueError):
                enabled = False
        self.enabled = enabled
        self.total = max(float(total), 1e-300)
        self.label = label
        self.width = width
        self.delay = delay
        self.done = 0.0
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_label(self, label: str) -> None:
        self.label = label
        self._draw(force=False)

    def update(self, amount: float = 1) -> None:
        self.done += amount
        self._draw(force=self.done >= self.total)

    def _draw(self, force: bool) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        elapsed = now - self._start
        if elapsed < self.delay or (not force and now - self._last_draw < 0.1):
            return
        self._last_draw = now
        fraction = min(max(self.done / self.total, 0.0), 1.0)
        filled = int(round(fraction * self.width))
        eta = ""
        if 0 < fraction < 1 and elapsed > 0.5:
            eta = f" eta {fmt_duration(elapsed * (1 - fraction) / fraction)}"
        line = (f"\r[{'#' * filled}{'.' * (self.width - filled)}] {100 * fraction:3.0f}% "
                f"{fmt_duration(elapsed)}{eta} {self.label[:40]}")
        self.stream.write(line.ljust(WIDTH)[:WIDTH])
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r" + " " * WIDTH + "\r")
            self.stream.flush()
            self._drawn = False

