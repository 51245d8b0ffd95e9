"""GPU check of the device paths: agreement with the numpy reference, then the speed figures.

Run on a machine with CUDA (about 2 minutes on one H200)::

    python bench/gpu_check.py            # 100M elements
    python bench/gpu_check.py --n 1e7    # smaller

1. Agreement (exit status 1 on any disagreement): every family and composite, with per-element
   parameters and random int64 / float64 steps, through torch CUDA (eager evaluator, ``out=`` in place,
   float32 output), the compiled path ``fastlr.torch.fused`` (torch.compile), CuPy (when installed) and
   JAX on the GPU (when installed; x64 and float32), against the numpy reference, with the rule of the
   tolerance table (float64: 8 ulps of the peak; float32 output: one float32 ulp more; JAX float32,
   which computes in float32: the float32-computation row of tests/test_jax.py).
2. Speed: a per-parameter evaluation of N elements, each with its own step and peak_lr (WarmupCosine),
   on the device (eager evaluator, torch.compile'd evaluator, CuPy) beside the C++ core on the host
   plus the copy to the device, beside ``fill_`` of the same tensor; JAX's jit of a schedule beside
   optax's own warmup-cosine. Targets: device >= 20x faster than host + copy; compiled path within 4x
   of ``fill_``; JAX within 2x of optax. A missed target is printed, it does not fail the run.

Whatever is missing (CUDA, CuPy, JAX, optax) is skipped with a line that says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # JAX shares the GPU with torch here
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import fastlr  # noqa: E402

FAILURES: list[str] = []
DEVICE = "cuda"  # --device cpu: a dry run of the same code on the CPU (no CUDA needed)
TABLE: list[tuple[str, float, str]] = []


def say(text: str) -> None:
    print(text, flush=True)


def agrees(result, expected, dtype=np.float64, float32_compute=None) -> tuple[bool, str]:
    result = np.asarray(result)
    expected = np.asarray(expected, dtype=np.float64)
    if result.shape != expected.shape:
        return False, f"shape {result.shape} != {expected.shape}"
    if result.dtype != np.dtype(dtype):
        return False, f"dtype {result.dtype} != {np.dtype(dtype)}"
    if not np.all(np.isfinite(result)):
        return False, "non-finite values"
    peak = float(np.max(np.abs(expected))) if expected.size else 0.0
    allowed = 8 * np.spacing(peak) if peak else 0.0
    if float32_compute is not None:
        allowed = float32_compute + 4 * float(np.spacing(np.float32(peak)))
    elif np.dtype(dtype) == np.float32:
        allowed = allowed + np.spacing(np.abs(expected.astype(np.float32))).astype(np.float64)
    error = np.abs(result.astype(np.float64) - expected)
    bad = error > allowed
    if np.any(bad):
        return False, f"{int(bad.sum())} of {bad.size} beyond tolerance, worst error {float(error.max()):.3g}"
    return True, f"max error {float(error.max()) if error.size else 0.0:.3g}"


def check(name: str, ok_detail) -> None:
    ok, detail = ok_detail
    say(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if not ok:
        FAILURES.append(f"{name}: {detail}")


def guarded(name: str, function, *args) -> None:
    try:
        function(*args)
    except Exception as error:  # a crash of one path is a failure of that path, the others still run
        FAILURES.append(f"{name}: {type(error).__name__}: {error}")
        say(f"  FAIL {name}: {type(error).__name__}: {error}")
        traceback.print_exc()


# ==================================================================================================
# the cases: every family and composite, per-element parameters


def cases(m: int) -> list[tuple[str, fastlr.Schedule]]:
    rng = np.random.default_rng(1)
    peak = rng.uniform(1e-4, 1e-2, m)
    total = rng.integers(100, 2000, m).astype(float)
    warm = np.floor(total * rng.uniform(0, 0.3, m))
    low = peak * 0.05
    return [
        ("Constant", fastlr.Constant(peak)),
        ("Linear", fastlr.Linear(peak, low, total)),
        ("StepDecay", fastlr.StepDecay(peak, step_size=rng.integers(1, 50, m).astype(float), gamma=0.7)),
        ("MultiStep", fastlr.MultiStep(peak, [100, 400, 900], gamma=rng.uniform(0.1, 0.9, m))),
        ("MultiStep long", fastlr.MultiStep(peak, list(range(10, 2000, 25)), gamma=0.97)),
        ("Exponential", fastlr.Exponential(peak, gamma=rng.uniform(0.99, 1, m), min_lr=low * 0.1)),
        ("Exponential staircase", fastlr.Exponential(peak, gamma=0.9, step_size=7, staircase=True)),
        ("InverseTime", fastlr.InverseTime(peak, decay_rate=0.5, decay_steps=total / 10, staircase=False)),
        ("Polynomial", fastlr.Polynomial(peak, low, total, power=rng.uniform(0.3, 3, m))),
        ("Cosine", fastlr.Cosine(peak, total, low)),
        ("CosineRestarts", fastlr.CosineRestarts(peak, cycle_steps=rng.integers(5, 200, m).astype(float),
                                                 min_lr=low, cycle_mult=2.0, cycle_decay=0.8)),
        ("CosineRestarts m=1", fastlr.CosineRestarts(peak, cycle_steps=37, min_lr=low, cycle_limit=20)),
        ("WarmupCosine", fastlr.WarmupCosine(peak, total, warm, low)),
        *[(f"WSD {shape}", fastlr.WarmupStableDecay(peak, total, warm, np.floor((total - warm) * 0.5), low,
                                                     decay_shape=shape))
          for shape in ("linear", "cosine", "1-sqrt", "1-square")],
        ("OneCycle", fastlr.OneCycle(peak, total)),
        ("OneCycle 3-phase linear", fastlr.OneCycle(peak, total, anneal="linear", three_phase=True)),
        *[(f"Cyclic {mode}", fastlr.Cyclic(low, peak, 50, 70, mode=mode, gamma=0.999))
          for mode in ("triangular", "triangular2", "exp_range")],
        ("InverseSqrt", fastlr.InverseSqrt(peak, warm)),
        ("Tanh", fastlr.Tanh(peak, total, low)),
        ("PiecewiseConstant", fastlr.PiecewiseConstant([100, 500, 1000], [1e-3, 5e-4, 1e-4, 1e-5])),
        ("PiecewiseLinear long", fastlr.PiecewiseLinear(np.arange(0, 2000, 40.0),
                                                        1e-3 * (1 + np.cos(np.arange(0, 2000, 40.0))))),
        ("join", fastlr.join([fastlr.Linear(0.0, peak, 100), fastlr.Cosine(peak, total, low)], [100])),
        ("with_warmup(product)", fastlr.with_warmup(fastlr.Cosine(peak, total) * fastlr.StepDecay(1.0, 300), 50)),
        ("scaled", 0.5 * fastlr.InverseSqrt(peak, 100)),
    ]


def steps_for(m: int, rng) -> dict[str, np.ndarray]:
    return {"int64": rng.integers(0, 3000, m).astype(np.int64), "float64": rng.uniform(0, 3000, m)}


def reference(schedule, steps):
    with fastlr.use_backend("numpy"):
        return schedule(steps)


# ==================================================================================================
# agreement


def agreement_torch(torch, m: int) -> None:
    import fastlr.torch as flt

    rng = np.random.default_rng(2)
    for name, schedule in cases(m):
        for kind, steps in steps_for(m, rng).items():
            expected = reference(schedule, steps)
            device_steps = torch.from_numpy(steps).to(DEVICE)
            result = schedule(device_steps)
            ok = result.device.type == DEVICE
            check(f"torch {DEVICE} {name} {kind}",
                  agrees(result.cpu().numpy(), expected) if ok else (False, f"on {result.device}"))
        out = torch.empty(m, dtype=torch.float32, device=DEVICE)
        assert schedule(device_steps, out=out) is out
        check(f"torch {DEVICE} {name} out=float32", agrees(out.cpu().numpy(), expected, dtype=np.float32))
    # the compiled path: three programs (compiling takes seconds each)
    for name, schedule in [c for c in cases(m) if c[0] in ("WarmupCosine", "CosineRestarts", "with_warmup(product)")]:
        steps = steps_for(m, rng)["int64"]
        result = flt.fused(schedule)(torch.from_numpy(steps).to(DEVICE))
        check(f"torch.compile {DEVICE} {name}", agrees(result.cpu().numpy(), reference(schedule, steps)))
    # the scheduler with a tensor LR on the device
    param = torch.zeros(3, device=DEVICE, requires_grad=True)
    optimizer = torch.optim.Adam([param], lr=torch.tensor(0.01, device=DEVICE), capturable=DEVICE == "cuda")
    scheduler = flt.LRScheduler(optimizer, fastlr.Cosine(0.01, 100))
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    lr = optimizer.param_groups[0]["lr"]
    check("LRScheduler tensor lr", (lr.device.type == DEVICE and abs(float(lr) - fastlr.Cosine(0.01, 100)(10)) < 1e-9,
                                         f"lr {float(lr)!r} on {lr.device}"))


def agreement_cupy(cupy, m: int) -> None:
    rng = np.random.default_rng(3)
    for name, schedule in cases(m):
        steps = steps_for(m, rng)["int64"]
        result = schedule(cupy.asarray(steps))
        ok = type(result).__module__.startswith("cupy")
        check(f"cupy {name}", agrees(cupy.asnumpy(result), reference(schedule, steps)) if ok else (False, type(result)))
    out = cupy.empty(m, dtype=cupy.float64)
    assert schedule(cupy.asarray(steps), out=out) is out
    check("cupy out=", agrees(cupy.asnumpy(out), reference(schedule, steps)))


def _rounded_to_float32(value):
    if isinstance(value, float):
        return float(np.float32(value))
    if isinstance(value, list):
        return [_rounded_to_float32(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded_to_float32(v) for k, v in value.items()}
    return value


def perturbation_slack(schedule, steps, step_relative, round_parameters):
    """The reference's change under the perturbations a float32 (or XLA) computation stands for: steps
    within ``step_relative``, parameters rounded to float32 (tests/test_jax.py, the same rule)."""
    t = np.asarray(steps, dtype=np.float64)
    expected = reference(schedule, t)
    variants = [schedule]
    if round_parameters:
        try:
            variants.append(fastlr.from_dict(_rounded_to_float32(schedule.to_dict())))
        except ValueError:  # a rule that holds only before rounding (W + D <= T): no such variant
            pass
    slack = np.zeros(np.shape(expected))
    for variant in variants:
        for factor in (1.0 - step_relative, 1.0, 1.0 + step_relative):
            slack = np.maximum(slack, np.abs(reference(variant, t * factor) - expected))
    return slack


def agreement_jax(jax, m: int) -> None:
    import jax.numpy as jnp

    rng = np.random.default_rng(4)
    for x64 in (True, False):
        jax.config.update("jax_enable_x64", x64)
        for name, schedule in cases(m):
            steps = steps_for(m, rng)["int64"].astype(np.int64 if x64 else np.int32)
            result = np.asarray(jax.jit(schedule)(jnp.asarray(steps)))
            expected = reference(schedule, steps)
            if x64:
                slack = perturbation_slack(schedule, steps, 2.0**-50, False)
                nearest = expected + np.clip(result - expected, -slack, slack)
                check(f"jax {DEVICE} x64 {name}", agrees(result, nearest))
            else:
                slack = perturbation_slack(schedule, steps, 2.0**-18, True)
                check(f"jax {DEVICE} float32 {name}", agrees(result, expected, dtype=np.float32, float32_compute=slack))
    jax.config.update("jax_enable_x64", False)


# ==================================================================================================
# speed


def timed(function, sync, repeat: int = 5) -> float:
    """The best wall time of ``repeat`` calls, in seconds (after one warm-up call)."""
    function()
    sync()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def row(name: str, seconds: float, n: int, note: str = "") -> float:
    TABLE.append((name, seconds, note))
    say(f"  {name:48s} {seconds * 1e3:9.3f} ms  {seconds / n * 1e9:8.4f} ns/element  {note}")
    return seconds


def speed_torch(torch, n: int, compile_fused: bool) -> None:
    import fastlr.torch as flt
    from fastlr import _array_api
    from fastlr import array_api as fa

    say(f"\nper-parameter WarmupCosine, N = {n:,} elements (own step and peak_lr each), float64")
    rng = np.random.default_rng(0)
    steps = rng.integers(0, 120_000, size=n, dtype=np.int64)
    peak = rng.uniform(1e-4, 1e-3, size=n)
    schedule = fastlr.WarmupCosine(peak_lr=peak, total_steps=100_000, warmup_steps=2_000, min_lr=3e-5)
    sync = torch.cuda.synchronize if DEVICE == "cuda" else (lambda: None)
    device_steps = torch.from_numpy(steps).to(DEVICE)
    pinned = torch.empty(n, dtype=torch.float64)
    pinned = pinned.pin_memory() if DEVICE == "cuda" else pinned
    host_out = pinned.numpy()
    device_out = torch.empty(n, dtype=torch.float64, device=DEVICE)

    host = row(f"host: C++ core ({fastlr.get_num_threads()} threads)", timed(lambda: schedule(steps, out=host_out), sync), n)
    copy = row("host -> device copy (pinned)", timed(lambda: device_out.copy_(pinned, non_blocking=True), sync), n)
    host_total = host + copy
    row("host + copy", host_total, n)
    fill = row("device: fill_", timed(lambda: device_out.fill_(0.5), sync), n)
    host_result = torch.from_numpy(host_out.copy())

    evaluate = (lambda: schedule(device_steps)) if DEVICE == "cuda" else (lambda: fa.evaluate(schedule, device_steps))
    eager_time = timed(evaluate, sync)
    eager = row("device: eager evaluator (torch)", eager_time, n, f"{host_total / eager_time:.1f}x faster than host + copy")
    check("speed run: eager result", agrees(evaluate().cpu().numpy(), host_result.numpy()))
    program = schedule._program()
    ctx = _array_api._Context(_array_api.compat().array_namespace(device_steps), torch.float64, device_steps.device)
    operands = _array_api.device_operands(program, ctx)
    row("device: eager evaluator, no step check", timed(lambda: _array_api.run(program, device_steps.double(), ctx, operands), sync), n)
    best = eager
    if compile_fused:
        fused = flt.fused(schedule)
        start = time.perf_counter()
        fused(device_steps, out=device_out)
        sync()
        say(f"  (torch.compile of the program: {time.perf_counter() - start:.1f} s, once)")
        check("speed run: compiled result", agrees(device_out.cpu().numpy(), host_result.numpy()))
        compiled_time = timed(lambda: fused(device_steps, out=device_out), sync)
        compiled = row("device: torch.compile'd evaluator, out=", compiled_time, n, f"{compiled_time / fill:.2f}x fill_")
        best = min(best, compiled)
        target("compiled path within 4x of fill_", compiled <= 4 * fill, f"{compiled / fill:.2f}x")
        # what the compiled path costs beyond the kernel: the check of the steps (a reduction and a
        # host synchronisation before anything is written)
        kernel = flt.fused(schedule)._kernel
        ctx = _array_api._Context(_array_api.compat().array_namespace(device_steps), torch.float64,
                                  device_steps.device)
        ops = _array_api.device_operands(schedule._program(), ctx)
        kernel(device_steps, ctx, ops, (n,), torch.float64, device_out)
        row("  its kernel alone (no check of the steps)",
            timed(lambda: kernel(device_steps, ctx, ops, (n,), torch.float64, device_out), sync), n,
            "the floor: one read of steps and peak_lr, one write")
        wider = fastlr.WarmupCosine(peak_lr=peak, total_steps=100_000, warmup_steps=2_000, min_lr=peak * 0.1)
        fused_wider = flt.fused(wider)
        fused_wider(device_steps, out=device_out)
        wider_time = timed(lambda: fused_wider(device_steps, out=device_out), sync)
        row("  same with a per-element min_lr too, out=", wider_time, n, f"{wider_time / fill:.2f}x fill_")
    target("device >= 20x faster than host + copy", host_total >= 20 * best, f"{host_total / best:.1f}x")


def speed_cupy(cupy, n: int) -> None:
    rng = np.random.default_rng(0)
    steps = rng.integers(0, 120_000, size=n, dtype=np.int64)
    peak = rng.uniform(1e-4, 1e-3, size=n)
    schedule = fastlr.WarmupCosine(peak_lr=peak, total_steps=100_000, warmup_steps=2_000, min_lr=peak * 0.1)
    device_steps = cupy.asarray(steps)
    sync = cupy.cuda.Device().synchronize
    out = cupy.empty(n, dtype=cupy.float64)
    row("device: eager evaluator (CuPy), out=", timed(lambda: schedule(device_steps, out=out), sync), n)
    row("device: fill (CuPy)", timed(lambda: out.fill(0.5), sync), n)


def speed_jax(jax, optax, n: int) -> None:
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", False)
    counts = jnp.asarray(np.random.default_rng(0).integers(0, 120_000, size=n).astype(np.int32))
    ours = jax.jit(fastlr.WarmupCosine(peak_lr=1e-3, total_steps=100_000, warmup_steps=2_000, min_lr=1e-5))
    theirs = jax.jit(optax.warmup_cosine_decay_schedule(0.0, 1e-3, 2_000, 100_000, 1e-5))

    def sync():
        return None

    ours_time = row("JAX jit: fastlr WarmupCosine (float32)", timed(lambda: ours(counts).block_until_ready(), sync), n)
    theirs_time = row("JAX jit: optax warmup_cosine_decay_schedule", timed(lambda: theirs(counts).block_until_ready(), sync), n)
    target("JAX within 2x of optax", ours_time <= 2 * theirs_time, f"{ours_time / theirs_time:.2f}x")


def target(name: str, met: bool, detail: str) -> None:
    say(f"  target {'met   ' if met else 'MISSED'} {name}: {detail}")


# ==================================================================================================


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, default=1e8, help="elements of the speed run (default 1e8)")
    parser.add_argument("--m", type=int, default=4099, help="elements of each agreement case")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"),
                        help="cpu: a dry run of the script's code on the CPU")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (saves its compile time)")
    args = parser.parse_args()
    n = int(args.n)
    global DEVICE
    DEVICE = args.device
    started = time.perf_counter()
    say(f"fastlr {fastlr.__version__}; backends {fastlr.backends()}")
    try:
        import torch
    except ImportError:
        torch = None
    cuda = torch is not None and (torch.cuda.is_available() or DEVICE == "cpu")
    if DEVICE == "cuda":
        detail = f"{torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name()}" if cuda else \
            "no CUDA: skipped"
        say(f"torch: {detail}")
    try:
        if DEVICE != "cuda":
            raise RuntimeError("CPU dry run")
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:
        cupy = None
        say(f"cupy: skipped ({type(error).__name__}: {error})")
    try:
        import jax
        import optax
        gpu = [d for d in jax.devices() if d.platform == ("gpu" if DEVICE == "cuda" else "cpu")]
        if not gpu:
            raise RuntimeError("no JAX GPU device")
    except Exception as error:
        jax = optax = None
        say(f"jax: skipped ({type(error).__name__}: {error})")

    say("\nagreement with the numpy reference")
    if cuda:
        guarded("torch agreement", agreement_torch, torch, args.m)
    if cupy is not None:
        guarded("cupy agreement", agreement_cupy, cupy, args.m)
    if jax is not None:
        guarded("jax agreement", agreement_jax, jax, args.m)

    say("\nspeed")
    if cuda:
        guarded("torch speed", speed_torch, torch, n, not args.no_compile)
    if cupy is not None:
        guarded("cupy speed", speed_cupy, cupy, n)
    if jax is not None:
        guarded("jax speed", speed_jax, jax, optax, n)

    say(f"\n{len(FAILURES)} failure(s); {time.perf_counter() - started:.0f} s")
    for failure in FAILURES:
        say(f"  {failure}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
