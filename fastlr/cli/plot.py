"""``fastlr plot``: draw one or more schedules, overlaid, to an image (with matplotlib, optional)."""

from __future__ import annotations

import math
import os

import numpy as np

from .._files import atomic_output
from .._save import group_names
from .options import backend_context, check_output, count, write_error
from .spec import parse, short_repr
from .text import CLIError, one_line

PLOT_HINT = "pip install 'fastlr[plot]'  (or: pip install matplotlib)"
PLOT_POINTS = 20_001  # at most this many sampled steps per plotted curve


def import_matplotlib():
    """``(Figure, FigureCanvasAgg)``, or ``None`` when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure, FigureCanvasAgg


def sample_steps(n: int) -> np.ndarray:
    """All steps of a short run; ``PLOT_POINTS`` evenly spaced ones (first and last included) of a long
    one."""
    if n <= PLOT_POINTS:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.rint(np.linspace(0, n - 1, PLOT_POINTS)).astype(np.int64))


def _plot_lines(ax, schedule, steps, label, max_groups=8):
    values = schedule(steps.reshape((len(steps),) + (1,) * len(schedule.param_shape)))
    flat = np.asarray(values).reshape(len(steps), -1)
    names = group_names(schedule.param_shape)
    for g in range(flat.shape[1]):
        if schedule.param_shape:
            line_label = f"{label} [{names[g][3:]}]" if g < max_groups else None
        else:
            line_label = label
        ax.plot(steps, flat[:, g], label=line_label, linewidth=1.4)


def save_figure(fig, canvas_cls, path: str, dpi: int) -> None:
    """Render ``fig`` to ``path`` (the format from its extension), atomically."""
    canvas_cls(fig)
    image_format = os.path.splitext(path)[1][1:].lower() or None
    try:
        with atomic_output(path) as handle:
            fig.savefig(handle, dpi=dpi, format=image_format)
    except OSError as error:
        raise CLIError(write_error(path, error)) from None
    except ValueError as error:  # unsupported format
        raise CLIError(f"cannot write {path!r}: {one_line(error)}") from None


def cmd_plot(args) -> int:
    schedules = [parse(spec) for spec in args.specs]
    if args.steps is not None:
        n = count(args.steps, "--steps")
    else:
        horizons = [s.horizon for s in schedules if s.horizon is not None]
        if not horizons:
            raise CLIError("none of the schedules settles (no horizon): pass --steps N")
        n = max(int(math.ceil(max(horizons))), 1)
    width = count(args.width, "--width", 16)
    height = count(args.height, "--height", 16)
    if width > 20_000 or height > 20_000:
        raise CLIError(f"--width/--height must be at most 20000 pixels, got {width}x{height}")
    check_output(args.out)
    matplotlib_parts = import_matplotlib()
    if matplotlib_parts is None:
        raise CLIError(f"fastlr plot needs matplotlib, which is not installed: {PLOT_HINT}")
    Figure, Canvas = matplotlib_parts
    steps = sample_steps(n)
    dpi = 100
    with backend_context(args.backend):
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
    save_figure(fig, Canvas, args.out, dpi)
    print(f"wrote {args.out} ({width}x{height} px): {len(schedules)} schedule"
          f"{'s' if len(schedules) > 1 else ''} over {n:,} steps")
    return 0
