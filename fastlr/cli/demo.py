"""``fastlr demo``: the practical defaults (fastlr.presets) with every available backend, timed and
checked against the numpy reference; the LLM curve saved as .npy and the four curves drawn."""

from __future__ import annotations

import math
import os
import time

import numpy as np

from .. import presets
from .._backends import backends, use_backend
from .._files import atomic_output
from .options import check_output, count, write_error
from .plot import PLOT_HINT, import_matplotlib, sample_steps, save_figure
from .text import CLIError, fmt_rate, fmt_time, format_table, one_line


def demo_presets(n: int):
    """The practical defaults over a run of ``n`` updates: (name, what it is, schedule)."""
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
    n = count(args.steps, "--steps", 10)
    png = args.out
    check_output(png)
    npy = os.path.splitext(png)[0] + ".npy"
    check_output(npy, (".npy",))
    available = list(backends())
    cases = demo_presets(n)
    print(f"fastlr demo: the practical defaults (fastlr.presets), {n:,} steps each, every available "
          f"backend ({', '.join(available)})")
    print()
    for name, what, schedule in cases:
        print(f"  {name:16s} {what}")
        print(f"  {'':16s} {one_line(repr(schedule))}")
    print()
    rows = []
    curves = {}
    notes = []
    for name, _, schedule in cases:
        with use_backend("numpy"):
            reference = schedule.curve(n)
        scale = float(np.max(np.abs(reference))) or 1.0
        for backend in available:
            buf = np.empty(n)
            try:
                with use_backend(backend):
                    schedule.curve(min(n, 1000))  # load / compile outside the timing
                    best = math.inf
                    for _ in range(3):
                        begin = time.perf_counter()
                        schedule.curve(n, out=buf)
                        best = min(best, time.perf_counter() - begin)
            except Exception as error:  # a backend that fails to load is reported, not fatal
                notes.append(f"{backend} failed on {name}: {one_line(error)}")
                continue
            diff = float(np.max(np.abs(buf - reference))) if n else 0.0
            rows.append([name, backend, fmt_time(best), fmt_rate(n / best if best > 0 else math.inf),
                         f"{diff:.3g}", f"{diff / scale:.2g}"])
            curves.setdefault(name, buf)
    print("\n".join(format_table(["preset", "backend", "time", "throughput", "max |diff| vs numpy",
                                  "relative to peak"], rows, "llrrrr")))
    for note in notes:
        print(f"note: {note}")
    print()

    llm = curves["llm_pretraining"]
    try:
        with atomic_output(npy, size=llm.nbytes + 128) as handle:
            np.save(handle, llm)
    except OSError as error:
        raise CLIError(write_error(npy, error)) from None
    print(f"saved the {n:,}-step LLM warmup-cosine curve (float64, backend {available[0]}) to {npy}  "
          f"(np.load('{npy}')[step] is the LR of update 'step')")

    parts = import_matplotlib()
    if parts is None:
        print(f"no plot: matplotlib is not installed; to get {png}: {PLOT_HINT}")
        return 0
    Figure, Canvas = parts
    fig = Figure(figsize=(12, 7.5), dpi=100)
    steps = sample_steps(n)
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
    save_figure(fig, Canvas, png, 100)
    print(f"drew the four curves to {png}")
    return 0
