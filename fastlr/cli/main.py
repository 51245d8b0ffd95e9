"""The ``fastlr`` command line: ``curve``, ``plot``, ``list``, ``bench`` and ``demo``.

SPEC is a schedule written as in Python (``"WarmupCosine(peak_lr=3e-4, total_steps=100_000,
warmup_steps=2_000)"``, ``"join([...], [...])"``, ``"0.5 * Cosine(1e-3, 1000)"``), parsed safely
(see :mod:`fastlr._spec`), or the path of a JSON file written from ``schedule.to_dict()``.

Every user error (unknown family, misspelled or missing parameter, bad value, bad SPEC syntax, an
output path that cannot be written) prints one line on stderr and exits with status 2. Set
``FASTLR_DEBUG=1`` to get the traceback of an unexpected internal error.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
import textwrap
import time
from collections.abc import Sequence
from typing import Optional

import numpy as np

from ._report import _fmt_time

PLOT_HINT = "pip install 'fastlr[plot]'  (or: pip install matplotlib)"
CHUNK_ELEMENTS = 1 << 22  # elements per chunk when a curve is computed in pieces
LONG_CURVE = 100_000_000  # curves of this many elements and more are computed in chunks with progress
PLOT_POINTS = 20_001  # at most this many sampled steps per plotted curve
CURVE_FORMATS = (".npy", ".csv", ".txt")


class CLIError(Exception):
    """A user error: the message is printed on one line and the exit status is 2."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line (and lets main() turn it into exit status 2)."""

    def error(self, message):  # noqa: D401 - argparse API
        hint = ""
        if message.startswith("unrecognized arguments:"):
            import difflib

            options = sorted({option for parser in _ALL_PARSERS for action in parser._actions
                              for option in action.option_strings if option.startswith("--")})
            for word in message.split(":", 1)[1].split():
                if word.startswith("-"):
                    close = difflib.get_close_matches(word.split("=")[0], options, n=1)
                    if close:
                        hint = f"; did you mean {close[0]!r}?"
                        break
        raise CLIError(f"{message}{hint} (see '{self.prog} --help')")


_ALL_PARSERS: list = []


# ================================================================================================ helpers


def _count(text: str, option: str, minimum: int = 1) -> int:
    from ._report import ReportError, parse_size

    try:
        value = parse_size(text) if str(text).strip() not in ("0",) else 0
    except ReportError:
        raise CLIError(f"{option} must be a positive integer such as 1000, 1e6 or 10M, "
                       f"got {text!r}") from None
    if value < minimum:
        raise CLIError(f"{option} must be >= {minimum}, got {text!r}")
    return value


