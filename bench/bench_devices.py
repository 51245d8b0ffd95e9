"""Schedules on other array libraries, the CPU figures (the GPU ones: bench/gpu_check.py).

    python bench/bench_devices.py                 # JAX vs optax; dask vs in-process, 2 GB sweep
    python bench/bench_devices.py --sweep-gb 0.2  # smaller sweep
    python bench/bench_devices.py --configs 10000 --steps 1000000   # the 80 GB sweep, out of core

1. JAX under jit: a WarmupCosine of N counts (float32, int32 counts, as optax's count) beside optax's
   own ``warmup_cosine_decay_schedule``. Target: within 2x.
2. dask: mean LR per configuration and final LR of a sweep (configurations x steps, float64) on a
   ``LocalCluster`` of 2 worker processes (one thread and one fastlr thread each), beside the C++ core
   in this process (2 threads) evaluating the same sweep block by block into one reused buffer.
   Target: at least 50% of the in-process throughput.

Every figure checks its result against the in-process one. Under pytest (the normal test run) a
smoke test runs both at a tiny size.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import fastlr  # noqa: E402


def best_of(function, repeat: int = 3) -> float:
    function()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def jax_vs_optax(n: int) -> tuple[float, float]:
    import jax
    import jax.numpy as jnp
    import optax

    counts = jnp.asarray(np.random.default_rng(0).integers(0, 120_000, size=n).astype(np.int32))
    ours = jax.jit(fastlr.WarmupCosine(peak_lr=1e-3, total_steps=100_000, warmup_steps=2_000, min_lr=1e-5))
    theirs = jax.jit(optax.warmup_cosine_decay_schedule(0.0, 1e-3, 2_000, 100_000, 1e-5))
    np.testing.assert_allclose(np.asarray(ours(counts)), np.asarray(theirs(counts)), rtol=0, atol=1e-9)
    ours_time = best_of(lambda: ours(counts).block_until_ready())
    theirs_time = best_of(lambda: theirs(counts).block_until_ready())
    return ours_time, theirs_time


def sweep_schedule(configs: int) -> fastlr.Schedule:
    rng = np.random.default_rng(0)
    peak = rng.uniform(1e-4, 1e-2, configs)
    return fastlr.WarmupCosine(peak_lr=peak, total_steps=rng.integers(1_000, 10_000_000, configs).astype(float),
                               warmup_steps=rng.integers(0, 1_000, configs).astype(float), min_lr=peak * 0.01)


def in_process(schedule, n_steps: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and final LR per configuration by the C++ core here, block by block (no n x configs array)."""
    configs = schedule.param_shape[0]
    buffer = np.empty((block, configs))
    total = np.zeros(configs)
    for start in range(0, n_steps, block):
        rows = min(block, n_steps - start)
        schedule.curve(rows, start=start, out=buffer[:rows])
        total += buffer[:rows].sum(axis=0)
    return total / n_steps, schedule.curve(1, start=n_steps - 1)[0]


def on_dask(schedule, n_steps: int, chunk_steps: int, scheduler=None) -> tuple[np.ndarray, np.ndarray]:
    import dask

    import fastlr.dask as fastlr_dask

    lazy = schedule(fastlr_dask.steps(n_steps, chunks=chunk_steps))
    mean, final = dask.compute(lazy.mean(axis=0), lazy[-1], scheduler=scheduler)
    return mean, final


def sweep(configs: int, n_steps: int, threads: int = 2) -> dict[str, float]:
    from distributed import Client, LocalCluster

    schedule = sweep_schedule(configs)
    block = max(1, (16 << 20) // (8 * configs))  # 16 MiB blocks, as dask chunks (they stay in cache)
    fastlr.set_num_threads(threads)
    start = time.perf_counter()
    expected_mean, expected_final = in_process(schedule, n_steps, block)
    local = time.perf_counter() - start
    chunk_steps = max(1, (64 << 20) // (8 * configs))
    with LocalCluster(n_workers=threads, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40, env={"FASTLR_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}) as cluster, \
            Client(cluster):
        on_dask(schedule, min(n_steps, 4 * chunk_steps), chunk_steps)  # warm the workers (imports)
        start = time.perf_counter()
        mean, final = on_dask(schedule, n_steps, chunk_steps)
        distributed = time.perf_counter() - start
    np.testing.assert_allclose(mean, expected_mean, rtol=n_steps * 2.0**-52)
    np.testing.assert_array_equal(final, expected_final)
    elements = configs * n_steps
    return {"elements": elements, "in_process_s": local, "dask_s": distributed,
            "in_process_gb_s": elements * 8 / local / 1e9, "dask_gb_s": elements * 8 / distributed / 1e9}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jax-n", type=float, default=1e7)
    parser.add_argument("--sweep-gb", type=float, default=2.0, help="size of the sweep (float64 GB)")
    parser.add_argument("--configs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=0, help="steps of the sweep (default: from --sweep-gb)")
    args = parser.parse_args()
    n = int(args.jax_n)
    ours, theirs = jax_vs_optax(n)
    print(f"JAX jit, {n:,} counts: fastlr {ours * 1e3:.2f} ms ({ours / n * 1e9:.3f} ns/element), optax "
          f"{theirs * 1e3:.2f} ms ({theirs / n * 1e9:.3f} ns/element): {ours / theirs:.2f}x "
          f"({'within' if ours <= 2 * theirs else 'MISSES'} the 2x target)")
    steps = args.steps or int(args.sweep_gb * 1e9 / 8 / args.configs)
    figures = sweep(args.configs, steps)
    ratio = figures["in_process_s"] / figures["dask_s"]
    print(f"sweep {args.configs:,} configurations x {steps:,} steps ({figures['elements'] * 8 / 1e9:.2f} GB float64), "
          f"mean and final LR per configuration: in process (C++ core, 2 threads) {figures['in_process_s']:.2f} s "
          f"({figures['in_process_gb_s']:.2f} GB/s); dask LocalCluster 2 workers {figures['dask_s']:.2f} s "
          f"({figures['dask_gb_s']:.2f} GB/s): {100 * ratio:.0f}% of in-process "
          f"({'meets' if ratio >= 0.5 else 'MISSES'} the 50% target)")
    return 0


def test_devices_smoke():
    """Both measurements at a tiny size, their results checked (no timing asserted)."""
    import pytest

    pytest.importorskip("optax")
    pytest.importorskip("dask")
    jax_vs_optax(10_000)
    schedule = sweep_schedule(7)
    mean, final = on_dask(schedule, 1_000, 300, scheduler="sync")
    expected_mean, expected_final = in_process(schedule, 1_000, 128)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-12)
    np.testing.assert_array_equal(final, expected_final)


if __name__ == "__main__":
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    sys.exit(main())
