"""The numba backend driven directly through ProgramBuilder, compared with the numpy reference."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("numba")

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import fastlr._program as P  # noqa: E402
from fastlr import _numba as nb  # noqa: E402
from fastlr import _reference as R  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from tolerance import assert_agrees_peak, program_peak  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore:First-class function type feature is experimental"),
              # the reference's growth cases overflow to inf past the cap (which then applies)
              pytest.mark.filterwarnings("ignore:overflow encountered in power:RuntimeWarning")]



def build(op, params, mode=0, table=None):
    b = P.ProgramBuilder()
    ops = tuple(b.operand(v) for v in params)
    tab = b.table(table) if table is not None else (0, 0)
    if op == P.PIECEWISE_CONSTANT:  # length = k boundaries (k + 1 values follow)
        tab = (tab[0], (len(table) - 1) // 2)
    elif op == P.PIECEWISE_LINEAR:  # length = k boundaries (k values follow)
        tab = (tab[0], len(table) // 2)
    return b.build(b.emit(op, operands=ops, mode=mode, table=tab))


def run(program, steps, dtype=np.float64):
    """Evaluate like the facade: broadcast shape, coalesce, strides."""
    steps = np.asarray(steps)
    shape = np.broadcast_shapes(steps.shape, *program.operand_shape)
    out = np.empty(shape, dtype)
    full = shape if shape else (1,)
    op_str = program.operand_strides(full)
    st = np.asarray(P.broadcast_strides(steps.shape, [s // steps.itemsize for s in steps.strides], full),
                    dtype=np.int64)[None, :]
    cshape, cstr = P.coalesce(full, np.concatenate([st, op_str]) if op_str.size else st)
    nb.evaluate(program, steps, cstr[0], 0.0, out, cshape, cstr[1:])
    return out


def close(got, want, prog):
    """``got`` against the reference's ``want`` within the table's allowance of the program's peak."""
    assert_agrees_peak(got, np.broadcast_to(want, got.shape), program_peak(prog), got.dtype)


T = np.concatenate([np.arange(0, 300, dtype=float), [999., 1000., 1001., 2047., 2048., 5000., 1e5, 1e9],
                    np.linspace(0, 1200, 777)])