def _real(text: str, option: str) -> float:
    try:
        value = float(str(text).replace("_", ""))
    except ValueError:
        raise CLIError(f"{option} must be a number, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise CLIError(f"{option} must be finite and >= 0, got {text!r}")
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _parse(spec: str):
    from ._spec import parse_spec

    return parse_spec(spec)


def _backend_context(name: Optional[str]):
    import contextlib

    import fastlr

    if not name:
        return contextlib.nullcontext(fastlr.get_backend())
    return fastlr.use_backend(name)


def _check_output(path: str, formats: Optional[Sequence[str]] = None) -> str:
    """Fail early, on one line, for an output path that cannot be written or has an unknown format."""
    if not path:
        raise CLIError("--out: empty path")
    extension = os.path.splitext(path)[1].lower()
    if formats is not None and extension not in formats:
        raise CLIError(f"--out {path!r}: unsupported file type {extension or '(no extension)'!r}; "
                       f"use {', '.join(formats)}")
    if os.path.isdir(path):
        raise CLIError(f"cannot write {path!r}: it is a directory")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CLIError(f"cannot write {path!r}: directory {directory!r} does not exist")
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise CLIError(f"cannot write {path!r}: permission denied")
    return extension


def _steps_text(start, n: int) -> str:
    last = start + n - 1
    if isinstance(start, int):
        return f"t = {start:,} .. {last:,}"
    return f"t = {start:g} .. {last:g}"


def _fmt_rate(per_second: float) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_second >= scale:
            return f"{per_second / scale:.1f} {suffix} steps/s"
    return f"{per_second:.0f} steps/s"


def _fmt_value(value) -> str:
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _fmt_value(value[()])
        if value.size <= 12:
            return "[" + ", ".join(_fmt_value(v) for v in value.ravel()) + "]"
        return np.array2string(value, separator=", ", threshold=12, max_line_width=10**6)
    return repr(float(value)) if not isinstance(value, np.float32) else str(value)


def short_repr(schedule, limit: int = 70) -> str:
    """A compact description for legends and tables: parameters at their default are left out and
    combinators are written as they are in a SPEC (``0.5 * Cosine(...)``, ``join([...], [...])``)."""
    text = _short(schedule)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value) -> str:
    from . import schedules as S

    if isinstance(value, S.Scaled):
        return f"{S._format(value.factor)} * {_short(value.schedule)}"
    if isinstance(value, S.Product):
        return f"{_short(value.first)} * {_short(value.second)}"
    if isinstance(value, S.Join):
        inner = ", ".join(_short(s) for s in value.schedules)
        return f"join([{inner}], {S._format(value.boundaries)})"
    if isinstance(value, S.WithWarmup):
        text = f"with_warmup({_short(value.schedule)}, {S._format(value.warmup_steps)}"
        if not S._equal(value.init_lr, 0.0):
            text += f", init_lr={S._format(value.init_lr)}"
        return text + ")"
    if isinstance(value, S.Schedule):
        try:
            parameters = inspect.signature(type(value)).parameters
        except (TypeError, ValueError):
            return repr(value)
        parts = []
        for name, given in value.params.items():
            parameter = parameters.get(name)
            if parameter is not None and parameter.default is not inspect.Parameter.empty:
                default = parameter.default
                try:
                    if S._equal(given, default):
                        continue
                except Exception:  # noqa: BLE001 - incomparable values are simply shown
                    pass
            parts.append(f"{name}={_short(given)}")
        return f"{type(value).__name__}({', '.join(parts)})"
    if isinstance(value, np.ndarray):
        return np.array2string(value, separator=", ", threshold=4, max_line_width=10**6)
    return S._format(value)


def _doc_summary(obj) -> str:
    """The first paragraph of a docstring on one line, without reST markup."""
    doc = inspect.getdoc(obj) or ""
    paragraph = doc.strip().split("\n\n")[0]
    return " ".join(paragraph.replace("``", "").split())


# ================================================================================================ curve


class _Stats:
    """First, peak (and where), final values of a curve seen chunk by chunk."""

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


