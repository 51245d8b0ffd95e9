"""Compile time of the numba backend per family, on an empty cache and from the on-disk cache.

``python bench/numba_compile.py [--families WarmupCosine,Tanh] [--mix] [--repeat 3]``: for each family, a
fresh process with an empty numba cache (``NUMBA_CACHE_DIR`` points at a new temporary directory) times
``import numba``, ``import fastlr`` and the first ``s(np.arange(1000))`` (compile + run; wall and, in
parentheses, CPU time of the process: on a shared machine the wall time includes waiting), then ``s(5)`` (the
scalar entry point, the same kernel); a second process on the same, now filled, cache times the same
calls. ``--mix`` adds a composite of several families (the kernel with every family). The last line
sums the first uses over the families. ``--repeat N``: each figure is the least of N such pairs (on a
shared machine, the others only add time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCHEDULES = {
    "Constant": "fastlr.Constant(0.1)",
    "Linear": "fastlr.Linear(1.0, 0.0, 1000)",
    "StepDecay": "fastlr.StepDecay(1.0, step_size=100, gamma=0.5)",
    "MultiStep": "fastlr.MultiStep(1.0, milestones=[10, 100], gamma=0.1)",
    "Exponential": "fastlr.Exponential(1.0, gamma=0.999, min_lr=1e-3)",
    "InverseTime": "fastlr.InverseTime(1.0, decay_rate=0.5, decay_steps=10)",
    "Polynomial": "fastlr.Polynomial(1.0, 0.0, 1000, power=1.5)",
    "Cosine": "fastlr.Cosine(1.0, 1000, 0.01)",
    "CosineRestarts": "fastlr.CosineRestarts(peak_lr=1.0, cycle_steps=100, cycle_mult=2.0, min_lr=0.01)",
    "WarmupCosine": "fastlr.WarmupCosine(peak_lr=1.0, total_steps=1000, warmup_steps=10, min_lr=0.01)",
    "WarmupStableDecay": "fastlr.WarmupStableDecay(peak_lr=1.0, total_steps=1000, warmup_steps=10, decay_steps=100)",
    "OneCycle": "fastlr.OneCycle(max_lr=1.0, total_steps=1000)",
    "Cyclic": "fastlr.Cyclic(0.1, 1.0, step_size_up=20)",
    "InverseSqrt": "fastlr.InverseSqrt(1.0, warmup_steps=100)",
    "Tanh": "fastlr.Tanh(1.0, 1000, 0.01)",
    "PiecewiseConstant": "fastlr.PiecewiseConstant([10, 100], [1.0, 0.5, 0.1])",
    "PiecewiseLinear": "fastlr.PiecewiseLinear([0, 100, 1000], [0.0, 1.0, 0.1])",
}
MIX = ("fastlr.join([fastlr.Linear(0.0, 1.0, 100), fastlr.Cosine(1.0, 900, 0.01)], [100])",)

CHILD = r"""
import json, sys, time
t0 = time.perf_counter(); import numba; t1 = time.perf_counter()
import numpy as np, fastlr; t2 = time.perf_counter()
s = {expr}
with fastlr.use_backend("numba"):
    t3 = time.perf_counter(); c3 = time.process_time(); s(np.arange(1000))
    t4 = time.perf_counter(); c4 = time.process_time(); s(5); t5 = time.perf_counter()
print(json.dumps(dict(numba=t1 - t0, fastlr=t2 - t1, array=t4 - t3, scalar=t5 - t4, array_cpu=c4 - c3)))
"""


def child(expr, cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(cache, "numba_cache"),
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", CHILD.format(expr=expr)], env=env, capture_output=True, text=True,
                         check=False)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--families", default="")
    ap.add_argument("--mix", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    cases = {k: v for k, v in SCHEDULES.items() if not args.families or k in args.families.split(",")}
    if args.mix:
        cases["join(Linear,Cosine)"] = MIX[0]
    print(f"{'family':22s} import numba | empty cache: s(arr) (cpu) s(5) | cached: s(arr) (cpu) s(5)")
    totals = {"array": 0.0, "array_cpu": 0.0}
    warm_total = 0.0
    for name, expr in cases.items():
        runs = []
        for _ in range(max(1, args.repeat)):
            with tempfile.TemporaryDirectory() as cache:
                runs.append((child(expr, cache), child(expr, cache)))
        cold, warm = ({key: min(run[which][key] for run in runs) for key in runs[0][which]} for which in (0, 1))
        print(f"{name:22s} {cold['numba']:6.2f}s     | {cold['array']:6.2f}s ({cold['array_cpu']:5.2f}s) "
              f"{cold['scalar']:5.2f}s | {warm['array']:6.3f}s ({warm['array_cpu']:5.3f}s) {warm['scalar']:5.3f}s",
              flush=True)
        if name in SCHEDULES:
            for key in totals:
                totals[key] += cold[key] + cold["scalar"] if key == "array" else cold[key]
            warm_total += warm["array"] + warm["scalar"]
    print(f"{'families, total':22s} {'':6s}      | {totals['array']:6.2f}s ({totals['array_cpu']:5.2f}s)       "
          f"| {warm_total:6.3f}s")


if __name__ == "__main__":
    main()