FAMILIES = [
    ("constant", P.CONSTANT, (0.3,), 0, None, lambda t: R.constant(t, 0.3)),
    ("linear", P.LINEAR, (1.0, 0.1, 1000.), 0, None, lambda t: R.linear(t, 1.0, 0.1, 1000.)),
    ("step_decay", P.STEP_DECAY, (1.0, 0.5, 30.), 0, None, lambda t: R.step_decay(t, 1.0, 0.5, 30.)),
    ("multi_step", P.MULTI_STEP, (1.0, 0.1), 0, [10., 100., 1000.],
     lambda t: R.multi_step(t, 1.0, 0.1, [10., 100., 1000.])),
    ("exponential", P.EXPONENTIAL, (1.0, 0.9, 7., 0.01, np.inf), 0, None,
     lambda t: R.exponential(t, 1.0, 0.9, 7., 0.01, np.inf, False)),
    ("exponential_stair", P.EXPONENTIAL, (1.0, 0.9, 7., 0.0, np.inf), 1, None,
     lambda t: R.exponential(t, 1.0, 0.9, 7., 0.0, np.inf, True)),
    ("exponential_growth", P.EXPONENTIAL, (0.01, 1.01, 3., 0.0, 0.5), 0, None,
     lambda t: R.exponential(t, 0.01, 1.01, 3., 0.0, 0.5, False)),
    ("exponential_growth_stair", P.EXPONENTIAL, (0.01, 1.01, 3., 0.0, 0.5), 1, None,
     lambda t: R.exponential(t, 0.01, 1.01, 3., 0.0, 0.5, True)),
    ("inverse_time", P.INVERSE_TIME, (1.0, 0.5, 10.), 0, None, lambda t: R.inverse_time(t, 1.0, 0.5, 10., False)),
    ("inverse_time_stair", P.INVERSE_TIME, (1.0, 0.5, 10.), 1, None,
     lambda t: R.inverse_time(t, 1.0, 0.5, 10., True)),
    ("polynomial", P.POLYNOMIAL, (1.0, 0.01, 1000., 2.0), 0, None,
     lambda t: R.polynomial(t, 1.0, 0.01, 1000., 2.0)),
    ("cosine", P.COSINE, (1.0, 1000., 0.1), 0, None, lambda t: R.cosine(t, 1.0, 1000., 0.1)),
    ("cosine_restarts", P.COSINE_RESTARTS, (1.0, 10., 0.01, 10., 0.9, np.inf), 0, None,
     lambda t: R.cosine_restarts(t, 1.0, 10., 0.01, 10., 0.9, np.inf)),
    ("cosine_restarts_m1", P.COSINE_RESTARTS, (1.0, 100., 0.0, 1.0, 0.5, 3.0), 0, None,
     lambda t: R.cosine_restarts(t, 1.0, 100., 0.0, 1.0, 0.5, 3.0)),
    ("cosine_restarts_m2", P.COSINE_RESTARTS, (1.0, 3., 0.0, 2.0, 1.0, np.inf), 0, None,
     lambda t: R.cosine_restarts(t, 1.0, 3., 0.0, 2.0, 1.0, np.inf)),
    ("warmup_cosine", P.WARMUP_COSINE, (1.0, 1000., 100., 0.1, 0.01), 0, None,
     lambda t: R.warmup_cosine(t, 1.0, 1000., 100., 0.1, 0.01)),
    ("warmup_cosine_w0", P.WARMUP_COSINE, (1.0, 1000., 0., 0.1, 0.0), 0, None,
     lambda t: R.warmup_cosine(t, 1.0, 1000., 0., 0.1, 0.0)),
    ("warmup_cosine_wT", P.WARMUP_COSINE, (1.0, 100., 100., 0.1, 0.0), 0, None,
     lambda t: R.warmup_cosine(t, 1.0, 100., 100., 0.1, 0.0)),
] + [
    (f"wsd_{name}", P.WARMUP_STABLE_DECAY, (1.0, 1000., 100., 200., 0.05, 0.01), mode, None,
     (lambda name: lambda t: R.warmup_stable_decay(t, 1.0, 1000., 100., 200., 0.05, 0.01, name))(name))
    for mode, name in enumerate(["linear", "cosine", "1-sqrt", "1-square"])
] + [
    (f"one_cycle_{mode}", P.ONE_CYCLE, (1.0, 1000., 0.3, 25., 1e4), mode, None,
     (lambda mode: lambda t: R.one_cycle(t, 1.0, 1000., 0.3, 25., 1e4, "linear" if mode & 1 else "cos",
                                         bool(mode & 2)))(mode))
    for mode in range(4)
] + [
    (f"cyclic_{name}", P.CYCLIC, (0.1, 1.0, 20., 30., 0.999), mode, None,
     (lambda name: lambda t: R.cyclic(t, 0.1, 1.0, 20., 30., 0.999, name))(name))
    for mode, name in enumerate(["triangular", "triangular2", "exp_range"])
] + [
    ("inverse_sqrt", P.INVERSE_SQRT, (1.0, 100., 0.01), 0, None, lambda t: R.inverse_sqrt(t, 1.0, 100., 0.01)),
    ("inverse_sqrt_w0", P.INVERSE_SQRT, (1.0, 0.5, 0.0), 0, None, lambda t: R.inverse_sqrt(t, 1.0, 0.5, 0.0)),
    ("tanh", P.TANH, (1.0, 1000., 0.01, -7., 3.), 0, None, lambda t: R.tanh(t, 1.0, 1000., 0.01, -7., 3.)),
    ("piecewise_constant", P.PIECEWISE_CONSTANT, (), 0, [10., 100., 1000., 0.5, 0.4, 0.3, 0.2],
     lambda t: R.piecewise_constant(t, [10., 100., 1000.], [0.5, 0.4, 0.3, 0.2])),
    ("piecewise_linear", P.PIECEWISE_LINEAR, (), 0, [10., 100., 1000., 0.5, 1.0, 0.3],
     lambda t: R.piecewise_linear(t, [10., 100., 1000.], [0.5, 1.0, 0.3])),
    ("piecewise_linear_1", P.PIECEWISE_LINEAR, (), 0, [10., 0.7], lambda t: R.piecewise_linear(t, [10.], [0.7])),
]


