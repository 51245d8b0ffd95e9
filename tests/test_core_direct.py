"""Direct tests of the C++ core ``fastlr._core``: programs built with ProgramBuilder, compared with the
numpy reference family functions (``fastlr._reference``).

Tolerances: the one table (``tolerance.py``), relative to the program's peak; exact (==) at t = 0, at
phase boundaries and past the end.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from tolerance import assert_agrees_peak, program_peak

from fastlr import _core, _program, _reference  # the C++ core must be built: no skip

P = _program
R = _reference


# --------------------------------------------------------------------------------------------------
# helpers


def core_program(prog):
    return _core.Program(prog.code, prog.operand_data, prog.operand_offset, prog.tables,
                         prog.n_registers, prog.result_register)


def evaluate(prog, t, dtype=np.float64, cprog=None):
    """Evaluate ``prog`` at the steps array ``t`` the way the facade does (coalesced strides)."""
    cprog = cprog or core_program(prog)
    t = np.asarray(t)
    shape = np.broadcast_shapes(t.shape, *prog.operand_shape)
    out = np.empty(shape, dtype=dtype)
    tb = np.broadcast_to(t, shape)
    step_row = np.array([s // t.itemsize if n != 1 else 0 for s, n in zip(tb.strides, shape)],
                        dtype=np.int64).reshape(1, -1)
    rows = np.concatenate([step_row, prog.operand_strides(shape)], axis=0) if shape else step_row
    cshape, cstrides = P.coalesce(tuple(shape), rows)
    # the data pointer of a negatively strided view is its first element: keep strides signed
    cprog.evaluate(tb, cstrides[0], 0.0, out, np.array(cshape, dtype=np.int64), cstrides[1:].copy())
    return out


def curve(prog, n, start=0.0, dtype=np.float64):
    cprog = core_program(prog)
    shape = (n,) + np.broadcast_shapes(*prog.operand_shape) if prog.operand_shape else (n,)
    out = np.empty(shape, dtype=dtype)
    step_row = np.zeros((1, len(shape)), dtype=np.int64)
    step_row[0, 0] = 1
    rows = np.concatenate([step_row, prog.operand_strides(shape)], axis=0)
    cshape, cstrides = P.coalesce(shape, rows)
    cprog.evaluate(None, cstrides[0], float(start), out, np.array(cshape, dtype=np.int64), cstrides[1:].copy())
    return out


def build(opcode, params, mode=0, table=None):
    b = P.ProgramBuilder()
    ops = tuple(b.operand(p) for p in params)
    tab = b.table(table) if table is not None else (0, 0)
    r = b.emit(opcode, src=0, mode=mode, table=tab, operands=ops)
    return b.build(r)


def assert_close(got, ref, peak_values, dtype=np.float64):
    """The one table's agreement of an engine result with the reference, relative to the peak."""
    ref = np.broadcast_to(np.asarray(ref, dtype=np.float64), np.shape(got))
    assert_agrees_peak(got, ref, peak_values, dtype)


# --------------------------------------------------------------------------------------------------
# the catalogue: (id, opcode, params, mode, table, reference(t), exact steps)

