"""Concurrency: Python threads evaluating different schedules at once give exactly the single-threaded
results (per backend); a process that forks after using the C++ core and numba evaluates in the child
without hanging; a spawn-start-method multiprocessing pool evaluates schedules."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from tolerance import TOLERANCE, peak, peak_allowance

import fastlr

IN_CI = bool(os.environ.get("CI"))
N_THREADS = 8
SIZE = 600_000 if IN_CI else 1_000_000  # above both backends' thread thresholds (200k, 512k)
REPEATS = 4 if IN_CI else 20
PACKAGE_ROOT = str(Path(fastlr.__file__).resolve().parent.parent)


def _schedules():
    return [
        fastlr.WarmupCosine(peak_lr=3e-4, total_steps=SIZE, warmup_steps=SIZE // 10, min_lr=3e-5),
        fastlr.CosineRestarts(peak_lr=1.0, cycle_steps=1000, min_lr=0.01, cycle_mult=2.0, cycle_decay=0.7),
        fastlr.OneCycle(max_lr=0.1, total_steps=SIZE, three_phase=True),
        fastlr.Cyclic(0.01, 0.1, 2000, mode="triangular2"),
        fastlr.WarmupStableDecay(1.0, SIZE, 1000, SIZE // 5, 0.01, decay_shape="1-sqrt"),
        fastlr.with_warmup(fastlr.Exponential(1.0, 0.999), 500) * np.array([1.0, 0.5]),
        fastlr.join([fastlr.Linear(0.0, 1.0, 100), fastlr.InverseSqrt(1.0, 100)], [100]),
        fastlr.PiecewiseLinear([0, 10, SIZE // 2, SIZE], [0.0, 1.0, 0.5, 0.0]),
    ]


def test_threads_give_the_single_threaded_results(backend):
    schedules = _schedules()
    steps = np.arange(SIZE, dtype=np.int64)
    float_steps = np.linspace(0, 2 * SIZE, SIZE // 2)
    expected = [(s(steps[:, None] if s.param_shape else steps), s(float_steps, dtype=np.float32)
                 if not s.param_shape else s.curve(SIZE // 4, start=0.5, dtype=np.float32))
                for s in schedules]
    errors = []
    barrier = threading.Barrier(N_THREADS)

    def worker(k):
        try:
            with fastlr.use_backend(backend):  # a new thread does not inherit the context
                s = schedules[k % len(schedules)]
                barrier.wait()
                for _ in range(REPEATS):
                    a = s(steps[:, None] if s.param_shape else steps)
                    b = s(float_steps, dtype=np.float32) if not s.param_shape else \
                        s.curve(SIZE // 4, start=0.5, dtype=np.float32)
                    if not (np.array_equal(a, expected[k % len(schedules)][0]) and
                            np.array_equal(b, expected[k % len(schedules)][1])):
                        errors.append(f"thread {k}: {s!r} differs from the single-threaded result")
                        return
        except Exception as error:  # reported below
            errors.append(f"thread {k}: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "threads hung"
    assert not errors, errors


def test_threads_with_different_backends_at_once():
    """Each thread's ``use_backend`` is its own: concurrent threads on different backends don't mix."""
    s = fastlr.WarmupCosine(1.0, 10_000, 100, 0.1)
    steps = np.arange(50_000)
    with fastlr.use_backend("numpy"):
        expected = s(steps)
    allowed = peak_allowance(peak(s), TOLERANCE["reference_peak_ulps"])
    names = fastlr.backends()
    errors = []

    def worker(k):
        name = names[k % len(names)]
        with fastlr.use_backend(name):
            for _ in range(REPEATS):
                if fastlr.get_backend() != name:
                    errors.append(f"thread {k}: backend {fastlr.get_backend()} != {name}")
                got = s(steps)
                if np.any(np.abs(got - expected) > allowed):
                    errors.append(f"thread {k} ({name}): wrong values")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[:5]


_FORK_SCRIPT = textwrap.dedent("""
    import os, sys, signal, warnings
    warnings.simplefilter("ignore")
    sys.path.insert(0, {root!r})
    import numpy as np, fastlr
    s = fastlr.WarmupCosine(1.0, 1_000_000, 1000, 0.1)
    big = np.arange(2_000_000)
    small = np.arange(10)
    results = {{}}
    for name in fastlr.backends():
        with fastlr.use_backend(name):
            results[name] = (s(big), s(small), s(5))  # large calls start the backends' thread pools
    pid = os.fork()
    if pid == 0:
        signal.alarm(120)
        ok = True
        for name in fastlr.backends():
            with fastlr.use_backend(name):
                a, b, c = s(big), s(small), s(5)
                ok &= np.array_equal(a, results[name][0]) and np.array_equal(b, results[name][1]) and c == results[name][2]
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    print("child status", status)
    sys.exit(0 if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 1)
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_after_using_the_backends():
    script = _FORK_SCRIPT.format(root=PACKAGE_ROOT)
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("forked child (or parent) hung")
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"


def _evaluate(args):
    data, backend, n = args
    schedule = fastlr.from_dict(data)
    with fastlr.use_backend(backend):
        return schedule.curve(n)


def test_spawn_pool(backend):
    schedules = _schedules()[:4]
    with fastlr.use_backend("numpy"):
        expected = [s.curve(20_000) for s in schedules]
    peaks = [peak(s) for s in schedules]
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        result = pool.map_async(_evaluate, [(s.to_dict(), backend, 20_000) for s in schedules])
        got = result.get(timeout=300)
    for s, a, b, peak_s in zip(schedules, got, expected, peaks):
        assert a.shape == b.shape
        assert np.all(np.abs(a - b) <= peak_allowance(peak_s, TOLERANCE["reference_peak_ulps"])), repr(s)
    # pickled schedules too
    with context.Pool(2) as pool:
        got = pool.map_async(_pickled, [(s, backend) for s in schedules]).get(timeout=300)
    for a, b, peak_s in zip(got, expected, peaks):
        assert np.all(np.abs(a - b) <= peak_allowance(peak_s, TOLERANCE["reference_peak_ulps"]))


def _pickled(args):
    schedule, backend = args
    with fastlr.use_backend(backend):
        return schedule.curve(20_000)