@pytest.mark.parametrize("case", FAMILIES, ids=[c[0] for c in FAMILIES])
def test_family_matches_reference(case):
    name, op, params, mode, table, ref = case
    table = None if table is None else table
    prog = build(op, params, mode, table)
    want = ref(T)
    close(run(prog, T), want, prog)
    close(run(prog, T, np.float32), want, prog)


@pytest.mark.parametrize("case", FAMILIES, ids=[c[0] for c in FAMILIES])
def test_float32_is_the_float64_result_rounded(case):
    # the float32 kernels write the last instruction into a buffer of their own (rbuf), then round:
    # the same bits as the float64 kernels' result, rounded once
    _, op, params, mode, table, _ = case
    prog = build(op, params, mode, table)
    np.testing.assert_array_equal(run(prog, T, np.float32), run(prog, T).astype(np.float32))
    grid = T[:702].reshape(27, 26)[::-1, ::2]  # the N-d kernel, strided steps
    np.testing.assert_array_equal(run(prog, grid, np.float32), run(prog, grid).astype(np.float32))


def test_float32_when_the_result_is_not_the_last_instruction():
    # the result register is written first and a later instruction writes another one: the float32
    # kernel must read the result register, not its rbuf
    b = P.ProgramBuilder()
    first = b.emit(P.COSINE, operands=(b.operand(1.0), b.operand(700.), b.operand(0.1)))
    b.emit(P.LINEAR, operands=(b.operand(5.0), b.operand(6.0), b.operand(10.)))
    prog = b.build(first)
    want = R.cosine(T, 1.0, 700., 0.1)
    got = run(prog, T)
    close(got, want, prog)
    np.testing.assert_array_equal(run(prog, T, np.float32), got.astype(np.float32))


def test_per_element_operands_float32():
    # a per-element operand of a 1-D output is copied through a view (a contiguous run)
    t = np.arange(0.0, 3000.0, 1.5)
    peak = np.random.default_rng(3).uniform(0.5, 1.0, t.size)
    prog = build(P.WARMUP_COSINE, (peak, 2000., 100., 0.01, 0.0))
    got = run(prog, t)
    close(got, R.warmup_cosine(t, peak, 2000., 100., 0.01, 0.0), prog)
    np.testing.assert_array_equal(run(prog, t, np.float32), got.astype(np.float32))


EXACT = [  # (op, params, mode, points, expected)
    (P.WARMUP_COSINE, (1.0, 1000., 100., 0.1, 0.01), 0, [0., 100., 1000., 5000.], [0.01, 1.0, 0.1, 0.1]),
    (P.COSINE, (1.0, 1000., 0.1), 0, [0., 1000., 1e9], [1.0, 0.1, 0.1]),
    (P.WARMUP_STABLE_DECAY, (1.0, 1000., 100., 200., 0.05, 0.01), 1, [0., 100., 800., 1000.],
     [0.01, 1.0, 1.0, 0.05]),
    (P.LINEAR, (1.0, 0.1, 1000.), 0, [0., 1000., 2000.], [1.0, 0.1, 0.1]),
    (P.COSINE_RESTARTS, (1.0, 1.0, 0.0, 10.0, 0.5, np.inf), 0, [0., 1., 11., 111., 1111.],
     [1.0, 0.5, 0.25, 0.125, 0.0625]),
    (P.ONE_CYCLE, (1.0, 1000., 0.3, 25., 1e4), 0, [0., 299., 999., 5000.], [0.04, 1.0, 4e-6, 4e-6]),
]