INF = np.inf
CASES = [
    ("constant", P.CONSTANT, [0.1], 0, None, lambda t: R.constant(t, 0.1), [0, 5]),
    ("linear", P.LINEAR, [1e-3, 1e-5, 1000.0], 0, None, lambda t: R.linear(t, 1e-3, 1e-5, 1000.0), [0, 1000, 5000]),
    ("linear_up", P.LINEAR, [0.0, 0.3, 7.0], 0, None, lambda t: R.linear(t, 0.0, 0.3, 7.0), [0, 7, 8]),
    ("step_decay", P.STEP_DECAY, [0.1, 0.5, 30.0], 0, None, lambda t: R.step_decay(t, 0.1, 0.5, 30.0),
     [0, 29, 30, 60, 59.5]),
    ("step_decay_small", P.STEP_DECAY, [1.0, 0.1, 1.0], 0, None, lambda t: R.step_decay(t, 1.0, 0.1, 1.0), [0, 1, 2]),
    ("multi_step", P.MULTI_STEP, [0.1, 0.1], 0, [30.0, 60.0, 90.0],
     lambda t: R.multi_step(t, 0.1, 0.1, [30.0, 60.0, 90.0]), [0, 30, 60, 90, 1000]),
    ("multi_step_long", P.MULTI_STEP, [0.2, 0.9], 0, list(np.arange(1, 41) * 25.0),
     lambda t: R.multi_step(t, 0.2, 0.9, np.arange(1, 41) * 25.0), [0, 25, 50, 1000, 1001]),
    ("exponential", P.EXPONENTIAL, [0.1, 0.96, 100.0, 1e-4, INF], 0, None,
     lambda t: R.exponential(t, 0.1, 0.96, 100.0, 1e-4, INF, False), [0, 100]),
    ("exponential_stair", P.EXPONENTIAL, [0.1, 0.96, 100.0, 0.0, INF], 1, None,
     lambda t: R.exponential(t, 0.1, 0.96, 100.0, 0.0, INF, True), [0, 100, 99]),
    ("exponential_growth", P.EXPONENTIAL, [1e-6, 1.001, 1.0, 0.0, 1e-3], 0, None,
     lambda t: R.exponential(t, 1e-6, 1.001, 1.0, 0.0, 1e-3, False), [0, 1, 7000, 1e6]),
    ("exponential_growth_stair", P.EXPONENTIAL, [1e-6, 1.5, 100.0, 0.0, 1.0], 1, None,
     lambda t: R.exponential(t, 1e-6, 1.5, 100.0, 0.0, 1.0, True), [0, 99, 100, 5000]),
    ("inverse_time", P.INVERSE_TIME, [0.1, 0.5, 100.0], 0, None,
     lambda t: R.inverse_time(t, 0.1, 0.5, 100.0, False), [0]),
    ("inverse_time_stair", P.INVERSE_TIME, [0.1, 0.5, 100.0], 1, None,
     lambda t: R.inverse_time(t, 0.1, 0.5, 100.0, True), [0, 100, 250]),
    ("polynomial", P.POLYNOMIAL, [0.1, 1e-4, 1000.0, 2.0], 0, None,
     lambda t: R.polynomial(t, 0.1, 1e-4, 1000.0, 2.0), [0, 1000, 2000]),
    ("polynomial_frac", P.POLYNOMIAL, [0.1, 0.0, 1000.0, 0.7], 0, None,
     lambda t: R.polynomial(t, 0.1, 0.0, 1000.0, 0.7), [0, 1000, 2000]),
    ("cosine", P.COSINE, [0.1, 1000.0, 1e-3], 0, None, lambda t: R.cosine(t, 0.1, 1000.0, 1e-3), [0, 1000, 5000]),
    ("restarts", P.COSINE_RESTARTS, [0.1, 100.0, 1e-3, 1.0, 1.0, INF], 0, None,
     lambda t: R.cosine_restarts(t, 0.1, 100.0, 1e-3, 1.0, 1.0, INF), [0, 100, 200]),
    ("restarts_mult", P.COSINE_RESTARTS, [0.1, 1.0, 0.0, 10.0, 0.5, INF], 0, None,
     lambda t: R.cosine_restarts(t, 0.1, 1.0, 0.0, 10.0, 0.5, INF), [0, 1, 11, 111, 1111]),
    ("restarts_mult2", P.COSINE_RESTARTS, [0.1, 50.0, 1e-3, 2.0, 0.8, 4.0], 0, None,
     lambda t: R.cosine_restarts(t, 0.1, 50.0, 1e-3, 2.0, 0.8, 4.0), [0, 50, 150, 350, 750, 10000]),
    ("restarts_frac", P.COSINE_RESTARTS, [0.1, 7.0, 0.0, 1.5, 0.9, INF], 0, None,
     lambda t: R.cosine_restarts(t, 0.1, 7.0, 0.0, 1.5, 0.9, INF), [0, 7, 17.5]),
    ("warmup_cosine", P.WARMUP_COSINE, [3e-4, 1000.0, 100.0, 3e-5, 0.0], 0, None,
     lambda t: R.warmup_cosine(t, 3e-4, 1000.0, 100.0, 3e-5, 0.0), [0, 100, 1000, 99, 2000]),
    ("warmup_cosine_w0", P.WARMUP_COSINE, [1.0, 10.0, 0.0, 0.0, 0.0], 0, None,
     lambda t: R.warmup_cosine(t, 1.0, 10.0, 0.0, 0.0, 0.0), [0, 10, 5]),
    ("warmup_cosine_wT", P.WARMUP_COSINE, [1.0, 10.0, 10.0, 0.1, 0.2], 0, None,
     lambda t: R.warmup_cosine(t, 1.0, 10.0, 10.0, 0.1, 0.2), [0, 10, 9]),
]
for shape_id, shape_name in enumerate(["linear", "cosine", "1-sqrt", "1-square"]):
    CASES.append((f"wsd_{shape_name}", P.WARMUP_STABLE_DECAY, [1e-3, 1000.0, 100.0, 200.0, 1e-5, 1e-6],
                  shape_id, None,
                  (lambda s: lambda t: R.warmup_stable_decay(t, 1e-3, 1000.0, 100.0, 200.0, 1e-5, 1e-6, s))(shape_name),
                  [0, 100, 800, 1000, 900]))