def _evaluate(schedule, n: int, start, dtype, *, target=None, sink=None, label: str = "curve") -> float:
    """Evaluate ``schedule.curve(n, start=start)``, into ``target`` when given, passing each piece to
    ``sink(offset, values)``; long curves go in chunks with a progress bar. Returns compute seconds."""
    from ._progress import Progress

    group = int(np.prod(schedule.param_shape)) if schedule.param_shape else 1
    total = n * group
    if total < LONG_CURVE:
        begin = time.perf_counter()
        if target is not None:
            values = schedule.curve(n, start=start, out=target)
        else:
            values = schedule.curve(n, start=start, dtype=dtype)
        elapsed = time.perf_counter() - begin
        if sink is not None:
            sink(0, values)
        return elapsed
    rows = max(1, CHUNK_ELEMENTS // group)
    buffer = None if target is not None else np.empty((min(rows, n),) + schedule.param_shape, dtype=dtype)
    elapsed = 0.0
    with Progress(n, label) as bar:
        for offset in range(0, n, rows):
            k = min(rows, n - offset)
            view = target[offset:offset + k] if target is not None else buffer[:k]
            begin = time.perf_counter()
            schedule.curve(k, start=start + offset, out=view)
            elapsed += time.perf_counter() - begin
            if sink is not None:
                sink(offset, view)
            bar.update(k)
    return elapsed


def _text_lines(offset: int, start, values: np.ndarray, with_steps: bool, separator: str) -> str:
    k = values.shape[0]
    flat = values.reshape(k, -1)
    if flat.dtype == np.float32:
        columns = [flat[:, g].astype(str).tolist() for g in range(flat.shape[1])]
    else:
        columns = [list(map(repr, flat[:, g].tolist())) for g in range(flat.shape[1])]
    if with_steps:
        if isinstance(start, int):
            steps = map(str, range(start + offset, start + offset + k))
        else:
            steps = (repr(start + float(i)) for i in range(offset, offset + k))
        columns.insert(0, list(steps))
    return "\n".join(map(separator.join, zip(*columns))) + "\n"


def _group_names(param_shape) -> list[str]:
    if not param_shape:
        return ["lr"]
    if len(param_shape) == 1:
        return [f"lr_{i}" for i in range(param_shape[0])]
    return ["lr_" + "_".join(map(str, index)) for index in np.ndindex(*param_shape)]


def cmd_curve(args) -> int:
    schedule = _parse(args.spec)
    dtype = np.dtype(args.dtype)
    start = _real(args.start, "--start") if args.start is not None else 0
    if args.steps is not None:
        n = _count(args.steps, "--steps")
    else:
        horizon = schedule.horizon
        if horizon is None:
            raise CLIError(f"{type(schedule).__name__} never settles (no horizon): pass --steps N")
        n = max(int(math.ceil(horizon)), 1)
    extension = _check_output(args.out, CURVE_FORMATS) if args.out else None

    with _backend_context(args.backend) as backend:
        import fastlr

        backend = fastlr.get_backend()
        begin = time.perf_counter()
        schedule.curve(1, start=start, dtype=dtype)  # loads (or compiles) the backend's kernel
        first_call = time.perf_counter() - begin
        shape = (n,) + schedule.param_shape
        if extension is None:
            stats = _Stats()
            elapsed = _evaluate(schedule, n, start, dtype, sink=stats.add)
            _print_summary(schedule, n, start, dtype, backend, stats, elapsed, first_call)
            return 0
        try:
            if extension == ".npy":
                if n * max(1, int(np.prod(schedule.param_shape))) >= LONG_CURVE:
                    target = np.lib.format.open_memmap(args.out, mode="w+", dtype=dtype, shape=shape)
                    elapsed = _evaluate(schedule, n, start, dtype, target=target, label=args.out)
                    target.flush()
                    del target
                else:
                    values = np.empty(shape, dtype=dtype)
                    elapsed = _evaluate(schedule, n, start, dtype, target=values)
                    np.save(args.out, values)
            else:
                with open(args.out, "w", encoding="utf-8", newline="\n") as handle:
                    csv = extension == ".csv"
                    if csv:
                        handle.write(",".join(["step"] + _group_names(schedule.param_shape)) + "\n")
                    else:
                        handle.write(f"# fastlr curve {_one_line(repr(schedule))}; {_steps_text(start, n)}\n")

                    def write(offset, values):
                        handle.write(_text_lines(offset, start, values, csv, "," if csv else " "))

                    elapsed = _evaluate(schedule, n, start, dtype, sink=write, label=args.out)
        except OSError as error:
            raise CLIError(f"cannot write {args.out!r}: {error.strerror or error}") from None
    rate = n / elapsed if elapsed > 0 else float("inf")
    print(f"wrote {n:,} {dtype.name} values ({_steps_text(start, n)}"
          + (f", {len(_group_names(schedule.param_shape))} groups" if schedule.param_shape else "")
          + f") of {short_repr(schedule, 90)} to {args.out}; backend {backend}, {_fmt_time(elapsed)} "
          f"({_fmt_rate(rate)})")
    return 0


def _print_summary(schedule, n, start, dtype, backend, stats: _Stats, elapsed: float, first_call: float):
    offset_start = start

    def step_of(index):
        if isinstance(index, np.ndarray) and index.ndim:
            steps = index + offset_start
            if steps.size <= 12:
                return "[" + ", ".join(f"{v:g}" for v in steps.ravel().tolist()) + "]"
            return np.array2string(steps, separator=", ", threshold=12)
        value = offset_start + int(index)
        return f"{value:,}" if isinstance(value, int) else f"{value:g}"

    rate = n / elapsed if elapsed > 0 else float("inf")
    lines = [
        ("schedule", _one_line(repr(schedule))),
        ("steps", f"{n:,} ({_steps_text(start, n)}), {dtype.name}"
         + (f", {len(_group_names(schedule.param_shape))} groups (shape {schedule.param_shape})"
            if schedule.param_shape else "")),
        ("backend", backend),
        ("first", _fmt_value(stats.first)),
        ("peak", f"{_fmt_value(stats.peak)} at step {step_of(stats.peak_index)}"),
        ("final", f"{_fmt_value(stats.final)} at step {step_of(n - 1)}"),
        ("time", f"{_fmt_time(elapsed)} ({_fmt_rate(rate)}); first call {_fmt_time(first_call)} "
                 f"(kernel load)"),
    ]
    for key, value in lines:
        print(f"{key:9s} {value}")


# ================================================================================================ plot


def _import_matplotlib():
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure, FigureCanvasAgg


def _sample_steps(n: int) -> np.ndarray:
    if n <= PLOT_POINTS:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.rint(np.linspace(0, n - 1, PLOT_POINTS)).astype(np.int64))