@pytest.mark.parametrize("case", EXACT)
def test_exact_points(case):
    op, params, mode, points, expected = case
    got = run(build(op, params, mode), np.array(points))
    np.testing.assert_array_equal(got, np.array(expected, dtype=float))


def test_restart_cycle_exact_at_cycle_starts():
    # floor(log(1000)/log(10)) alone gives 2; the start of cycle 3 must belong to cycle 3 (peak decay**3)
    prog = build(P.COSINE_RESTARTS, (1.0, 1.0, 0.0, 10.0, 0.5, np.inf))
    starts = np.array([(10.0 ** i - 1.0) / 9.0 for i in range(12)])
    np.testing.assert_array_equal(run(prog, starts), R.cosine_restarts(starts, 1.0, 1.0, 0.0, 10.0, 0.5, np.inf))


def test_cyclic_triangular2_finite_for_huge_steps():
    prog = build(P.CYCLIC, (0.1, 1.0, 1., 1., 1.0), 1)
    got = run(prog, np.array([0., 1., 3e3, 1e9, 2.0 ** 60]))
    assert np.all(np.isfinite(got))
    np.testing.assert_array_equal(got[2:], [0.1, 0.1, 0.1])


def test_combinators_join_ramp_mul():
    b = P.ProgramBuilder()
    lin = b.emit(P.LINEAR, operands=(b.operand(1.0), b.operand(0.5), b.operand(100.)))
    u = b.emit(P.SHIFT, src=0, operands=(b.operand(100.),))
    cos = b.emit(P.COSINE, src=u, operands=(b.operand(0.5), b.operand(200.), b.operand(0.0)))
    sel = b.emit(P.SELECT, src=0, src2=lin, src3=cos, operands=(b.operand(100.),))
    z = b.emit(P.ZERO)
    s0 = b.emit(P.COSINE, src=z, operands=(b.operand(2.0), b.operand(50.), b.operand(0.0)))
    w = b.emit(P.SHIFT, src=0, operands=(b.operand(10.),))
    sw = b.emit(P.COSINE, src=w, operands=(b.operand(2.0), b.operand(50.), b.operand(0.0)))
    ramp = b.emit(P.RAMP, src=0, src2=sw, src3=s0, operands=(b.operand(10.), b.operand(0.1)))
    mul = b.emit(P.MUL, src=sel, src2=ramp)
    res = b.emit(P.SCALE, src=mul, operands=(b.operand(np.array([1.0, 0.5, 0.25])),))
    prog = b.build(res)
    t = np.arange(0, 400, 0.5)
    joined = R.join(t, [lambda x: R.linear(x, 1.0, 0.5, 100.), lambda x: R.cosine(x, 0.5, 200., 0.0)], [100.])
    warm = R.with_warmup(t, lambda x: R.cosine(x, 2.0, 50., 0.0), 10., 0.1)
    want = (joined * warm)[:, None] * np.array([1.0, 0.5, 0.25])
    got = run(prog, t[:, None])
    close(got, want, prog)


def test_broadcast_and_strided_operands():
    rng = np.random.default_rng(0)
    peak = rng.uniform(0.5, 1.0, (3, 1, 5))
    total = np.array([[100.], [200.], [1000.], [50.]])  # (4, 1)
    prog = build(P.WARMUP_COSINE, (peak, total, 10., 0.01, 0.0))
    t = rng.integers(0, 1200, (7, 1, 1, 1)).astype(np.int64)
    want = R.warmup_cosine(t.astype(float), peak, total, 10., 0.01, 0.0)
    close(run(prog, t), want, prog)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64])
def test_step_dtypes_and_negative_strides(dtype):
    prog = build(P.COSINE, (1.0, 700., 0.0))
    base = np.arange(2000).reshape(40, 50).astype(dtype)
    for steps in (base, base[::-1, ::-2], base.T, base[5], base[::-3, 7]):
        close(run(prog, steps), R.cosine(steps.astype(float), 1.0, 700., 0.0), prog)