CASES.append(("wsd_d0", P.WARMUP_STABLE_DECAY, [1.0, 10.0, 0.0, 0.0, 0.1, 0.0], 1, None,
              lambda t: R.warmup_stable_decay(t, 1.0, 10.0, 0.0, 0.0, 0.1, 0.0, "cosine"), [0, 10, 9]))
for mode in range(4):
    anneal = "linear" if mode & 1 else "cos"
    three = bool(mode & 2)
    for total, pct in [(1000.0, 0.3), (10.0, 0.25), (3.0, 0.1), (1.0, 0.3)]:
        CASES.append((f"one_cycle_{anneal}_{int(three)}_{int(total)}", P.ONE_CYCLE, [0.1, total, pct, 25.0, 1e4], mode,
                      None,
                      (lambda a, th, T, p: lambda t: R.one_cycle(t, 0.1, T, p, 25.0, 1e4, a, th))(anneal, three, total, pct),
                      ([0] if pct * total - 1 >= 0 else []) + [pct * total - 1, total - 1, total]
                      + ([2 * pct * total - 2] if three else [])))
for mode, mname in enumerate(["triangular", "triangular2", "exp_range"]):
    CASES.append((f"cyclic_{mname}", P.CYCLIC, [1e-4, 1e-2, 200.0, 300.0, 0.9995], mode, None,
                  (lambda m: lambda t: R.cyclic(t, 1e-4, 1e-2, 200.0, 300.0, 0.9995, m))(mname),
                  [0, 500] + ([200, 700] if mode < 2 else [])))
CASES += [
    ("inverse_sqrt", P.INVERSE_SQRT, [1e-3, 4000.0, 0.0], 0, None, lambda t: R.inverse_sqrt(t, 1e-3, 4000.0, 0.0),
     [0, 4000, 16000]),
    ("inverse_sqrt_w0", P.INVERSE_SQRT, [1e-3, 0.0, 0.0], 0, None, lambda t: R.inverse_sqrt(t, 1e-3, 0.0, 0.0),
     [0, 1, 4]),
    ("tanh", P.TANH, [0.1, 1000.0, 1e-4, -7.0, 3.0], 0, None, lambda t: R.tanh(t, 0.1, 1000.0, 1e-4, -7.0, 3.0),
     [1000, 2000]),  # tanh(-7) is not pinned: t = 0 is only within ulps
    ("piecewise_constant", P.PIECEWISE_CONSTANT, [], 0, [10.0, 20.0, 30.0, 0.1, 0.01, 0.001, 1e-4],
     lambda t: R.piecewise_constant(t, [10.0, 20.0, 30.0], [0.1, 0.01, 0.001, 1e-4]), [0, 10, 20, 30, 9.5]),
    ("piecewise_linear", P.PIECEWISE_LINEAR, [], 0, [0.0, 100.0, 1000.0, 0.0, 1e-3, 1e-5],
     lambda t: R.piecewise_linear(t, [0.0, 100.0, 1000.0], [0.0, 1e-3, 1e-5]), [0, 100, 1000, 5000]),
    ("piecewise_linear_1", P.PIECEWISE_LINEAR, [], 0, [5.0, 0.25],
     lambda t: R.piecewise_linear(t, [5.0], [0.25]), [0, 5, 6]),
    ("piecewise_linear_2", P.PIECEWISE_LINEAR, [], 0, [5.0, 10.0, 1.0, 2.0],
     lambda t: R.piecewise_linear(t, [5.0, 10.0], [1.0, 2.0]), [0, 5, 7.5, 10, 11]),
]
# piecewise tables in the engine layout: k boundaries then the values, length field = k
_TABLE_K = {"piecewise_constant": 3, "piecewise_linear": 3, "piecewise_linear_1": 1, "piecewise_linear_2": 2}


def build_case(case):
    name, opcode, params, mode, table, _, _ = case
    if opcode in (P.PIECEWISE_CONSTANT, P.PIECEWISE_LINEAR):
        b = P.ProgramBuilder()
        off, _ = b.table(table)
        r = b.emit(opcode, src=0, table=(off, _TABLE_K[name]))
        return b.build(r)
    return build(opcode, params, mode, table)


