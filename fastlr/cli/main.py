"""The argument parser and ``main()``: every error a user can cause becomes one line and an exit
status, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Optional

from .._backends import BackendUnavailable
from .._spec import SpecError
from .._version import __version__
from .bench import add_arguments as add_bench_arguments
from .bench import cmd_bench
from .curve import cmd_curve
from .demo import cmd_demo
from .plot import cmd_plot
from .spec import cmd_list
from .text import CLIError, one_line

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
EXIT_INTERRUPTED = 128 + signal.SIGINT


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line (and lets main() turn it into exit status 2)."""

    def error(self, message):  # noqa: D401 - argparse API
        hint = ""
        if message.startswith("unrecognized arguments:"):
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fastlr", description="Learning-rate schedules from the command line: evaluate, "
                     "plot, list, benchmark.", epilog="SPEC: a schedule as in Python, e.g. "
                     "'WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000)', or a JSON file "
                     "from to_dict(). See 'fastlr list'.")
    parser.add_argument("--version", action="version", version=f"fastlr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    curve = commands.add_parser("curve", help="evaluate a schedule over steps; print a summary or write "
                                ".npy/.csv/.txt", description="Evaluate SPEC at start, start+1, ..., "
                                "start+N-1. A file is written atomically, after checking the free space.")
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


class _Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so that a file being written is removed.
    A BaseException, so that no ``except Exception`` on the way swallows it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, frame) -> None:
    raise _Terminated(signum)


@contextlib.contextmanager
def _termination_unwinds() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`_Terminated` while a command runs (only where Python can: in
    the main thread); the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, _raise_terminated)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _say(message: str) -> None:
    """One line on stderr; on a terminal it starts at the line's beginning, over the echoed ``^C``."""
    try:
        start = "\r" if sys.stderr.isatty() else ""
    except (AttributeError, ValueError):
        start = ""
    sys.stderr.write(f"{start}fastlr: {one_line(message)}\n")
    sys.stderr.flush()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit status: 0 ok, 2 user error (bad input, a file that cannot be
    written), 1 internal error, 130 interrupted (Ctrl-C), 128 + the signal for SIGTERM and SIGHUP."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with _termination_unwinds():
            parser = build_parser()
            args = parser.parse_args(argv)
            if not getattr(args, "command", None):
                parser.print_help(sys.stderr)
                return EXIT_USER_ERROR
            return int(args.func(args) or 0)
    except (CLIError, SpecError) as error:
        _say(f"error: {error}")
        return EXIT_USER_ERROR
    except (TypeError, ValueError, BackendUnavailable, OverflowError) as error:
        if os.environ.get("FASTLR_DEBUG"):
            raise
        _say(f"error: {error}")
        return EXIT_USER_ERROR
    except SystemExit as exit_:  # --help, --version
        return exit_.code if isinstance(exit_.code, int) else 0
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except _Terminated as signalled:
        _say(f"terminated ({signal.Signals(signalled.signum).name})")
        return 128 + signalled.signum
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return 0
    except MemoryError:
        _say("error: out of memory: ask for fewer steps")
        return EXIT_USER_ERROR
    except Exception as error:  # noqa: BLE001 - never a traceback for the user
        if os.environ.get("FASTLR_DEBUG"):
            raise
        _say(f"error: internal error: {type(error).__name__}: {error} (set FASTLR_DEBUG=1 for the traceback)")
        return EXIT_INTERNAL_ERROR