def test_iota_curve_nd_and_large():
    prog = build(P.WARMUP_COSINE, (np.array([1.0, 2.0]), 1e6, 1000., 0.0, 0.0))
    n = 300_001
    out = np.empty((n, 2))
    nb.evaluate(prog, None, np.array([1, 0]), 5.0, out, (n, 2), prog.operand_strides((n, 2)))
    t = 5.0 + np.arange(n, dtype=float)
    close(out, R.warmup_cosine(t[:, None], np.array([1.0, 2.0]), 1e6, 1000., 0.0, 0.0), prog)
    one = np.empty(n)
    p1 = build(P.WARMUP_COSINE, (1.0, 1e6, 1000., 0.0, 0.0))
    nb.evaluate(p1, None, np.array([1]), 0.0, one, (n,), p1.operand_strides((n,)))
    close(one, R.warmup_cosine(np.arange(n, dtype=float), 1.0, 1e6, 1000., 0.0, 0.0), p1)


def test_thread_count_invariance_and_scalar():
    prog = build(P.COSINE_RESTARTS, (1.0, 10., 0.0, 2.0, 0.9, np.inf))
    t = np.arange(2 * nb.PARALLEL_THRESHOLD, dtype=np.int64)  # two threads take part
    before = nb.get_num_threads()
    try:
        nb.set_num_threads(1)
        a = run(prog, t)
        nb.set_num_threads(2)
        b = run(prog, t)
    finally:
        nb.set_num_threads(before)
    np.testing.assert_array_equal(a, b)
    assert nb.scalar(prog, 1234.0) == a[1234]


def test_concurrent_calls_from_8_threads():
    progs = [build(P.WARMUP_COSINE, (1.0 + k, 1e5, 100., 0.0, 0.0)) for k in range(8)]
    t = np.arange(100_000, dtype=np.float64)
    want = [run(p, t) for p in progs]
    errors = []

    def work(k):
        try:
            for _ in range(5):
                np.testing.assert_array_equal(run(progs[k], t), want[k])
                np.testing.assert_array_equal(run(progs[k], t[:1000]), want[k][:1000])
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_after_use():
    code = f"""
import os, sys, numpy as np
sys.path.insert(0, {str(ROOT)!r})
import fastlr._program as P
from fastlr import _numba as nb
b = P.ProgramBuilder(); ops = tuple(b.operand(v) for v in (1.0, 1e6, 10., 0.0, 0.0))
p = b.build(b.emit(P.WARMUP_COSINE, operands=ops))
n = 200_000
out = np.empty(n); nb.evaluate(p, None, [1], 0.0, out, (n,), p.operand_strides((n,)))
pid = os.fork()
if pid == 0:
    o2 = np.empty(n); nb.evaluate(p, None, [1], 0.0, o2, (n,), p.operand_strides((n,)))
    os._exit(0 if np.array_equal(o2, out) else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    result = subprocess.run([sys.executable, "-c", code], timeout=120, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compile_report():
    report = nb.compile_report()
    assert "families" in report and report["families"]
    assert all("from_cache" in v for v in report["families"].values())


# -- per-element operands: the general loops give the bits of the loops for scalar operands


PER_ELEMENT = [  # (op, parameters with a per-element one, mode, reference)
    (P.STEP_DECAY, lambda v: (1.0, v, 30.), 0, lambda t, v: R.step_decay(t, 1.0, v, 30.)),
    (P.EXPONENTIAL, lambda v: (1.0, v, 7., 0.01, np.inf), 1,
     lambda t, v: R.exponential(t, 1.0, v, 7., 0.01, np.inf, True)),
    (P.CYCLIC, lambda v: (0.1, 1.0, 20., 30., v), 2, lambda t, v: R.cyclic(t, 0.1, 1.0, 20., 30., v, "exp_range")),
    (P.POLYNOMIAL, lambda v: (1.0, 0.01, 1000., 3.0 * v), 0, lambda t, v: R.polynomial(t, 1.0, 0.01, 1000., 3.0 * v)),
    (P.COSINE_RESTARTS, lambda v: (1.0, 10., 0.01, 2.0, v, 6.0), 0,
     lambda t, v: R.cosine_restarts(t, 1.0, 10., 0.01, 2.0, v, 6.0)),
]


@pytest.mark.parametrize("case", PER_ELEMENT, ids=["step_decay", "exponential", "cyclic", "polynomial", "restarts"])
def test_per_element_operands_and_uniform_folding(case):
    op, params, mode, ref = case
    t = np.arange(0.0, 2000.0, 0.75)
    v = np.random.default_rng(op).uniform(0.5, 0.99, t.size)
    prog = build(op, params(v), mode)
    close(run(prog, t), ref(t, v), prog)
    # an array operand holding one value (the general loops, uniform at run time) gives the bits of the
    # scalar operand (the loops generated with _uniform folded to true)
    same = run(build(op, params(np.full(t.size, 0.9)), mode), t)
    np.testing.assert_array_equal(same, run(build(op, params(0.9), mode), t))


# -- agreement with the C++ core: the same algorithms, operation for operation

COSINE_FACTOR_OPS = {P.COSINE, P.COSINE_RESTARTS, P.WARMUP_COSINE, P.WARMUP_STABLE_DECAY, P.ONE_CYCLE}


def core_run(core, program, steps):
    """Evaluate ``program`` with the C++ core's ``Program`` on 1-D float64 steps."""
    compiled = core.Program(program.code, program.operand_data, program.operand_offset, program.tables,
                            program.n_registers, program.result_register)
    shape = np.broadcast_shapes(steps.shape, *program.operand_shape)
    out = np.empty(shape)
    compiled.evaluate(steps, np.ones(1, dtype=np.int64), 0.0, out, np.array(shape, dtype=np.int64),
                      program.operand_strides(shape))
    return out