def steps_for(case):
    exact = np.asarray(case[6], dtype=np.float64)
    t = np.concatenate([np.arange(0, 3000, dtype=np.float64), np.arange(0, 3000) + 0.37,
                        np.array([1e6, 123456789.0, 2.0**40, 2.0**52]), exact[exact >= 0]])
    return t


@pytest.fixture(params=[False, True], ids=["best", "portable"])
def path(request):
    old = _core.get_portable()
    _core.set_portable(request.param)
    yield request.param
    _core.set_portable(old)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_family_matches_reference(case, path):
    prog = build_case(case)
    t = steps_for(case)
    with np.errstate(all="ignore"):
        ref = case[5](t)
    got = evaluate(prog, t)
    assert_close(got, ref, program_peak(prog))
    # exact at t = 0, at the boundaries and past the end
    exact = np.asarray([e for e in case[6] if e >= 0], dtype=np.float64)
    with np.errstate(all="ignore"):
        ref_exact = np.broadcast_to(case[5](exact), exact.shape)
    got_exact = evaluate(prog, exact)
    np.testing.assert_array_equal(got_exact, ref_exact)
    # float32 = the float64 result rounded once
    got32 = evaluate(prog, t, dtype=np.float32)
    np.testing.assert_array_equal(got32, got.astype(np.float32))
    assert_close(got32, ref, program_peak(prog), np.float32)
    # the scalar fast path gives the same bits
    cp = core_program(prog)
    for x in exact[:6]:
        assert cp.scalar(float(x)) == got_exact[list(exact).index(x)]
    # curve == evaluate at arange
    np.testing.assert_array_equal(curve(prog, 3000).ravel(), got.ravel()[:3000])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_paths_and_threads_bit_identical(case):
    prog = build_case(case)
    t = np.arange(0, 300_000, dtype=np.float64) * 0.013
    old = _core.get_num_threads()
    try:
        _core.set_portable(True)
        _core.set_num_threads(1)
        a = evaluate(prog, t)
        _core.set_portable(False)
        b = evaluate(prog, t)
        _core.set_num_threads(2)
        c = evaluate(prog, t)
        _core.set_num_threads(5)
        d = evaluate(prog, t)
    finally:
        _core.set_num_threads(old)
        _core.set_portable(False)
    # Thread counts never change a bit (every element is computed on its own). The AVX2 build fuses
    # the multiply-adds of the cospi polynomial (FMA, one rounding instead of two: csrc math.hpp
    # madd_), so the cosine families may differ from the portable build by about an ulp of the
    # cosine factor: within the spec's tolerance of the reference, and equal at the pinned points
    # (test_family_matches_reference checks both builds there). Families without it stay identical.
    np.testing.assert_array_equal(b, c)
    np.testing.assert_array_equal(b, d)
    assert_close(b, a, program_peak(prog))
    if not (_core.cpu_features()["fma_used"] and case[1] in _FMA_OPCODES):
        np.testing.assert_array_equal(a, b)


# opcodes whose values go through the cospi polynomial (FMA in the AVX2 build)
_FMA_OPCODES = (P.COSINE, P.COSINE_RESTARTS, P.WARMUP_COSINE, P.WARMUP_STABLE_DECAY, P.ONE_CYCLE)


# Families whose C++ block loop runs in passes (interpreter.hpp eval_passes: Polynomial with a shared
# power outside {0, 0.5, 1, 2}, Exponential, Tanh, OneCycle's cosine anneal): every path must give
# the bits of the one-element F::eval, whatever the block and vector tails.
_PASSES_CASES = [
    (P.POLYNOMIAL, [0.1, 1e-4, 997.0, 1.5], 0),
    (P.POLYNOMIAL, [0.1, 0.0, 997.0, 3.0], 0),
    (P.POLYNOMIAL, [0.1, 0.0, 997.0, 0.5], 0),
    (P.POLYNOMIAL, [0.1, 0.0, 997.0, 0.0], 0),
    (P.EXPONENTIAL, [0.1, 0.996, 3.0, 1e-5, INF], 0),
    (P.EXPONENTIAL, [0.1, 0.9, 7.0, 0.0, INF], 1),
    (P.EXPONENTIAL, [1e-6, 1.003, 3.0, 0.0, 0.5], 0),
    (P.TANH, [0.1, 997.0, 1e-4, -7.0, 3.0], 0),
    (P.ONE_CYCLE, [0.1, 997.0, 0.3, 25.0, 1e4], 0),
    (P.ONE_CYCLE, [0.1, 997.0, 0.3, 25.0, 1e4], 2),
]


