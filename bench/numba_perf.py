"""numba backend figures beside the numpy reference, measured in one process (ratios are what count).

``python bench/numba_perf.py [--sizes 1e6,1e7] [--repeat 5] [--threads N]``: ns per element (best of
``repeat``; CPU time of the calling thread with 1 thread, wall time with the default threads), the
per-element path (int64 steps + per-element peak_lr), the scalar call, and numba's compile report.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import fastlr  # noqa: E402


def families(n):
    """Every family, with the parameters of a training run of ``n`` steps."""
    return {
        "Constant": fastlr.Constant(0.1),
        "Linear": fastlr.Linear(1.0, 0.0, n),
        "StepDecay": fastlr.StepDecay(1.0, step_size=n // 10, gamma=0.5),
        "MultiStep": fastlr.MultiStep(1.0, milestones=[n // 4, n // 2, 3 * n // 4], gamma=0.1),
        "Exponential": fastlr.Exponential(1.0, gamma=0.999999, min_lr=1e-3),
        "InverseTime": fastlr.InverseTime(1.0, decay_rate=0.5, decay_steps=n // 100),
        "Polynomial": fastlr.Polynomial(1.0, 0.0, n, power=1.5),
        "Cosine": fastlr.Cosine(1.0, n, 0.01),
        "CosineRestarts": fastlr.CosineRestarts(peak_lr=1.0, cycle_steps=1_000, cycle_mult=2.0, min_lr=0.01),
        "WarmupCosine": fastlr.WarmupCosine(peak_lr=3e-4, total_steps=n, warmup_steps=n // 50, min_lr=3e-5),
        "WarmupStableDecay": fastlr.WarmupStableDecay(peak_lr=1.0, total_steps=n, warmup_steps=n // 50,
                                                      decay_steps=n // 5),
        "OneCycle": fastlr.OneCycle(max_lr=1.0, total_steps=n),
        "Cyclic": fastlr.Cyclic(0.1, 1.0, step_size_up=2_000, mode="exp_range", gamma=0.99999),
        "InverseSqrt": fastlr.InverseSqrt(1.0, warmup_steps=n // 100),
        "Tanh": fastlr.Tanh(1.0, n, 0.01),
        "PiecewiseConstant": fastlr.PiecewiseConstant([n // 3, 2 * n // 3], [1.0, 0.5, 0.1]),
        "PiecewiseLinear": fastlr.PiecewiseLinear([0, n // 10, n], [0.0, 1.0, 0.1]),
    }


def best(fn, repeat):
    cpu = wall = float("inf")
    for _ in range(repeat):
        c0, w0 = time.thread_time(), time.perf_counter()
        fn()
        c1, w1 = time.thread_time(), time.perf_counter()
        cpu, wall = min(cpu, c1 - c0), min(wall, w1 - w0)
    return cpu, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1e6,1e7")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    with fastlr.use_backend("numpy"):  # load it before set_num_threads (the numpy backend has none)
        fastlr.Linear(1.0, 0.0, 10).curve(2)
    threads = fastlr.get_num_threads()
    print(f"numba threads default {threads}; ns/elem: numba cpu(1 thread) | numba wall({threads} thr) | "
          f"numpy wall | numpy/numba(1 thr cpu) | numpy/numba(wall)")
    t0 = time.perf_counter()
    for n in sizes:
        for name, s in families(n).items():
            if args.only and name not in args.only.split(","):
                continue
            out = np.empty(n)
            with fastlr.use_backend("numba"):
                c0 = time.perf_counter()
                s.curve(n, out=out)
                first = time.perf_counter() - c0
                fastlr.set_num_threads(1)
                cpu1, _ = best(lambda: s.curve(n, out=out), args.repeat)
                fastlr.set_num_threads(threads)
                _, wall = best(lambda: s.curve(n, out=out), args.repeat)
            with fastlr.use_backend("numpy"):
                ref = np.empty(n)
                _, rwall = best(lambda: s.curve(n, out=ref), max(2, args.repeat // 2))
            err = np.max(np.abs(out - ref)) / np.max(np.abs(ref))
            print(f"N={n:.0e} {name:15s} {1e9 * cpu1 / n:7.2f} | {1e9 * wall / n:7.2f} | {1e9 * rwall / n:7.2f} |"
                  f" x{rwall / cpu1:6.1f} | x{rwall / wall:6.1f}   (first {first:.2f}s, rel err {err:.1e})")
    # per element: 10M int64 steps + per-element peak_lr
    n = 10_000_000
    rng = np.random.default_rng(0)
    steps = rng.integers(0, 120_000, size=n, dtype=np.int64)
    peak = rng.uniform(1e-4, 1e-3, size=n)
    s = fastlr.WarmupCosine(peak_lr=peak, total_steps=100_000, warmup_steps=2_000, min_lr=peak * 0.1)
    out = np.empty(n)
    with fastlr.use_backend("numba"):
        s(steps, out=out)
        fastlr.set_num_threads(1)
        cpu1, _ = best(lambda: s(steps, out=out), args.repeat)
        fastlr.set_num_threads(threads)
        _, wall = best(lambda: s(steps, out=out), args.repeat)
    with fastlr.use_backend("numpy"):
        ref = np.empty(n)
        _, rwall = best(lambda: s(steps, out=ref), 2)
    print(f"per-element 10M int64 + peak_lr  {1e9 * cpu1 / n:7.2f} | {1e9 * wall / n:7.2f} | {1e9 * rwall / n:7.2f} |"
          f" x{rwall / cpu1:6.1f} | x{rwall / wall:6.1f}  (max abs err {np.max(np.abs(out - ref)):.1e})")
    # scalar and small arrays
    s = fastlr.WarmupCosine(peak_lr=3e-4, total_steps=100_000, warmup_steps=2_000, min_lr=3e-5)
    small = np.arange(1000, dtype=np.int64)
    sout = np.empty(1000)
    for backend in ("numba", "numpy"):
        with fastlr.use_backend(backend):
            s(5)
            s(small, out=sout)
            k = 20000 if backend == "numba" else 2000
            c0 = time.perf_counter()
            for i in range(k):
                s(i)
            sc = (time.perf_counter() - c0) / k
            c0 = time.perf_counter()
            for i in range(k // 10):
                s(small, out=sout)
            sm = (time.perf_counter() - c0) / (k // 10)
            print(f"{backend:6s} scalar s(i): {1e6 * sc:8.2f} us   1e3 int64 array: {1e6 * sm:8.2f} us")
    from fastlr import _numba

    print("compile report:", _numba.compile_report())
    print(f"total {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