def _plot_lines(ax, schedule, steps, label, max_groups=8):
    values = schedule(steps.reshape((len(steps),) + (1,) * len(schedule.param_shape)))
    flat = np.asarray(values).reshape(len(steps), -1)
    names = _group_names(schedule.param_shape)
    for g in range(flat.shape[1]):
        if schedule.param_shape:
            line_label = f"{label} [{names[g][3:]}]" if g < max_groups else None
        else:
            line_label = label
        ax.plot(steps, flat[:, g], label=line_label, linewidth=1.4)


def _save_figure(fig, canvas_cls, path: str, dpi: int) -> None:
    canvas_cls(fig)
    try:
        fig.savefig(path, dpi=dpi)
    except OSError as error:
        raise CLIError(f"cannot write {path!r}: {error.strerror or error}") from None
    except ValueError as error:  # unsupported format
        raise CLIError(f"cannot write {path!r}: {_one_line(error)}") from None


def cmd_plot(args) -> int:
    schedules = [_parse(spec) for spec in args.specs]
    if args.steps is not None:
        n = _count(args.steps, "--steps")
    else:
        horizons = [s.horizon for s in schedules if s.horizon is not None]
        if not horizons:
            raise CLIError("none of the schedules settles (no horizon): pass --steps N")
        n = max(int(math.ceil(max(horizons))), 1)
    width = _count(args.width, "--width", 16)
    height = _count(args.height, "--height", 16)
    if width > 20_000 or height > 20_000:
        raise CLIError(f"--width/--height must be at most 20000 pixels, got {width}x{height}")
    _check_output(args.out)
    matplotlib_parts = _import_matplotlib()
    if matplotlib_parts is None:
        raise CLIError(f"fastlr plot needs matplotlib, which is not installed: {PLOT_HINT}")
    Figure, Canvas = matplotlib_parts
    steps = _sample_steps(n)
    dpi = 100
    with _backend_context(args.backend):
        fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
        ax = fig.add_subplot(1, 1, 1)
        for schedule in schedules:
            _plot_lines(ax, schedule, steps, short_repr(schedule, 60))
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if args.log:
        ax.set_yscale("log")
    ax.set_title(args.title if args.title is not None else "learning-rate schedule"
                 + ("s" if len(schedules) > 1 else ""))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    _save_figure(fig, Canvas, args.out, dpi)
    print(f"wrote {args.out} ({width}x{height} px): {len(schedules)} schedule"
          f"{'s' if len(schedules) > 1 else ''} over {n:,} steps")
    return 0


# ================================================================================================ list


def list_lines(width: int = 100) -> list[str]:
    """Every family and combinator with its parameters, defaults and formula, from the classes."""
    from . import presets as P
    from . import schedules as S
    from ._spec import signature_text

    def entry(signature: str, summary: str) -> list[str]:
        body = textwrap.wrap(summary, width=width - 6) or [""]
        return [f"  {signature}"] + [f"      {line}" for line in body]

    lines = ["Schedule families: fastlr.<Family>(parameters); value at step t (t = 0-based update index).",
             "Every numeric parameter may be a number or an array (per-group, per-parameter LRs).", ""]
    families = [cls for cls in S._REGISTRY.values() if issubclass(cls, S.Family)]
    for cls in families:
        lines += entry(signature_text(cls), _doc_summary(cls))
        for name, member in vars(cls).items():
            if isinstance(member, classmethod) and not name.startswith("_"):
                method = getattr(cls, name)
                lines += entry(signature_text(method).replace(method.__qualname__,
                                                              f"{cls.__name__}.{name}"),
                               _doc_summary(method))
    lines += ["", "Combinators (results are schedules like any other):", ""]
    lines += entry(signature_text(S.join) + "  -> Join", _doc_summary(S.Join))
    lines += entry(signature_text(S.with_warmup) + "  -> WithWarmup", _doc_summary(S.WithWarmup))
    lines += entry("A * B  -> Product(first, second)", _doc_summary(S.Product))
    lines += entry("x * A, A * x  -> Scaled(schedule, factor)", _doc_summary(S.Scaled))
    lines += ["", "Presets (fastlr.presets):", ""]
    for name in P.__all__:
        lines += entry(signature_text(getattr(P, name)), _doc_summary(getattr(P, name)))
    lines += ["", "SPEC examples:",
              "  fastlr curve 'WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000)'",
              "  fastlr curve 'join([Linear(0, 1e-3, 500), Cosine(1e-3, 9_500)], [500])' --out lr.csv",
              "  fastlr plot 'OneCycle(0.1, 10_000)' 'Cyclic(1e-4, 1e-3, 500)' --steps 10_000 --out lr.png"]
    return lines