@pytest.mark.parametrize("opcode, params, mode", _PASSES_CASES,
                         ids=["poly_1.5", "poly_3", "poly_0.5", "poly_0", "exponential", "exponential_stair", "exponential_growth",
                              "tanh", "one_cycle_cos", "one_cycle_cos_three"])
def test_block_passes_match_every_path(opcode, params, mode, path):
    n = 1237  # four blocks of 256 and a tail of 213, not a multiple of the vector width
    t = np.arange(n) * 1.01
    prog = build(opcode, params, mode)
    got = evaluate(prog, t)
    cp = core_program(prog)
    np.testing.assert_array_equal(got, [cp.scalar(float(x)) for x in t])
    np.testing.assert_array_equal(evaluate(prog, t, dtype=np.float32), got.astype(np.float32))
    whole = evaluate(prog, np.arange(n, dtype=np.float64))
    np.testing.assert_array_equal(curve(prog, n), whole)
    np.testing.assert_array_equal(curve(prog, n, dtype=np.float32), whole.astype(np.float32))
    # the per-element operand loop (no passes) gives the same bits
    per_element = [np.full(n, v) if k == len(params) - 1 else v for k, v in enumerate(params)]
    np.testing.assert_array_equal(evaluate(build(opcode, per_element, mode), t), got)


@pytest.mark.parametrize("opcode, params, mode", [
    (P.WARMUP_COSINE, [1e-3, 20000.0, 100.0, 1e-5, 0.0], 0),
    (P.WARMUP_STABLE_DECAY, [1e-3, 20000.0, 100.0, 5000.0, 1e-5, 0.0], 0),
    (P.WARMUP_STABLE_DECAY, [1e-3, 20000.0, 100.0, 5000.0, 1e-5, 0.0], 1),
    (P.WARMUP_STABLE_DECAY, [1e-3, 20000.0, 100.0, 5000.0, 1e-5, 0.0], 2),
    (P.WARMUP_STABLE_DECAY, [1e-3, 20000.0, 100.0, 5000.0, 1e-5, 0.0], 3),
], ids=["warmup_cosine", "wsd_linear", "wsd_cosine", "wsd_1-sqrt", "wsd_1-square"])
def test_curve_chunks_past_the_warmup(opcode, params, mode, path):
    # a fused curve evaluates chunks of 4096 steps that lie after the warmup without its operations
    # (evalv_decay): the same bits as every lane's full formula (the block path)
    prog = build(opcode, params, mode)
    whole = np.arange(25000, dtype=np.float64)
    got = curve(prog, 25000)
    np.testing.assert_array_equal(got, evaluate(prog, whole))
    np.testing.assert_array_equal(curve(prog, 25000, dtype=np.float32), got.astype(np.float32))


@pytest.mark.parametrize("k", [1, 3, 16, 17, 40])
def test_tables_one_piece_and_search_paths(k, path):
    # PiecewiseLinear, PiecewiseConstant and MultiStep handle a block whose steps lie in one piece with
    # the piece's constants, and search the others (a count for k <= 16, a binary search above): sorted
    # steps (mostly one-piece blocks) and the same steps shuffled (every block searched) give the same bits
    rng = np.random.default_rng(k)
    bounds = np.sort(rng.choice(np.arange(1, 5000), k, replace=False)).astype(np.float64)
    values = rng.uniform(0.1, 1.0, k + 1)
    t = np.arange(0, 6000, 0.5)
    perm = rng.permutation(t.size)
    b = P.ProgramBuilder()
    off, _ = b.table(list(bounds) + list(values[:k]))
    linear = b.build(b.emit(P.PIECEWISE_LINEAR, src=0, table=(off, k)))
    b = P.ProgramBuilder()
    off, _ = b.table(list(bounds) + list(values))
    constant = b.build(b.emit(P.PIECEWISE_CONSTANT, src=0, table=(off, k)))
    multi = build(P.MULTI_STEP, [0.3, 0.8], table=list(bounds))
    cases = [(linear, lambda x: R.piecewise_linear(x, bounds, values[:k])),
             (constant, lambda x: R.piecewise_constant(x, bounds, values)),
             (multi, lambda x: R.multi_step(x, 0.3, 0.8, bounds))]
    for prog, ref in cases:
        got = evaluate(prog, t)
        assert_close(got, ref(t), program_peak(prog))
        np.testing.assert_array_equal(evaluate(prog, t[perm]), got[perm])
        np.testing.assert_array_equal(evaluate(prog, bounds), ref(bounds))  # exact at the boundaries
        whole = np.arange(6000, dtype=np.float64)
        np.testing.assert_array_equal(curve(prog, 6000), evaluate(prog, whole))
        np.testing.assert_array_equal(evaluate(prog, whole[perm[perm < 6000]]), evaluate(prog, whole)[perm[perm < 6000]])