def fused_cosine_factor(case_op, mode, core):
    """Whether the C++ kernel in use fuses the cosine factor's multiply-adds (its AVX2 build) for this
    family: there the two backends may differ by an ulp of the factor, which the blend's two roundings
    make at most 2 ulp of the peak (the C++ AVX2 and portable builds differ by as much)."""
    if not core.cpu_features()["fma_used"] or core.get_portable():
        return False
    if case_op == P.WARMUP_STABLE_DECAY:
        return mode == 1
    if case_op == P.ONE_CYCLE:
        return not mode & 1
    return case_op in COSINE_FACTOR_OPS


AGREEMENT_STEPS = np.concatenate([T, np.arange(0.0, 20000.0, 1.0), [1e6, 1e7, 123456789.0, 2.0**40],
                                  np.random.default_rng(7).uniform(0.0, 5000.0, 20000)])


@pytest.mark.parametrize("portable", [False, True], ids=["native", "portable"])
@pytest.mark.parametrize("case", FAMILIES, ids=[c[0] for c in FAMILIES])
def test_agrees_with_the_cpp_core(case, portable):
    core = pytest.importorskip("fastlr._core")
    _, op, params, mode, table, _ = case
    prog = build(op, params, mode, table)
    before = core.get_portable()
    try:
        core.set_portable(portable)
        want = core_run(core, prog, AGREEMENT_STEPS)
        fused = fused_cosine_factor(op, mode, core)
    finally:
        core.set_portable(before)
    got = run(prog, AGREEMENT_STEPS)
    if fused:
        peak = np.max(np.abs(want))
        assert np.all(np.abs(got - want) <= 2 * np.spacing(peak)), np.max(np.abs(got - want)) / np.spacing(peak)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("case", PER_ELEMENT, ids=["step_decay", "exponential", "cyclic", "polynomial", "restarts"])
def test_per_element_operands_agree_with_the_cpp_core(case):
    core = pytest.importorskip("fastlr._core")
    op, params, mode, _ = case
    t = np.arange(0.0, 2000.0, 0.75)
    prog = build(op, params(np.random.default_rng(op).uniform(0.5, 0.99, t.size)), mode)
    before = core.get_portable()
    try:
        core.set_portable(True)
        want = core_run(core, prog, t)
    finally:
        core.set_portable(before)
    np.testing.assert_array_equal(run(prog, t), want)
