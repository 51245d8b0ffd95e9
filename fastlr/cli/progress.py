"""A tiny progress bar on stderr, drawn only when stderr is a terminal (silent in pipes, logs and tests)."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    """``with Progress(total, "curve") as bar: bar.update(k)``; draws at most ~10 times a second."""

    def __init__(self, total: float, label: str = "", *, enabled: Optional[bool] = None,
                 stream: Optional[TextIO] = None, width: int = 30):
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
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        fraction = min(max(self.done / self.total, 0.0), 1.0)
        filled = int(round(fraction * self.width))
        elapsed = now - self._start
        eta = ""
        if 0 < fraction < 1 and elapsed > 0.5:
            eta = f" eta {elapsed * (1 - fraction) / fraction:5.1f}s"
        line = f"\r[{'#' * filled}{'.' * (self.width - filled)}] {100 * fraction:3.0f}% {elapsed:5.1f}s{eta} "
        line += self.label[:40]
        self.stream.write(line.ljust(100)[:100])
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()
            self._drawn = False
