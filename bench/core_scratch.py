"""Scratch benchmark of fastlr._core (not a pytest file): ns/element, threads, cold/warm pool.

    python bench/core_scratch.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_core_direct as T  # noqa: E402  (reuses its loader and helpers)

_core, P, R = T._core, T.P, T.R


def best(fn, reps=7):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def curve_call(prog, n, dtype):
    cp = T.core_program(prog)
    out = np.empty(n, dtype=dtype)
    ss = np.array([1], dtype=np.int64)
    shape = np.array([n], dtype=np.int64)
    st = np.zeros((len(prog.operand_shape), 1), dtype=np.int64)
    return lambda: cp.evaluate(None, ss, 0.0, out, shape, st)


FAMILIES = {
    "WarmupCosine": (T.build(P.WARMUP_COSINE, [3e-4, 1e7, 1e5, 3e-5, 0.0]),
                     lambda t: R.warmup_cosine(t, 3e-4, 1e7, 1e5, 3e-5, 0.0)),
    "Linear": (T.build(P.LINEAR, [1e-3, 0.0, 1e7]), lambda t: R.linear(t, 1e-3, 0.0, 1e7)),
    "CosineRestarts": (T.build(P.COSINE_RESTARTS, [0.1, 1000.0, 1e-4, 2.0, 0.9, np.inf]),
                       lambda t: R.cosine_restarts(t, 0.1, 1000.0, 1e-4, 2.0, 0.9, np.inf)),
    "OneCycle": (T.build(P.ONE_CYCLE, [0.1, 1e7, 0.3, 25.0, 1e4], mode=0),
                 lambda t: R.one_cycle(t, 0.1, 1e7, 0.3, 25.0, 1e4, "cos", False)),
    "StepDecay": (T.build(P.STEP_DECAY, [0.1, 0.5, 1e5]), lambda t: R.step_decay(t, 0.1, 0.5, 1e5)),
}


def main():
    print(_core.cpu_features(), _core.build_info())
    for n in (10**6, 10**7):
        buf = np.empty(n)
        fill = best(lambda: buf.fill(1.0)) / n * 1e9
        buf32 = np.empty(n, dtype=np.float32)
        fill32 = best(lambda: buf32.fill(1.0)) / n * 1e9
        a, b, c = np.random.rand(n), np.random.rand(n), np.empty(n)
        mul = best(lambda: np.multiply(a, b, out=c)) / n * 1e9
        print(f"n={n:.0e}: fill f64 {fill:.3f} ns/el, fill f32 {fill32:.3f}, multiply {mul:.3f}")
        t = np.arange(n, dtype=np.float64)
        for name, (prog, ref) in FAMILIES.items():
            row = []
            for nt in (1, 2):
                _core.set_num_threads(nt)
                for dt in (np.float64, np.float32):
                    row.append(best(curve_call(prog, n, dt)) / n * 1e9)
            _core.set_portable(True)
            _core.set_num_threads(1)
            port = best(curve_call(prog, n, np.float64)) / n * 1e9
            _core.set_portable(False)
            with np.errstate(all="ignore"):
                rt = best(lambda: ref(t), reps=2) / n * 1e9
            print(f"  {name:15s} 1t f64 {row[0]:.3f} f32 {row[1]:.3f} | 2t f64 {row[2]:.3f} f32 {row[3]:.3f}"
                  f" | portable 1t f64 {port:.3f} | ref {rt:.1f} ns/el  (x{rt / row[2]:.0f} vs 2t)")
        # per element: int64 steps + per-element peak_lr operand into float64
        peak = np.random.rand(n) * 1e-3
        prog = T.build(P.WARMUP_COSINE, [peak, 1e7, 1e5, 3e-5, 0.0])
        cp = T.core_program(prog)
        steps = np.arange(n, dtype=np.int64)
        out = np.empty(n)
        st = prog.operand_strides((n,))
        one, shape = np.array([1], dtype=np.int64), np.array([n], dtype=np.int64)
        for nt in (1, 2):
            _core.set_num_threads(nt)
            pe = best(lambda: cp.evaluate(steps, one, 0.0, out, shape, st)) / n * 1e9
            print(f"  per-element WarmupCosine (int64 steps, array peak) {nt}t: {pe:.3f} ns/el")
    _core.set_num_threads(2)
    # scalar path
    cp = T.core_program(FAMILIES["WarmupCosine"][0])
    k = 200_000
    t0 = time.perf_counter()
    for i in range(k):
        cp.scalar(1234.0)
    print(f"scalar(): {(time.perf_counter() - t0) / k * 1e9:.0f} ns/call")
    if "--cold" not in sys.argv:
        return
    # cold / warm pool
    prog = FAMILIES["WarmupCosine"][0]
    for n in (10**4, 3 * 10**4, 10**5, 3 * 10**5, 10**6, 10**7):
        res = {}
        for nt in (1, 2):
            _core.set_num_threads(nt)
            _core._set_parallel_threshold(0)
            f = curve_call(prog, n, np.float64)
            warm = best(f, reps=20)
            colds = []
            for _ in range(10):
                time.sleep(0.05)
                t0 = time.perf_counter()
                f()
                colds.append(time.perf_counter() - t0)
            res[nt] = (warm * 1e6, float(np.median(colds)) * 1e6)
        print(f"  n={n:.0e}: 1t warm {res[1][0]:.0f} us cold {res[1][1]:.0f} us | "
              f"2t warm {res[2][0]:.0f} us cold {res[2][1]:.0f} us")
    _core._set_parallel_threshold(200000)


if __name__ == "__main__":
    main()