def test_random_steps_restarts_and_cyclic():
    rng = np.random.default_rng(0)
    t = np.concatenate([rng.uniform(0, 1e5, 50_000), rng.integers(0, 10**7, 50_000).astype(float)])
    for m in (1.0, 1.5, 2.0, 3.0):
        prog = build(P.COSINE_RESTARTS, [0.1, 37.0, 1e-3, m, 0.7, INF])
        assert_close(evaluate(prog, t), R.cosine_restarts(t, 0.1, 37.0, 1e-3, m, 0.7, INF), program_peak(prog))
        starts = np.array([37.0 * ((m**i - 1) / (m - 1) if m != 1 else i) for i in range(12)])
        np.testing.assert_array_equal(evaluate(prog, starts), R.cosine_restarts(starts, 0.1, 37.0, 1e-3, m, 0.7, INF))
    prog = build(P.CYCLIC, [1e-4, 1e-2, 3.0, 3.0, 1.0], mode=1)
    huge = np.array([0.0, 1e5, 1e9, 1e15, 2.0**53])
    got = evaluate(prog, huge)
    assert np.all(np.isfinite(got))
    assert_close(got, R.cyclic(huge, 1e-4, 1e-2, 3.0, 3.0, 1.0, "triangular2"), program_peak(prog))


# --------------------------------------------------------------------------------------------------
# operands, strides, dtypes


def test_array_operands_broadcast_nd():
    peak = np.array([1e-3, 2e-3, 3e-3])
    warm = np.array([[0.0], [10.0], [100.0], [500.0]])
    prog = build(P.WARMUP_COSINE, [peak, 1000.0, warm, 1e-5, 0.0])
    t = np.arange(0, 1200, dtype=np.float64).reshape(-1, 1, 1)
    got = evaluate(prog, t)
    assert got.shape == (1200, 4, 3)
    assert_close(got, R.warmup_cosine(t, peak, 1000.0, warm, 1e-5, 0.0), program_peak(prog))
    c = curve(prog, 1200)
    np.testing.assert_array_equal(c, got)
    # per-element operand along the steps
    lr = np.linspace(0.1, 1.0, 5000)
    prog = build(P.STEP_DECAY, [lr, 0.5, 100.0])
    t = np.arange(5000)
    assert_close(evaluate(prog, t), R.step_decay(t.astype(float), lr, 0.5, 100.0), program_peak(prog))
    prog = build(P.EXPONENTIAL, [0.1, np.linspace(0.5, 0.99, 5000), 10.0, 0.0, INF])
    assert_close(evaluate(prog, t), R.exponential(t.astype(float), 0.1, np.linspace(0.5, 0.99, 5000), 10.0, 0.0, INF, False), program_peak(prog))
    prog = build(P.MULTI_STEP, [0.1, np.linspace(0.5, 0.99, 5000)], table=[100.0, 2000.0])
    assert_close(evaluate(prog, t), R.multi_step(t.astype(float), 0.1, np.linspace(0.5, 0.99, 5000), [100.0, 2000.0]), program_peak(prog))
    cyc = np.array([10.0, 20.0, 30.0])
    prog = build(P.COSINE_RESTARTS, [0.1, cyc, 0.0, np.array([1.0, 2.0, 1.5]), 0.9, INF])
    t2 = np.arange(3000.0).reshape(-1, 1)
    assert_close(evaluate(prog, t2), R.cosine_restarts(t2, 0.1, cyc, 0.0, np.array([1.0, 2.0, 1.5]), 0.9, INF), program_peak(prog))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64])
def test_steps_dtypes_and_strides(dtype):
    prog = build(P.WARMUP_COSINE, [3e-4, 10000.0, 500.0, 3e-5, 0.0])
    base = np.arange(20000).astype(dtype)
    ref_all = R.warmup_cosine(base.astype(np.float64), 3e-4, 10000.0, 500.0, 3e-5, 0.0)
    for view, idx in [(base, slice(None)), (base[::-3], slice(None, None, -3)), (base[5:17000:7], slice(5, 17000, 7))]:
        got = evaluate(prog, view)
        np.testing.assert_array_equal(got, evaluate(prog, np.ascontiguousarray(view).astype(np.float64)))
        assert_close(got, ref_all[idx], program_peak(prog))
    two_d = base.reshape(200, 100)[::2, ::-1]
    got = evaluate(prog, two_d)
    assert_close(got, R.warmup_cosine(two_d.astype(np.float64), 3e-4, 10000.0, 500.0, 3e-5, 0.0), program_peak(prog))