def cmd_list(args) -> int:
    print("\n".join(list_lines()))
    return 0


# ================================================================================================ bench


def cmd_bench(args) -> int:
    from ._report import run

    return run(args)


# ================================================================================================ demo


def demo_presets(n: int):
    """The practical defaults over a run of ``n`` updates: (name, what it is, schedule)."""
    from . import presets

    warmup = 2_000 if n >= 4_000 else max(n // 10, 1)
    return [
        ("vision", "cosine annealing, 5-epoch warmup (100 epochs)",
         presets.vision(peak_lr=0.1, epochs=100, steps_per_epoch=n / 100)),
        ("llm_pretraining", f"{warmup:,} warmup steps, then cosine to 10% of peak",
         presets.llm_pretraining(peak_lr=3e-4, total_steps=n, warmup_steps=warmup)),
        ("fine_tuning", "linear decay to 0", presets.fine_tuning(lr=2e-5, total_steps=n)),
        ("rl", "constant", presets.rl(lr=3e-4)),
    ]


def cmd_demo(args) -> int:
    import fastlr

    from ._report import format_table

    n = _count(args.steps, "--steps", 10)
    png = args.out
    _check_output(png)
    npy = os.path.splitext(png)[0] + ".npy"
    _check_output(npy, (".npy",))
    available = list(fastlr.backends())
    cases = demo_presets(n)
    print(f"fastlr demo: the practical defaults (fastlr.presets), {n:,} steps each, every available "
          f"backend ({', '.join(available)})")
    print()
    for name, what, schedule in cases:
        print(f"  {name:16s} {what}")
        print(f"  {'':16s} {_one_line(repr(schedule))}")
    print()
    rows = []
    curves = {}
    notes = []
    for name, _, schedule in cases:
        with fastlr.use_backend("numpy"):
            reference = schedule.curve(n)
        scale = float(np.max(np.abs(reference))) or 1.0
        for backend in available:
            buf = np.empty(n)
            try:
                with fastlr.use_backend(backend):
                    schedule.curve(min(n, 1000))  # load / compile outside the timing
                    best = math.inf
                    for _ in range(3):
                        begin = time.perf_counter()
                        schedule.curve(n, out=buf)
                        best = min(best, time.perf_counter() - begin)
            except Exception as error:  # a backend that fails to load is reported, not fatal
                notes.append(f"{backend} failed on {name}: {_one_line(error)}")
                continue
            diff = float(np.max(np.abs(buf - reference))) if n else 0.0
            rows.append([name, backend, _fmt_time(best), _fmt_rate(n / best if best > 0 else math.inf),
                         f"{diff:.3g}", f"{diff / scale:.2g}"])
            curves.setdefault(name, buf)
    print("\n".join(format_table(["preset", "backend", "time", "throughput", "max |diff| vs numpy",
                                  "relative to peak"], rows, "llrrrr")))
    for note in notes:
        print(f"note: {note}")
    print()

    llm = curves["llm_pretraining"]
    try:
        np.save(npy, llm)
    except OSError as error:
        raise CLIError(f"cannot write {npy!r}: {error.strerror or error}") from None
    print(f"saved the {n:,}-step LLM warmup-cosine curve (float64, backend {available[0]}) to {npy}  "
          f"(np.load('{npy}')[step] is the LR of update 'step')")

    parts = _import_matplotlib()
    if parts is None:
        print(f"no plot: matplotlib is not installed; to get {png}: {PLOT_HINT}")
        return 0
    Figure, Canvas = parts
    fig = Figure(figsize=(12, 7.5), dpi=100)
    steps = _sample_steps(n)
    for i, (name, what, _schedule) in enumerate(cases):
        ax = fig.add_subplot(2, 2, i + 1)
        ax.plot(steps, curves[name][steps], linewidth=1.5)
        ax.set_title(f"{name}: {what}", fontsize="medium")
        ax.set_xlabel("step")
        ax.set_ylabel("learning rate")
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    fig.suptitle(f"fastlr presets over {n:,} steps")
    fig.tight_layout()
    _save_figure(fig, Canvas, png, 100)
    print(f"drew the four curves to {png}")
    return 0


# ================================================================================================ main


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from ._report import add_arguments as add_bench_arguments

    parser = _Parser(prog="fastlr", description="Learning-rate schedules from the command line: evaluate, "
                     "plot, list, benchmark.", epilog="SPEC: a schedule as in Python, e.g. "
                     "'WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000)', or a JSON file "
                     "from to_dict(). See 'fastlr list'.")
    parser.add_argument("--version", action="version", version=f"fastlr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    curve = commands.add_parser("curve", help="evaluate a schedule over steps; print a summary or write "
                                ".npy/.csv/.txt", description="Evaluate SPEC at start, start+1, ..., "
                                "start+N-1.")
    curve.add_argument("spec", metavar="SPEC", help="a schedule (Python syntax) or a to_dict() JSON file")
    curve.add_argument("--steps", "-n", metavar="N", help="number of steps (default: the schedule's horizon)")
    curve.add_argument("--start", metavar="S", help="first step (default 0)")
    curve.add_argument("--out", "-o", metavar="FILE", help="write .npy, .csv (step,lr...) or .txt")
    curve.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    curve.add_argument("--backend", metavar="NAME",
                       help="cpp, numba or numpy (default: the fastest available)")
    curve.set_defaults(func=cmd_curve)

    plot = commands.add_parser("plot", help="draw schedules to an image (needs matplotlib)",
                               description="Draw one or more schedules, overlaid, to an image.")
    plot.add_argument("specs", metavar="SPEC", nargs="+")
    plot.add_argument("--out", "-o", metavar="FILE", default="lr.png", help="image file (default lr.png)")
    plot.add_argument("--steps", "-n", metavar="N", help="steps to draw (default: the longest horizon)")
    plot.add_argument("--log", action="store_true", help="logarithmic learning-rate axis")
    plot.add_argument("--title", metavar="T")
    plot.add_argument("--width", metavar="W", default="1000", help="pixels (default 1000)")
    plot.add_argument("--height", metavar="H", default="600", help="pixels (default 600)")
    plot.add_argument("--backend", metavar="NAME")
    plot.set_defaults(func=cmd_plot)

    listing = commands.add_parser("list", help="every family, combinator and preset with its parameters")
    listing.set_defaults(func=cmd_list)

    bench = commands.add_parser("bench", help="the benchmark report (family x backend x N)",
                                description="The benchmark report: ns per element per family, backend and "
                                "size, vs the numpy reference and the fill() floor.")
    add_bench_arguments(bench)
    bench.set_defaults(func=cmd_bench)

    demo = commands.add_parser("demo", help="the practical defaults, every backend, a table and a plot")
    demo.add_argument("--steps", "-n", metavar="N", default="1000000", help="steps per preset (default 1e6)")
    demo.add_argument("--out", "-o", metavar="FILE", default="fastlr-demo.png",
                      help="the plot (default fastlr-demo.png); the curve goes next to it as .npy")
    demo.set_defaults(func=cmd_demo)
    _ALL_PARSERS[:] = [parser, curve, plot, listing, bench, demo]
    return parser


def _error(message: str) -> None:
    sys.stderr.write(f"fastlr: error: {_one_line(message)}\n")
    sys.stderr.flush()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error, 1 internal error, 130 interrupted)."""
    from ._backends import BackendUnavailable
    from ._report import ReportError
    from ._spec import SpecError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args) or 0)
    except (CLIError, SpecError, ReportError) as error:
        _error(str(error))
        return 2
    except (TypeError, ValueError, BackendUnavailable, OverflowError) as error:
        if os.environ.get("FASTLR_DEBUG"):
            raise
        _error(str(error))
        return 2
    except SystemExit as exit_:  # --help, --version
        return exit_.code if isinstance(exit_.code, int) else 0
    except KeyboardInterrupt:
        sys.stderr.write("\nfastlr: interrupted\n")
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return 0
    except MemoryError:
        _error("out of memory: ask for fewer steps (or write a .npy, which is computed in chunks)")
        return 2
    except Exception as error:  # noqa: BLE001 - never a traceback for the user
        if os.environ.get("FASTLR_DEBUG"):
            raise
        _error(f"internal error: {type(error).__name__}: {error} (set FASTLR_DEBUG=1 for the traceback)")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
