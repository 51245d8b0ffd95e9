"""fastlr.plateau on a batch of metric histories (default: 10,000 runs x 1,000 epochs), every backend,
against torch's ReduceLROnPlateau stepped in a Python loop (timed on a few runs, per step).

    python bench/plateau_speed.py [--runs 10000] [--epochs 1000] [--repeat 3]

Prints the best of ``repeat`` timings per backend and checks every backend against the reference.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fastlr


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    metrics = np.cumsum(rng.normal(0, 1, (args.runs, args.epochs)), axis=1)
    rule = dict(patience=5, cooldown=2, factor=0.5, min_lr=1e-6)
    with fastlr.use_backend("numpy"):
        reference = fastlr.plateau(metrics[:200], 1e-3, **rule)
    print(f"plateau: {args.runs:,} runs x {args.epochs:,} epochs ({metrics.size:,} steps)")
    print("| backend | seconds | ns per step |")
    print("|---|---|---|")
    for backend in fastlr.backends():
        with fastlr.use_backend(backend):
            fastlr.plateau(metrics[:2], 1e-3, **rule)  # compile / warm up
            seconds, result = _best(lambda: fastlr.plateau(metrics, 1e-3, **rule), args.repeat)
        assert np.array_equal(result[:200], reference), backend
        print(f"| {backend} | {seconds:.3f} | {seconds / metrics.size * 1e9:.2f} |")
    try:
        import torch
    except ImportError:
        return
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **rule)
    sample = metrics[0]
    start = time.perf_counter()
    for value in sample:
        scheduler.step(float(value))
    per_step = (time.perf_counter() - start) / sample.size
    print(f"| torch ReduceLROnPlateau, a Python loop (extrapolated) | {per_step * metrics.size:.1f} | "
          f"{per_step * 1e9:.0f} |")


if __name__ == "__main__":
    main()