def test_join_and_combinators():
    # join(Linear warmup, Cosine) at 100, scaled, with_warmup-style ramp, product, zero
    b = P.ProgramBuilder()
    r0 = b.emit(P.LINEAR, src=0, operands=(b.operand(0.0), b.operand(1e-3), b.operand(100.0)))
    u = b.emit(P.SHIFT, src=0, operands=(b.operand(100.0),))
    v = b.emit(P.COSINE, src=u, operands=(b.operand(1e-3), b.operand(900.0), b.operand(0.0)))
    j = b.emit(P.SELECT, src=0, src2=r0, src3=v, operands=(b.operand(100.0),))
    s = b.emit(P.SCALE, src=j, operands=(b.operand(np.array([1.0, 0.5])),))
    prog = b.build(s)
    t = np.arange(0, 1200, dtype=np.float64).reshape(-1, 1)

    def ref(t):
        joined = R.join(t, [lambda x: R.linear(x, 0.0, 1e-3, 100.0), lambda x: R.cosine(x, 1e-3, 900.0, 0.0)], [100.0])
        return joined * np.array([1.0, 0.5])

    got = evaluate(prog, t)
    np.testing.assert_array_equal(got[100], ref(t)[100])
    assert_close(got, ref(t), program_peak(prog))
    # ramp (with_warmup) and mul and zero
    b = P.ProgramBuilder()
    sh = b.emit(P.SHIFT, src=0, operands=(b.operand(50.0),))
    z = b.emit(P.ZERO)
    part_t = b.emit(P.COSINE, src=sh, operands=(b.operand(1e-3), b.operand(500.0), b.operand(1e-5)))
    part_0 = b.emit(P.COSINE, src=z, operands=(b.operand(1e-3), b.operand(500.0), b.operand(1e-5)))
    ramp = b.emit(P.RAMP, src=0, src2=part_t, src3=part_0, operands=(b.operand(50.0), b.operand(1e-6)))
    m = b.emit(P.MUL, src=ramp, src2=ramp)
    prog = b.build(m)
    t = np.arange(0, 700, dtype=np.float64)
    w = R.with_warmup(t, lambda x: R.cosine(x, 1e-3, 500.0, 1e-5), 50.0, 1e-6)
    assert_close(evaluate(prog, t), w * w, program_peak(prog))


def test_scalar_requires_scalar_operands_and_is_fast():
    prog = build(P.WARMUP_COSINE, [3e-4, 1000.0, 100.0, 3e-5, 0.0])
    cp = core_program(prog)
    assert cp.scalar(0.0) == 0.0
    assert cp.scalar(100.0) == 3e-4
    assert cp.scalar(1e9) == 3e-5
    arr = core_program(build(P.CONSTANT, [np.array([1.0, 2.0])]))
    with pytest.raises(ValueError):
        arr.scalar(1.0)


# --------------------------------------------------------------------------------------------------
# bad calls


def test_bad_programs_raise():
    prog = build(P.LINEAR, [0.0, 1.0, 10.0])

    def make(code=None, data=None, offset=None, tables=None, n_reg=None, result=None):
        return _core.Program(prog.code if code is None else code, prog.operand_data if data is None else data,
                             prog.operand_offset if offset is None else offset,
                             prog.tables if tables is None else tables,
                             prog.n_registers if n_reg is None else n_reg,
                             prog.result_register if result is None else result)

    make()
    bad = prog.code.copy()
    bad[0, 0] = 99
    with pytest.raises(ValueError, match="opcode"):
        make(code=bad)
    bad = prog.code.copy()
    bad[0, 8] = 7
    with pytest.raises(ValueError, match="operand"):
        make(code=bad)
    bad = prog.code.copy()
    bad[0, 2] = 5
    with pytest.raises(ValueError, match="register"):
        make(code=bad)
    with pytest.raises(ValueError):
        make(result=9)
    with pytest.raises(ValueError):
        make(offset=np.array([0, 1, 5], dtype=np.int64))
    with pytest.raises(TypeError):
        make(code=prog.code.astype(np.int32))
    with pytest.raises(TypeError):
        make(data=prog.operand_data.astype(np.float32))
    b = P.ProgramBuilder()
    off, _ = b.table([1.0, 2.0])
    r = b.emit(P.PIECEWISE_CONSTANT, table=(off, 1))  # needs 2k + 1 = 3 entries
    pc = b.build(r)
    with pytest.raises(ValueError, match="table"):
        core_program(pc)


