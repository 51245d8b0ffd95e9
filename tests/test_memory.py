"""Memory: many small and many large evaluations do not grow the process's RSS beyond a stated bound;
requests too large for memory raise MemoryError cleanly (numpy's, from the facade's allocation).

Statement of the bound: after a warm-up, 1,000,000 small calls and 10,000 calls on 100,000-element
arrays grow the RSS by less than RSS_BOUND_MB. The CI profile (env CI) runs 200,000 small and 1,000 large
calls against the same bound.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import fastlr

IN_CI = bool(os.environ.get("CI"))
RSS_BOUND_MB = 20
SMALL_CALLS = 200_000 if IN_CI else 1_000_000
LARGE_CALLS = 1_000 if IN_CI else 10_000
LARGE_SIZE = 100_000

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _small_round(s, arr_s, steps, out, k):
    s(k % 5000)
    s(float(k % 5000) + 0.5)
    s(steps, out=out)
    arr_s(steps[:3, None])


def test_many_small_calls_do_not_leak(backend):
    s = fastlr.WarmupCosine(3e-4, 5000, 100, 3e-5)
    arr_s = fastlr.Cosine(np.array([1.0, 0.5]), 1000) * 2.0
    steps = np.arange(8)
    out = np.empty(8)
    calls_per_round = 4
    for k in range(20_000):  # warm-up: compile, caches, allocator pools
        _small_round(s, arr_s, steps, out, k)
    before = rss_mb()
    for k in range(SMALL_CALLS // calls_per_round):
        _small_round(s, arr_s, steps, out, k)
    grown = rss_mb() - before
    assert grown < RSS_BOUND_MB, f"{backend}: RSS grew {grown:.1f} MB over {SMALL_CALLS} small calls"


def test_many_large_calls_do_not_leak(backend):
    schedules = [fastlr.WarmupCosine(3e-4, LARGE_SIZE, 1000, 3e-5),
                 fastlr.CosineRestarts(1.0, 777, 0.0, 2.0, 0.5) * np.array([1.0]),
                 fastlr.join([fastlr.Linear(0, 1, 10), fastlr.Cosine(1, LARGE_SIZE)], [10])]
    steps = np.arange(LARGE_SIZE, dtype=np.int64)
    out32 = np.empty(LARGE_SIZE, dtype=np.float32)
    for k in range(30):
        s = schedules[k % 3]
        s(steps[:, None]) if s.param_shape else s(steps)
        schedules[0](steps, out=out32)
        schedules[0].curve(LARGE_SIZE)
    before = rss_mb()
    for k in range(LARGE_CALLS):
        s = schedules[k % 3]
        if k % 3 == 0:
            s(steps, out=out32)
        elif k % 3 == 1:
            s.curve(LARGE_SIZE)
        else:
            s(steps)
    grown = rss_mb() - before
    assert grown < RSS_BOUND_MB, f"{backend}: RSS grew {grown:.1f} MB over {LARGE_CALLS} large calls"


def test_curve_too_large_for_memory_raises_memory_error(backend):
    s = fastlr.Cosine(1.0, 1000)
    for dtype in (np.float64, np.float32):
        with pytest.raises(MemoryError):
            s.curve(2**50, dtype=dtype)
    assert s(3) == fastlr.Cosine(1.0, 1000)(3)  # the process is fine afterwards
    assert s.curve(10).shape == (10,)


def test_broadcast_result_too_large_raises_memory_error(backend):
    # parameters of shapes (2**16, 1, 1) and (1, 2**16, 1), steps (2**16,): 2**48 elements, 2 PiB
    s = fastlr.Linear(start_lr=np.ones((2**16, 1, 1)), end_lr=np.zeros((1, 2**16, 1)), total_steps=100)
    steps = np.arange(2**16)
    with pytest.raises(MemoryError):
        s(steps)
    with pytest.raises(MemoryError):
        s(steps, dtype=np.float32)
    with pytest.raises(MemoryError):
        s.curve(2**16)
    small = fastlr.Linear(start_lr=np.ones((2, 1, 1)), end_lr=np.zeros((1, 2, 1)), total_steps=100)
    assert small(steps[:3]).shape == (2, 2, 3)
