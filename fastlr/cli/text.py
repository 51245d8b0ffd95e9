"""What every command shares about text: the user-error type, the parsing of counts, and the formatters
of times, rates, sizes and tables. Nothing here imports the rest of the package."""

from __future__ import annotations

import numbers
from collections.abc import Sequence


class CLIError(Exception):
    """A user error: the message is printed on one line and the exit status is 2."""


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines of a multi-line repr included) made one space."""
    return " ".join(str(text).split())


def parse_size(text: str) -> int:
    """``1000``, ``1_000_000``, ``1e6``, ``10M``, ``1k``, ``2G`` -> an int >= 1 (``CLIError`` otherwise)."""
    word = str(text).strip().replace("_", "")
    scale = 1
    suffixes = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}
    if word and word[-1].lower() in suffixes:
        scale = suffixes[word[-1].lower()]
        word = word[:-1]
    try:
        value = float(word) * scale
    except ValueError:
        value = 0.0
    if not (1 <= value < 2**53 and value == int(value)):
        raise CLIError(f"bad size {text!r}: expected a positive integer such as 1000, 1e6 or 10M")
    return int(value)


def fmt_time(seconds: float) -> str:
    """``1.23 s``, ``4.56 ms``, ``7.8 us``, ``90 ns``."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1e9:.0f} ns"


def fmt_duration(seconds: float) -> str:
    """``12.3s``, ``4m05s``, ``3h12m``, ``2d07h``: elapsed times and ETAs of long runs, kept short."""
    if seconds < 60:
        return f"{seconds:4.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def fmt_rate(per_second: float) -> str:
    """``1.2 G steps/s``, ``340.0 M steps/s``, ``12 steps/s``."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_second >= scale:
            return f"{per_second / scale:.1f} {suffix} steps/s"
    return f"{per_second:.0f} steps/s"


def fmt_n(n: int) -> str:
    """``10M``, ``1k``, ``12,345``: round counts with a suffix, others in full."""
    for power, suffix in ((9, "G"), (6, "M"), (3, "k")):
        if n >= 10**power and n % 10**power == 0:
            return f"{n // 10**power}{suffix}"
    return f"{n:,}"


def fmt_ns(seconds_per_element: float) -> str:
    """Nanoseconds with three significant digits at most: ``1,234``, ``56.7``, ``0.89``."""
    ns = seconds_per_element * 1e9
    if ns >= 100:
        return f"{ns:,.0f}"
    if ns >= 10:
        return f"{ns:.1f}"
    return f"{ns:.2f}"


def fmt_ratio(x: float) -> str:
    """``123x``, ``12.3x``, ``1.23x``; ``-`` for a ratio that is not finite."""
    if not (x == x and abs(x) != float("inf")):
        return "-"
    if x >= 100:
        return f"{x:,.0f}x"
    if x >= 10:
        return f"{x:.1f}x"
    return f"{x:.2f}x"


def steps_text(start: float, n: int) -> str:
    """``t = 0 .. 4,999`` (``t = 0.5 .. 299.5`` for a fractional start)."""
    last = start + n - 1
    if isinstance(start, numbers.Integral):
        return f"t = {start:,} .. {last:,}"
    return f"t = {start:g} .. {last:g}"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    """A plain text table; ``align`` holds 'l' or 'r' per column (default: first left, rest right)."""
    columns = len(header)
    align = align or "l" + "r" * (columns - 1)
    widths = [max(len(str(header[i])), *(len(str(row[i])) for row in rows)) if rows else len(header[i])
              for i in range(columns)]

    def line(cells):
        out = []
        for i, cell in enumerate(cells):
            text = str(cell)
            out.append(text.ljust(widths[i]) if align[i] == "l" else text.rjust(widths[i]))
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(header), rule] + [line(row) for row in rows]
