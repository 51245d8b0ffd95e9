"""``fastlr bench`` (and ``python bench/report.py``): the benchmark report.

Tables (all times are the best of several repeats after a warm-up call, so they measure the steady
state; the cold-call table measures the first call after the process has been idle):

1. family x N x backend: ns per element of ``s.curve(N, out=buf)`` into a preallocated C-contiguous
   float64 buffer, the speed-up over the numpy reference (``use_backend("numpy")``), the ratio to the
   ``buf.fill()`` floor on the same buffer (the memory-bandwidth bound: 1.0 is as fast as writing the
   buffer at all), and the same figure into a float32 buffer.
2. per-parameter: N elements, each with its own int64 step and its own ``peak_lr``
   (``WarmupCosine(peak_lr=array_N)(steps, out=buf)``), against ``np.multiply(a, b, out=c)``.
3. scalar calls ``s(1234)``: ns per call for each backend.
4. cold calls: the first ``curve(N, out=buf)`` after ~50 ms idle (thread pools asleep, caches cold),
   N = 1e5, 3e5 and 1e6 (around the thread threshold), against the warm best and against the same
   cold call on one thread.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import gc
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .. import _backends
from .. import schedules as S
from .._catalogue import FACTORIES
from .._files import atomic_output
from .options import write_error
from .progress import Progress
from .text import CLIError, fmt_n, fmt_ns, fmt_ratio, fmt_time, format_table, parse_size

DEFAULT_SIZES = (1_000, 1_000_000, 10_000_000)
QUICK_SIZES = (1_000, 20_000)
COLD_SIZES = (100_000, 300_000, 1_000_000)  # the C++ core's thread threshold is 200k
QUICK_COLD_SIZES = (10_000,)


def _families() -> dict[str, Callable[[int], object]]:
    """Name -> factory of a representative schedule whose horizon is ``n`` (the shared catalogue)."""
    return dict(FACTORIES)


def family_names() -> list[str]:
    return list(_families())


def select_families(requested: Optional[Sequence[str]]) -> list[str]:
    names = family_names()
    if not requested:
        return names
    by_lower = {name.lower(): name for name in names}
    chosen = []
    for item in requested:
        for word in item.replace(",", " ").split():
            name = by_lower.get(word.lower())
            if name is None:
                close = difflib.get_close_matches(word, names, n=3, cutoff=0.5)
                hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
                raise CLIError(f"bench: unknown family {word!r}{hint} (choose from {', '.join(names)})")
            if name not in chosen:
                chosen.append(name)
    return chosen


def _sizes(items: Optional[Sequence[str]]) -> list[int]:
    sizes = []
    for item in items or ():
        for word in str(item).replace(",", " ").split():
            sizes.append(parse_size(word))
    return sizes


# ------------------------------------------------------------------------------------------------ timing


@dataclass
class Timer:
    min_repeats: int = 3
    max_repeats: int = 100
    budget_s: float = 0.2

    def best(self, fn: Callable[[], object]) -> float:
        """Best wall time of ``fn()`` in seconds (after one warm-up call)."""
        fn()
        best = float("inf")
        spent = 0.0
        count = 0
        while count < self.max_repeats:
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            best = min(best, elapsed)
            spent += elapsed
            count += 1
            minimum = self.min_repeats if elapsed < 0.5 else 2
            if count >= minimum and spent >= self.budget_s:
                break
            if elapsed >= 1.0 and count >= 2:
                break
        return best

    def per_call(self, fn: Callable[[], object], target_s: float) -> float:
        """Seconds per call of a fast ``fn``: loops sized to ``target_s``, best of 5 loops."""
        fn()
        loops = 1
        while True:
            start = time.perf_counter()
            for _ in range(loops):
                fn()
            elapsed = time.perf_counter() - start
            if elapsed >= target_s / 5 or loops >= 1 << 20:
                break
            loops *= 4 if elapsed < target_s / 50 else 2
        best = elapsed
        for _ in range(4):
            start = time.perf_counter()
            for _ in range(loops):
                fn()
            best = min(best, time.perf_counter() - start)
        return best / loops


# ------------------------------------------------------------------------------------------------ machine


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def core_counts() -> str:
    logical = os.cpu_count() or 1
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = logical
    physical = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            package = core = None
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    package = value.strip()
                elif key == "core id":
                    core = value.strip()
                elif not line.strip():
                    if core is not None:
                        physical.add((package, core))
                    package = core = None
            if core is not None:
                physical.add((package, core))
    except OSError:
        pass
    text = f"{logical} logical CPUs"
    if physical:
        text += f" ({len(physical)} physical cores)"
    if usable != logical:
        text += f", {usable} usable by this process"
    return text


def header_lines() -> list[str]:

    now = datetime.datetime.now().isoformat(timespec="seconds")
    lines = [
        f"fastlr benchmark report ({now})",
        f"machine: {cpu_model()}, {core_counts()}",
        f"system:  {platform.system()} {platform.release()} {platform.machine()}, "
        f"Python {platform.python_version()}",
    ]
    lines.append("config:")
    try:
        lines.extend("  " + (line if len(line) <= 240 else line[:237] + "...")
                     for line in _backends.config_lines())
    except Exception as error:  # the report must still run when a backend's description fails
        lines.append(f"  (show_config failed: {type(error).__name__}: {error})")
    return lines


# ------------------------------------------------------------------------------------------------ report


@dataclass
class Report:
    sizes: list[int]
    families: list[str]
    backends: list[str]
    quick: bool = False
    skipped: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def _usable_backends(requested: Optional[Sequence[str]]) -> tuple[list[str], dict[str, str]]:
    """The backends that can actually evaluate (a backend listed by backends() may still fail to load)."""
    names = list(_backends.backends())
    skipped: dict[str, str] = {}
    for name in _backends.ORDER:
        if name not in names:
            try:
                with _backends.use_backend(name):
                    pass
            except (_backends.BackendUnavailable, ValueError) as error:
                skipped[name] = str(error)
    if requested:
        wanted = []
        for item in requested:
            for word in item.replace(",", " ").split():
                if word not in _backends.ORDER:
                    close = difflib.get_close_matches(word, _backends.ORDER, n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    raise CLIError(f"bench: unknown backend {word!r}{hint} "
                                      f"(choose from {', '.join(_backends.ORDER)})")
                if word in skipped:
                    raise CLIError(f"bench: {skipped[word]}")
                wanted.append(word)
        names = [name for name in names if name in wanted]
    probe = S.Constant(1.0)
    usable = []
    for name in names:
        try:
            with _backends.use_backend(name):
                probe.curve(4)
                probe.curve(4, dtype=np.float32)
            usable.append(name)
        except Exception as error:  # a backend that fails to load is reported, not fatal
            skipped[name] = f"{type(error).__name__}: {' '.join(str(error).split())}"
    if "numpy" not in usable:
        usable.append("numpy")
    return [name for name in _backends.ORDER if name in usable], skipped


def run_report(sizes: Optional[Sequence[int]] = None, families: Optional[Sequence[str]] = None,
               quick: bool = False, backends: Optional[Sequence[str]] = None,
               progress: Optional[bool] = None) -> str:
    """Run the benchmark and return the report text."""
    sizes = list(sizes) if sizes else list(QUICK_SIZES if quick else DEFAULT_SIZES)
    names = select_families(families)
    usable, skipped = _usable_backends(backends)
    factories = _families()
    timer = Timer(min_repeats=2, max_repeats=20, budget_s=0.005) if quick else Timer()
    scalar_target = 0.002 if quick else 0.05
    cold_sizes = QUICK_COLD_SIZES if quick else COLD_SIZES
    cold_repeats = 3 if quick else 7

    tasks = (len(names) * len(sizes) * (len(usable) + 1)  # curve tables (+ fill floor)
             + len(sizes) * (len(usable) + 1)  # per-parameter
             + len(names) * len(usable)  # scalar
             + len(usable))  # cold
    out: list[str] = []
    with Progress(tasks, "bench", enabled=progress) as bar:
        # 1. curves ------------------------------------------------------------------------------
        rows = []
        for n in sizes:
            buf64 = np.empty(n, dtype=np.float64)
            buf32 = np.empty(n, dtype=np.float32)
            bar.set_label(f"fill N={fmt_n(n)}")
            fill64 = timer.best(lambda b=buf64: b.fill(0.5))
            fill32 = timer.best(lambda b=buf32: b.fill(0.5))
            bar.update()
            rows.append(["out.fill() floor", fmt_n(n), "-", fmt_ns(fill64 / n), "-", "1.00x",
                         fmt_ns(fill32 / n)])
            for name in names:
                schedule = factories[name](n)
                times: dict[str, tuple[float, float]] = {}
                for backend in usable:
                    bar.set_label(f"{name} N={fmt_n(n)} {backend}")
                    with _backends.use_backend(backend):
                        t64 = timer.best(lambda s=schedule, n=n, b=buf64: s.curve(n, out=b))
                        t32 = timer.best(lambda s=schedule, n=n, b=buf32: s.curve(n, out=b))
                    times[backend] = (t64, t32)
                    bar.update()
                reference = times["numpy"][0]
                for backend in usable:
                    t64, t32 = times[backend]
                    rows.append([name, fmt_n(n), backend, fmt_ns(t64 / n), fmt_ratio(reference / t64),
                                 fmt_ratio(t64 / fill64), fmt_ns(t32 / n)])
            buf64 = buf32 = None
            gc.collect()
        out.append("1. Curves: s.curve(N, out=buf), buf preallocated, C-contiguous. ns/elem is the best of "
                   "several runs;")
        out.append("   'vs numpy' = speed-up over the numpy reference; 'vs fill' = time / buf.fill() on "
                   "the same buffer (1.00x = memory bound).")
        out.extend(format_table(["family", "N", "backend", "f64 ns/elem", "vs numpy", "vs fill",
                                 "f32 ns/elem"], rows, "lrlrrrr"))
        out.append("")

        # 2. per-parameter -----------------------------------------------------------------------
        rows = []
        rng = np.random.default_rng(0)
        for n in sizes:
            steps = rng.integers(0, 100_000, size=n, dtype=np.int64)
            peaks = rng.uniform(1e-4, 1e-3, size=n)
            a, b, c = rng.random(n), rng.random(n), np.empty(n)
            buf = np.empty(n)
            schedule = S.WarmupCosine(peak_lr=peaks, total_steps=100_000, warmup_steps=2_000,
                                           min_lr=1e-5)
            bar.set_label(f"per-parameter N={fmt_n(n)} multiply")
            floor = timer.best(lambda a=a, b=b, c=c: np.multiply(a, b, out=c))
            bar.update()
            rows.append(["np.multiply(a, b, out=c)", fmt_n(n), "-", fmt_ns(floor / n), "-", "1.00x"])
            times = {}
            for backend in usable:
                bar.set_label(f"per-parameter N={fmt_n(n)} {backend}")
                with _backends.use_backend(backend):
                    times[backend] = timer.best(lambda s=schedule, t=steps, b=buf: s(t, out=b))
                bar.update()
            for backend in usable:
                rows.append(["WarmupCosine(peak_lr=array_N)(steps_N)", fmt_n(n), backend,
                             fmt_ns(times[backend] / n), fmt_ratio(times["numpy"] / times[backend]),
                             fmt_ratio(times[backend] / floor)])
            steps = peaks = a = b = c = buf = schedule = None
            gc.collect()
        out.append("2. Per-parameter: N elements, each with its own int64 step and its own peak_lr, "
                   "into a preallocated float64 buffer;")
        out.append("   'vs multiply' = time / np.multiply(a, b, out=c) (two reads, one write).")
        out.extend(format_table(["case", "N", "backend", "ns/elem", "vs numpy", "vs multiply"], rows,
                                "lrlrrr"))
        out.append("")

        # 3. scalar calls ------------------------------------------------------------------------
        rows = []
        for name in names:
            schedule = factories[name](100_000)
            row = [name]
            for backend in usable:
                bar.set_label(f"scalar {name} {backend}")
                with _backends.use_backend(backend):
                    row.append(fmt_ns(timer.per_call(lambda s=schedule: s(1234), scalar_target)))
                bar.update()
            rows.append(row)
        out.append("3. Scalar calls: s(1234) with a Python int, ns per call (horizon 100k).")
        out.extend(format_table(["family"] + [f"{b} ns" for b in usable], rows))
        out.append("")

        # 4. cold calls --------------------------------------------------------------------------
        # Around the thread threshold: a call that wakes a sleeping pool must not be slower than the
        # same call on one thread (the caller works too, so a late worker costs at most one chunk).
        rows = []
        threads = _backends.get_num_threads()
        for backend in usable:
            for n in (cold_sizes if backend != "numpy" else cold_sizes[:1]):
                schedule = factories["WarmupCosine"](n)
                buf = np.empty(n)
                bar.set_label(f"cold calls {backend} N={fmt_n(n)}")
                figures = {}
                settings = (threads, 1) if backend != "numpy" and threads > 1 else (threads,)
                with _backends.use_backend(backend):
                    for count in settings:
                        _backends.set_num_threads(count)
                        try:
                            warm = timer.best(lambda s=schedule, n=n, b=buf: s.curve(n, out=b))
                            colds = []
                            for _ in range(cold_repeats):
                                time.sleep(0.05)
                                start = time.perf_counter()
                                schedule.curve(n, out=buf)
                                colds.append(time.perf_counter() - start)
                        finally:
                            _backends.set_num_threads(threads)
                        figures[count] = (float(np.median(colds)), max(colds), warm)
                cold, worst, warm = figures[threads]
                single = figures.get(1, figures[threads])[0]
                rows.append([backend, fmt_n(n), str(settings[0]), fmt_time(cold), fmt_time(worst),
                             fmt_time(warm), fmt_ratio(cold / warm),
                             fmt_time(single) if len(settings) > 1 else "-",
                             fmt_ratio(cold / single) if len(settings) > 1 else "-"])
            bar.update()
        out.append(f"4. Cold calls: WarmupCosine.curve(N, out=buf) after ~50 ms idle (median and worst of "
                   f"{cold_repeats}) vs the warm best, and vs the same cold call on 1 thread.")
        out.extend(format_table(["backend", "N", "threads", "cold median", "cold worst", "warm best",
                                 "cold/warm", "cold 1 thread", "vs 1 thread"], rows))

    head = header_lines()
    head.append(f"backends measured: {', '.join(usable)}")
    for name, reason in skipped.items():
        head.append(f"  not measured: {name}: {reason}")
    head.append(f"sizes: {', '.join(fmt_n(n) for n in sizes)}; families: {len(names)}"
                + ("; --quick (few repeats: figures are indicative only)" if quick else ""))
    return "\n".join(head + [""] + out) + "\n"


# ------------------------------------------------------------------------------------------------ CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help=f"small sizes ({', '.join(map(fmt_n, QUICK_SIZES))}) and few repeats (tests, "
                             f"smoke checks)")
    parser.add_argument("--sizes", nargs="+", metavar="N",
                        help=f"element counts (default {' '.join(map(fmt_n, DEFAULT_SIZES))}); 1e6, 10M, "
                             f"1_000 are accepted")
    parser.add_argument("--families", nargs="+", metavar="NAME",
                        help="only these families (default: all; see 'fastlr list')")
    parser.add_argument("--backends", nargs="+", metavar="NAME", help="only these backends (default: all "
                                                                      "available; numpy is always measured)")
    parser.add_argument("--output", "-o", metavar="FILE", help="also write the report to FILE")


def cmd_bench(args: argparse.Namespace) -> int:
    sizes = _sizes(args.sizes)
    text = run_report(sizes=sizes, families=args.families, quick=args.quick, backends=args.backends)
    sys.stdout.write(text)
    sys.stdout.flush()
    if getattr(args, "output", None):
        try:
            with atomic_output(args.output, size=len(text.encode()), text=True) as handle:
                handle.write(text)
        except OSError as error:
            raise CLIError(write_error(args.output, error)) from None
    return 0