def test_bad_evaluate_calls_raise():
    prog = build(P.LINEAR, [0.0, 1.0, np.arange(1.0, 11.0)])
    cp = core_program(prog)
    shape = np.array([10], dtype=np.int64)
    strides = prog.operand_strides((10,))
    t = np.arange(10.0)
    one = np.array([1], dtype=np.int64)
    cp.evaluate(t, one, 0.0, np.empty(10), shape, strides)
    with pytest.raises(TypeError):
        cp.evaluate(t, one, 0.0, np.empty(10, dtype=np.int64), shape, strides)
    with pytest.raises(ValueError):
        cp.evaluate(t, one, 0.0, np.empty(9), shape, strides)
    with pytest.raises(ValueError):
        cp.evaluate(t, one, 0.0, np.empty(20)[::2], shape, strides)
    with pytest.raises(TypeError):
        cp.evaluate(t.astype(np.int16), one, 0.0, np.empty(10), shape, strides)
    with pytest.raises(ValueError):
        cp.evaluate(t[:5], one, 0.0, np.empty(10), shape, strides)  # steps strides reach past the array
    with pytest.raises(ValueError):
        cp.evaluate(t, one, 0.0, np.empty(10), shape, strides[:2])
    with pytest.raises(ValueError):
        cp.evaluate(t, one, 0.0, np.empty(10), shape, strides * 3)  # operand reach
    with pytest.raises(ValueError):
        cp.evaluate(t, np.array([1, 0], dtype=np.int64), 0.0, np.empty(10), shape, strides)
    with pytest.raises(TypeError):
        cp.evaluate([1, 2, 3], one, 0.0, np.empty(10), shape, strides)
    ro = np.empty(10)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        cp.evaluate(t, one, 0.0, ro, shape, strides)


def test_out_aliasing_steps():
    b = P.ProgramBuilder()
    s = b.emit(P.SHIFT, src=0, operands=(b.operand(10.0),))
    c = b.emit(P.COSINE, src=s, operands=(b.operand(1.0), b.operand(100.0), b.operand(0.0)))
    r = b.emit(P.SELECT, src=0, src2=s, src3=c, operands=(b.operand(10.0),))
    prog = b.build(r)
    t = np.arange(0, 2000, dtype=np.float64) * 0.1
    ref = evaluate(prog, t)
    buf = t.copy()
    core_program(prog).evaluate(buf, np.array([1], dtype=np.int64), 0.0, buf, np.array([2000], dtype=np.int64),
                                prog.operand_strides((2000,)))
    np.testing.assert_array_equal(buf, ref)


# --------------------------------------------------------------------------------------------------
# runtime: threads, concurrency, fork


def test_runtime_functions():
    assert _core.get_num_threads() >= 1
    feats = _core.cpu_features()
    assert feats["kernel"] in ("avx2", "baseline")
    info = _core.build_info()
    assert "compiler" in info and "flags" in info and "-ffast-math" not in info["flags"]
    old = _core.get_portable()
    _core.set_portable(True)
    assert _core.get_portable() and _core.cpu_features()["kernel"] == "baseline"
    _core.set_portable(old)
    with pytest.raises(ValueError):
        _core.set_num_threads(0)


def test_concurrent_python_threads():
    prog = build(P.WARMUP_COSINE, [3e-4, 1e6, 1e4, 3e-5, 0.0])
    cp = core_program(prog)
    expected = curve(prog, 1_000_000).ravel()
    errors = []

    def work():
        try:
            for _ in range(5):
                out = np.empty(1_000_000)
                cp.evaluate(None, np.array([1], dtype=np.int64), 0.0, out, np.array([1_000_000], dtype=np.int64),
                            prog.operand_strides((1_000_000,)))
                if not np.array_equal(out, expected):
                    errors.append("mismatch")
        except Exception as exc:  # pragma: no cover
            errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_can_evaluate():
    prog = build(P.COSINE, [1.0, 1e6, 0.0])
    expected = curve(prog, 1_000_000)  # warms the pool in the parent
    pid = os.fork()
    if pid == 0:  # child
        ok = False
        try:
            ok = np.array_equal(curve(prog, 1_000_000), expected)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
