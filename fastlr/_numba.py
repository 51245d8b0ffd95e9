"""The numba backend: the program interpreter of ``docs/engine.md`` compiled with numba.

One interpreter walks the output in C order in blocks of ``BLOCK`` elements: it loads the steps of the
block into register 0 as float64 (or computes them for the implicit ``start + i`` of ``curve``), gathers
every array operand of the block (a scalar operand is written into its buffer once per thread), runs the
instructions, and stores the result register (rounded once to float32 if ``out`` is float32). Large calls
run the blocks in parallel with ``prange``; every element is computed by the same code whatever the block
split, so the result is bit-identical for any thread count.

Every kernel is ``@njit(cache=True, nogil=True, error_model="numpy")``, without fastmath (IEEE division
by zero, no reassociation, no fused multiply-add). The cosine factor uses a vectorizable ``cospi`` with
exact argument reduction (``cospi(0) == 1``, ``cospi(1) == -1``) so that LLVM vectorizes the inner loops;
``pow``/``log``/``tanh`` go through libm like numpy, with the power cached across a block where the exponent
is piecewise constant (step decay, milestones, restarts, triangular2), which keeps those bit-identical to
the reference.

Argument types are canonicalised before the call (every step dtype has its own argument, the output has
a float64 and a float32 argument, shapes and strides are int64 arrays), so each kernel compiles exactly once
per process and once per machine with the on-disk cache. Nothing is compiled at import.
"""

from __future__ import annotations

import math
import os
import threading
import time

import numba
import numpy as np
from numba import njit, prange

from ._program import (
    CONSTANT,
    COSINE,
    COSINE_RESTARTS,
    CYCLIC,
    EXPONENTIAL,
    INVERSE_SQRT,
    INVERSE_TIME,
    LINEAR,
    MUL,
    MULTI_STEP,
    ONE_CYCLE,
    PIECEWISE_CONSTANT,
    PIECEWISE_LINEAR,
    POLYNOMIAL,
    RAMP,
    SCALE,
    SELECT,
    SHIFT,
    STEP_DECAY,
    TANH,
    WARMUP_COSINE,
    WARMUP_STABLE_DECAY,
    ZERO,
)

__all__ = ["evaluate", "scalar", "set_num_threads", "get_num_threads", "compile_report", "prepare_steps"]

BLOCK = 512
#: below this many elements a call runs serially (no thread launch)
PARALLEL_THRESHOLD = 1 << 15

_JIT = dict(cache=True, nogil=True, error_model="numpy")
_INLINE = dict(cache=True, nogil=True, error_model="numpy", inline="always")

# step kinds
_ITOA, _I32, _I64, _F32, _F64 = 0, 1, 2, 3, 4

# --------------------------------------------------------------------------------------------------
# math helpers (scalar, inlined into the block loops so that LLVM vectorizes them)

# fdlibm __kernel_sin / __kernel_cos coefficients (|x| <= pi/4)
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11
_PI = math.pi


@njit(**_INLINE)
def _cospi(x):
    """``cos(pi x)`` for finite ``x``: exact reduction to ``r = x - n/2``, ``|r| <= 1/4``.

    ``cospi(0) == 1``, ``cospi(1) == -1`` and ``cospi(1/2) == 0`` exactly.
    """
    y = 2.0 * abs(x)
    n = np.floor(y + 0.5)
    r = (y - n) * 0.5  # exact
    q = n - 4.0 * np.floor(n * 0.25)  # n mod 4
    a = r * _PI
    z = a * a
    rc = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    hz = 0.5 * z
    w = 1.0 - hz
    cosv = w + (((1.0 - w) - hz) + z * rc)
    rs = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    sinv = a + (z * a) * (_S1 + z * rs)
    v = sinv if (q == 1.0 or q == 3.0) else cosv
    return -v if (q == 1.0 or q == 2.0) else v


@njit(**_INLINE)
def _cos_factor(p):
    """``(1 + cos(pi p)) / 2`` written as the reference: ``0.5 * (1 + cos(pi p))``."""
    return 0.5 * (1.0 + _cospi(p))


@njit(**_INLINE)
def _blend(a, b, c):
    return a * (1.0 - c) + b * c


@njit(**_INLINE)
def _sdiv(num, den):
    return num / den if den != 0.0 else 0.0


@njit(**_INLINE)
def _clip01(x):
    return min(max(x, 0.0), 1.0)


@njit(**_INLINE)
def _count_le(tables, off, k, t):
    """``searchsorted(tables[off:off+k], t, side="right")``: the number of entries ``<= t``."""
    lo = 0
    hi = k
    while lo < hi:
        mid = (lo + hi) >> 1
        if tables[off + mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo


# --------------------------------------------------------------------------------------------------
# families: one block loop each, ``d[i] = f(t[i], operands[i])`` for i < n


@njit(**_JIT)
def _f_constant(d, t, lr, n):
    for i in range(n):
        d[i] = lr[i]


@njit(**_JIT)
def _f_linear(d, t, a, b, tt, n):
    for i in range(n):
        f = min(t[i], tt[i]) / tt[i]
        d[i] = _blend(a[i], b[i], f)


@njit(**_JIT)
def _f_step_decay(d, t, lr, g, s, n):
    pk = -1.0
    pg = np.nan
    pv = 1.0
    for i in range(n):
        k = np.floor(t[i] / s[i])
        if k != pk or g[i] != pg:
            pk = k
            pg = g[i]
            pv = g[i] ** k
        d[i] = lr[i] * pv


@njit(**_JIT)
def _f_multi_step(d, t, lr, g, tables, off, k, n):
    pc = -1
    pg = np.nan
    pv = 1.0
    for i in range(n):
        c = _count_le(tables, off, k, t[i])
        if c != pc or g[i] != pg:
            pc = c
            pg = g[i]
            pv = g[i] ** float(c)
        d[i] = lr[i] * pv


@njit(**_JIT)
def _f_exponential(d, t, lr, g, s, mn, staircase, n):
    if staircase:
        pe = -1.0
        pg = np.nan
        pv = 1.0
        for i in range(n):
            e = np.floor(t[i] / s[i])
            if e != pe or g[i] != pg:
                pe = e
                pg = g[i]
                pv = g[i] ** e
            d[i] = max(lr[i] * pv, mn[i])
    else:
        for i in range(n):
            e = t[i] / s[i]
            d[i] = max(lr[i] * g[i] ** e, mn[i])


@njit(**_JIT)
def _f_inverse_time(d, t, lr, rate, s, staircase, n):
    if staircase:
        for i in range(n):
            e = np.floor(t[i] / s[i])
            d[i] = lr[i] / (1.0 + rate[i] * e)
    else:
        for i in range(n):
            e = t[i] / s[i]
            d[i] = lr[i] / (1.0 + rate[i] * e)


@njit(**_JIT)
def _f_polynomial(d, t, a, b, tt, pw, n):
    for i in range(n):
        f = min(t[i], tt[i]) / tt[i]
        q = (1.0 - f) ** pw[i]
        d[i] = _blend(b[i], a[i], q)


@njit(**_JIT)
def _f_cosine(d, t, pk, tt, mn, n):
    for i in range(n):
        p = min(t[i], tt[i]) / tt[i]
        d[i] = _blend(mn[i], pk[i], _cos_factor(p))


@njit(**_INLINE)
def _restart_start(i, c, m):
    if m == 1.0:
        return c * i
    return _sdiv(c * (m ** i - 1.0), m - 1.0)


@njit(**_JIT)
def _restart_cycle(t, c, m):
    """The reference's ``restart_cycle`` for one element: a log guess, then exact correction."""
    if m == 1.0:
        i = np.floor(t / c)
    else:
        i = np.floor(math.log1p(t * (m - 1.0) / c) / math.log(m))
    i = min(max(i, 0.0), 9007199254740992.0)  # as the reference: clamp at 2**53, <= 64 corrections
    for _ in range(64):
        up = _restart_start(i + 1.0, c, m) <= t
        down = (_restart_start(i, c, m) > t) and (i > 0.0)
        if not (up or down):
            break
        if up:
            i += 1.0
        else:
            i -= 1.0
    return i


@njit(**_JIT)
def _f_cosine_restarts(d, t, pk, cs, mn, m, dec, lim, n):
    # cache of the current cycle: valid while the parameters are unchanged and S_i <= t < S_{i+1}
    kc = np.nan
    km = np.nan
    kd = np.nan
    ci = 0.0
    s0 = 0.0
    s1 = -1.0
    length = 1.0
    dpow = 1.0
    for j in range(n):
        tj = t[j]
        if not (cs[j] == kc and m[j] == km and dec[j] == kd and tj < s1 and (s0 <= tj or ci == 0.0)):
            kc = cs[j]
            km = m[j]
            kd = dec[j]
            ci = _restart_cycle(tj, kc, km)
            s0 = _restart_start(ci, kc, km)
            s1 = _restart_start(ci + 1.0, kc, km)
            length = kc * km ** ci
            dpow = kd ** ci
        if ci >= lim[j]:
            d[j] = mn[j]
        else:
            p = (tj - s0) / length
            d[j] = _blend(mn[j], pk[j] * dpow, _cos_factor(p))


@njit(**_JIT)
def _f_warmup_cosine(d, t, pk, tt, w, mn, init, n):
    for i in range(n):
        ti = t[i]
        warm = _blend(init[i], pk[i], _sdiv(ti, w[i]))
        p = _sdiv(ti - w[i], tt[i] - w[i])
        decay = _blend(mn[i], pk[i], _cos_factor(p))
        v = warm if ti < w[i] else decay
        d[i] = mn[i] if ti >= tt[i] else v


@njit(**_JIT)
def _f_wsd(d, t, pk, tt, w, dd, mn, init, shape, n):
    for i in range(n):
        ti = t[i]
        warm = _blend(init[i], pk[i], _sdiv(ti, w[i]))
        ds = tt[i] - dd[i]
        p = _clip01(_sdiv(ti - ds, dd[i]))
        if shape == 0:
            s = 1.0 - p
        elif shape == 1:
            s = _cos_factor(p)
        elif shape == 2:
            s = 1.0 - math.sqrt(p)
        else:
            s = 1.0 - p * p
        decay = _blend(mn[i], pk[i], s)
        v = warm if ti < w[i] else (pk[i] if ti < ds else decay)
        d[i] = mn[i] if ti >= tt[i] else v


@njit(**_JIT)
def _f_one_cycle(d, t, mx, tt, pct, div, fdiv, mode, n):
    linear = (mode & 1) != 0
    three = (mode & 2) != 0
    for i in range(n):
        initial = mx[i] / div[i]
        final = initial / fdiv[i]
        first_end = pct[i] * tt[i] - 1.0
        last_end = tt[i] - 1.0
        th = min(t[i], last_end)
        if three:
            mid_end = 2.0 * pct[i] * tt[i] - 2.0
            if th <= first_end:
                start, end, lf, lt = 0.0, first_end, initial, mx[i]
            elif th <= mid_end:
                start, end, lf, lt = first_end, mid_end, mx[i], initial
            else:
                start, end, lf, lt = mid_end, last_end, initial, final
        else:
            if th <= first_end:
                start, end, lf, lt = 0.0, first_end, initial, mx[i]
            else:
                start, end, lf, lt = first_end, last_end, mx[i], final
        q = _clip01(_sdiv(th - start, end - start))
        if end - start <= 0.0:
            q = 1.0
        c = (1.0 - q) if linear else _cos_factor(q)
        d[i] = _blend(lt, lf, c)  # q = 1 from T - 1 on: exactly the phase's end value


@njit(**_JIT)
def _f_cyclic(d, t, base, mx, up, down, g, mode, n):
    pc = np.nan
    pv = 1.0
    for i in range(n):
        total = up[i] + down[i]
        ratio = up[i] / total
        cycle = np.floor(1.0 + t[i] / total)
        x = 1.0 + t[i] / total - cycle
        scale = x / ratio if x <= ratio else _sdiv(x - 1.0, ratio - 1.0)
        if mode == 0:
            gg = 1.0
        elif mode == 1:
            if cycle != pc:
                pc = cycle
                pv = 0.5 ** (cycle - 1.0)
            gg = pv
        else:
            gg = g[i] ** t[i]
        d[i] = base[i] + (mx[i] - base[i]) * scale * gg


@njit(**_JIT)
def _f_inverse_sqrt(d, t, pk, w, init, n):
    for i in range(n):
        ti = t[i]
        warm = _blend(init[i], pk[i], _sdiv(ti, w[i]))
        decay = pk[i] * math.sqrt(max(w[i], 1.0) / max(ti, 1.0))
        d[i] = warm if ti < w[i] else decay


@njit(**_JIT)
def _f_tanh(d, t, pk, tt, mn, lo, hi, n):
    for i in range(n):
        c = 0.5 * (1.0 - math.tanh(lo[i] + (hi[i] - lo[i]) * (t[i] / tt[i])))
        d[i] = mn[i] if t[i] >= tt[i] else _blend(mn[i], pk[i], c)


@njit(**_JIT)
def _f_piecewise_constant(d, t, tables, off, k, n):
    for i in range(n):
        d[i] = tables[off + k + _count_le(tables, off, k, t[i])]


@njit(**_JIT)
def _f_piecewise_linear(d, t, tables, off, k, n):
    vo = off + k
    hi_inner = max(k - 1, 1)
    for i in range(n):
        ti = t[i]
        index = _count_le(tables, off, k, ti)
        if index == 0:
            d[i] = tables[vo]
        elif index >= k:
            d[i] = tables[vo + k - 1]
        else:
            inner = min(max(index, 1), hi_inner)
            right_i = min(inner, k - 1)
            left = tables[off + inner - 1]
            right = tables[off + right_i]
            f = _clip01(_sdiv(ti - left, right - left))
            d[i] = _blend(tables[vo + inner - 1], tables[vo + right_i], f)


# --------------------------------------------------------------------------------------------------
# the interpreter


@njit(**_JIT)
def _gather(src, base, strides, shape, idx0, b0, n, dst):
    """``dst[j] = src[base + sum_d i_d(b0 + j) * strides[d]]`` for j < n (C-order multi-index)."""
    ndim = shape.size
    last = ndim - 1
    idx = idx0.copy()
    off = base
    for dd in range(ndim):
        off += idx[dd] * strides[dd]
    s = strides[last]
    inner = shape[last]
    j = 0
    while j < n:
        seg = min(n - j, inner - idx[last])
        if s == 1:
            for q in range(seg):
                dst[j + q] = src[off + q]
        else:
            for q in range(seg):
                dst[j + q] = src[off + q * s]
        j += seg
        off += seg * s
        idx[last] += seg
        dd = last
        while dd > 0 and idx[dd] == shape[dd]:
            off -= shape[dd] * strides[dd]
            idx[dd] = 0
            dd -= 1
            idx[dd] += 1
            off += strides[dd]


@njit(**_JIT)
def _iota(start, strides, shape, idx0, n, dst, fiota):
    """``dst[j] = start + sum_d i_d(b0 + j) * strides[d]`` (the implicit steps of ``curve``)."""
    ndim = shape.size
    last = ndim - 1
    idx = idx0.copy()
    k = 0
    for dd in range(ndim):
        k += idx[dd] * strides[dd]
    s = strides[last]
    fs = float(s)
    inner = shape[last]
    j = 0
    while j < n:
        seg = min(n - j, inner - idx[last])
        fk = float(k)
        for q in range(seg):
            dst[j + q] = start + (fk + fiota[q] * fs)
        j += seg
        k += seg * s
        idx[last] += seg
        dd = last
        while dd > 0 and idx[dd] == shape[dd]:
            k -= shape[dd] * strides[dd]
            idx[dd] = 0
            dd -= 1
            idx[dd] += 1
            k += strides[dd]


@njit(**_INLINE)
def _load_iota(buf, base, strides, shape, idx0, n, dst, start, fiota):
    _iota(start, strides, shape, idx0, n, dst, fiota)


@njit(**_INLINE)
def _load_i32(buf, base, strides, shape, idx0, n, dst, start, fiota):
    _gather(buf.view(np.int32), base, strides, shape, idx0, 0, n, dst)


@njit(**_INLINE)
def _load_i64(buf, base, strides, shape, idx0, n, dst, start, fiota):
    _gather(buf.view(np.int64), base, strides, shape, idx0, 0, n, dst)


@njit(**_INLINE)
def _load_f32(buf, base, strides, shape, idx0, n, dst, start, fiota):
    _gather(buf.view(np.float32), base, strides, shape, idx0, 0, n, dst)


@njit(**_INLINE)
def _load_f64(buf, base, strides, shape, idx0, n, dst, start, fiota):
    _gather(buf.view(np.float64), base, strides, shape, idx0, 0, n, dst)


# uniform adapters ``op(regs, ops, row, tables, n)``, dispatched statically by ``_run_instruction``

@njit(**_JIT)
def _op_constant(regs, ops, row, tables, n):
    _f_constant(regs[row[1]], regs[row[2]], ops[row[8]], n)


@njit(**_JIT)
def _op_linear(regs, ops, row, tables, n):
    _f_linear(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], n)


@njit(**_JIT)
def _op_step_decay(regs, ops, row, tables, n):
    _f_step_decay(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], n)


@njit(**_JIT)
def _op_multi_step(regs, ops, row, tables, n):
    _f_multi_step(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], tables, row[6], row[7], n)


@njit(**_JIT)
def _op_exponential(regs, ops, row, tables, n):
    _f_exponential(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], ops[row[11]],
                   row[5] == 1, n)


@njit(**_JIT)
def _op_inverse_time(regs, ops, row, tables, n):
    _f_inverse_time(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], row[5] == 1, n)


@njit(**_JIT)
def _op_polynomial(regs, ops, row, tables, n):
    _f_polynomial(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], ops[row[11]], n)


@njit(**_JIT)
def _op_cosine(regs, ops, row, tables, n):
    _f_cosine(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], n)


@njit(**_JIT)
def _op_cosine_restarts(regs, ops, row, tables, n):
    _f_cosine_restarts(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], ops[row[11]],
                       ops[row[12]], ops[row[13]], n)


@njit(**_JIT)
def _op_warmup_cosine(regs, ops, row, tables, n):
    _f_warmup_cosine(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], ops[row[11]],
                     ops[row[12]], n)


@njit(**_JIT)
def _op_wsd(regs, ops, row, tables, n):
    _f_wsd(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], ops[row[11]], ops[row[12]],
           ops[row[13]], row[5], n)


@njit(**_JIT)
def _op_one_cycle(regs, ops, row, tables, n):
    _f_one_cycle(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], ops[row[11]],
                 ops[row[12]], row[5], n)


@njit(**_JIT)
def _op_cyclic(regs, ops, row, tables, n):
    _f_cyclic(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], ops[row[11]], ops[row[12]],
              row[5], n)


@njit(**_JIT)
def _op_inverse_sqrt(regs, ops, row, tables, n):
    _f_inverse_sqrt(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], n)


@njit(**_JIT)
def _op_tanh(regs, ops, row, tables, n):
    _f_tanh(regs[row[1]], regs[row[2]], ops[row[8]], ops[row[9]], ops[row[10]], ops[row[11]], ops[row[12]], n)


@njit(**_JIT)
def _op_piecewise_constant(regs, ops, row, tables, n):
    _f_piecewise_constant(regs[row[1]], regs[row[2]], tables, row[6], row[7], n)


@njit(**_JIT)
def _op_piecewise_linear(regs, ops, row, tables, n):
    _f_piecewise_linear(regs[row[1]], regs[row[2]], tables, row[6], row[7], n)


@njit(**_JIT)
def _op_combinator(regs, ops, row, tables, n):
    _combinator(row[0], regs[row[1]], regs[row[2]], regs[row[3]], regs[row[4]], ops, row[8], row[9], n)


@njit(**_JIT)
def _combinator(op, d, a, b, c, ops, p0, p1, n):
    if op == SHIFT:
        x = ops[p0]
        for i in range(n):
            d[i] = max(a[i] - x[i], 0.0)
    elif op == SELECT:
        x = ops[p0]
        for i in range(n):
            d[i] = c[i] if a[i] >= x[i] else b[i]
    elif op == MUL:
        for i in range(n):
            d[i] = a[i] * b[i]
    elif op == SCALE:
        x = ops[p0]
        for i in range(n):
            d[i] = a[i] * x[i]
    elif op == RAMP:
        w = ops[p0]
        init = ops[p1]
        for i in range(n):
            v = _blend(init[i], c[i], _sdiv(a[i], w[i]))
            d[i] = v if a[i] < w[i] else b[i]
    elif op == ZERO:
        for i in range(n):
            d[i] = 0.0


@njit(**_JIT)
def _run_instruction(op, regs, ops, row, tables, n):
    """Static dispatch on the opcode: one call per instruction and block (no first-class functions,
    whose per-call unboxing costs milliseconds)."""
    if op == CONSTANT:
        _op_constant(regs, ops, row, tables, n)
    elif op == LINEAR:
        _op_linear(regs, ops, row, tables, n)
    elif op == STEP_DECAY:
        _op_step_decay(regs, ops, row, tables, n)
    elif op == MULTI_STEP:
        _op_multi_step(regs, ops, row, tables, n)
    elif op == EXPONENTIAL:
        _op_exponential(regs, ops, row, tables, n)
    elif op == INVERSE_TIME:
        _op_inverse_time(regs, ops, row, tables, n)
    elif op == POLYNOMIAL:
        _op_polynomial(regs, ops, row, tables, n)
    elif op == COSINE:
        _op_cosine(regs, ops, row, tables, n)
    elif op == COSINE_RESTARTS:
        _op_cosine_restarts(regs, ops, row, tables, n)
    elif op == WARMUP_COSINE:
        _op_warmup_cosine(regs, ops, row, tables, n)
    elif op == WARMUP_STABLE_DECAY:
        _op_wsd(regs, ops, row, tables, n)
    elif op == ONE_CYCLE:
        _op_one_cycle(regs, ops, row, tables, n)
    elif op == CYCLIC:
        _op_cyclic(regs, ops, row, tables, n)
    elif op == INVERSE_SQRT:
        _op_inverse_sqrt(regs, ops, row, tables, n)
    elif op == TANH:
        _op_tanh(regs, ops, row, tables, n)
    elif op == PIECEWISE_CONSTANT:
        _op_piecewise_constant(regs, ops, row, tables, n)
    elif op == PIECEWISE_LINEAR:
        _op_piecewise_linear(regs, ops, row, tables, n)
    else:
        _op_combinator(regs, ops, row, tables, n)


@njit(**_JIT)
def _load_steps(kind, buf, base, strides, shape, idx0, n, dst, start, fiota):
    if kind == _ITOA:
        _load_iota(buf, base, strides, shape, idx0, n, dst, start, fiota)
    elif kind == _I32:
        _load_i32(buf, base, strides, shape, idx0, n, dst, start, fiota)
    elif kind == _I64:
        _load_i64(buf, base, strides, shape, idx0, n, dst, start, fiota)
    elif kind == _F32:
        _load_f32(buf, base, strides, shape, idx0, n, dst, start, fiota)
    else:
        _load_f64(buf, base, strides, shape, idx0, n, dst, start, fiota)


@njit(**_JIT)
def _run_range(code, opdata, opoff, opstr, tables, res, regs, ops, shape,
               kind, sbuf, sbase, sstr, start, out64, out32, lo, hi):
    """Evaluate the output elements ``[lo, hi)`` (C order) block by block."""
    ndim = shape.size
    nops = opoff.size
    ninstr = code.shape[0]
    scal = np.empty(nops, np.bool_)
    for k in range(nops):
        sc = True
        for dd in range(ndim):
            if opstr[k, dd] != 0:
                sc = False
        scal[k] = sc
        if sc:
            v = opdata[opoff[k]]
            row = ops[k]
            for j in range(BLOCK):
                row[j] = v
    fiota = np.empty(BLOCK)
    for j in range(BLOCK):
        fiota[j] = float(j)
    idx0 = np.empty(ndim, np.int64)
    treg = regs[0]
    for b0 in range(lo, hi, BLOCK):
        n = min(BLOCK, hi - b0)
        rem = b0
        for dd in range(ndim - 1, -1, -1):
            idx0[dd] = rem % shape[dd]
            rem //= shape[dd]
        _load_steps(kind, sbuf, sbase, sstr, shape, idx0, n, treg, start, fiota)
        # array operands
        for k in range(nops):
            if not scal[k]:
                _gather(opdata, opoff[k], opstr[k], shape, idx0, b0, n, ops[k])
        for pc in range(ninstr):
            _run_instruction(code[pc, 0], regs, ops, code[pc], tables, n)
        r = regs[res]
        if out64.size > 0:
            for j in range(n):
                out64[b0 + j] = r[j]
        else:
            for j in range(n):
                out32[b0 + j] = np.float32(r[j])


@njit(**_JIT)
def _serial(code, opdata, opoff, opstr, tables, nreg, res, shape,
            kind, sbuf, sbase, sstr, start, out64, out32, total):
    regs = np.empty((nreg, BLOCK))
    ops = np.empty((max(opoff.size, 1), BLOCK))
    _run_range(code, opdata, opoff, opstr, tables, res, regs, ops, shape,
               kind, sbuf, sbase, sstr, start, out64, out32, 0, total)


@njit(parallel=True, **_JIT)
def _parallel(code, opdata, opoff, opstr, tables, nreg, res, shape,
              kind, sbuf, sbase, sstr, start, out64, out32, total, chunk):
    nchunks = (total + chunk - 1) // chunk
    for c in prange(nchunks):
        lo = c * chunk
        hi = min(lo + chunk, total)
        regs = np.empty((nreg, BLOCK))
        ops = np.empty((max(opoff.size, 1), BLOCK))
        _run_range(code, opdata, opoff, opstr, tables, res, regs, ops, shape,
                   kind, sbuf, sbase, sstr, start, out64, out32, lo, hi)


# --------------------------------------------------------------------------------------------------
# Python side: canonical argument types, threads, lock, compile report


def _ro(a):
    """A read-only view (programs are read-only; one type per argument means one compilation)."""
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


_EMPTY_U8 = _ro(np.zeros(0, dtype=np.uint8))
_EMPTY = {dt: _ro(np.zeros(0, dtype=dt)) for dt in (np.int32, np.int64, np.float32, np.float64)}
_EMPTY_OUT = {np.dtype(np.float64): np.zeros(0, np.float64), np.dtype(np.float32): np.zeros(0, np.float32)}
_KIND = {np.dtype(np.int32): _I32, np.dtype(np.int64): _I64, np.dtype(np.float32): _F32,
         np.dtype(np.float64): _F64}


def prepare_steps(steps, step_strides):
    """``(flat, base, strides)`` such that step element ``i`` is ``flat[base + sum_d i_d * strides[d]]``.

    ``steps`` is the caller's array (any strides, possibly negative) and ``step_strides`` its element
    strides broadcast to the output shape (``byte stride // itemsize``, 0 along broadcast dimensions).
    No copy: ``flat`` is a 1-D view of the memory spanned by ``steps``, starting at its lowest address.
    """
    steps = np.asarray(steps)
    if not steps.dtype.isnative or steps.dtype not in _KIND:
        raise TypeError(f"unsupported step dtype {steps.dtype}")
    itemsize = steps.itemsize
    if any(s % itemsize for s in steps.strides):
        raise ValueError("step strides must be multiples of the item size (copy the steps first)")
    lo = 0
    hi = 0
    for extent, stride in zip(steps.shape, steps.strides):
        if extent == 0:
            lo = hi = 0
            break
        span = (extent - 1) * (stride // itemsize)
        if span < 0:
            lo += span
        else:
            hi += span
    corner = tuple(slice(e - 1, e) if s < 0 else slice(0, 1) for e, s in zip(steps.shape, steps.strides))
    first = steps[corner] if steps.ndim else steps.reshape(1)
    flat = np.lib.stride_tricks.as_strided(first, shape=(hi - lo + 1,), strides=(itemsize,), writeable=False)
    return flat, -lo, _ro(np.ascontiguousarray(step_strides, dtype=np.int64))


_lock = threading.Lock()


def _reinit_lock():
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_lock)

_num_threads = None
_parallel_pid = None  # the process that launched the parallel kernel (threads do not survive fork)
_report: dict = {}


def _threads():
    global _num_threads
    if _num_threads is None:
        env = os.environ.get("FASTLR_NUM_THREADS")
        n = numba.config.NUMBA_NUM_THREADS
        if env:
            try:
                n = int(env)
            except ValueError:
                raise ValueError(f"FASTLR_NUM_THREADS must be an integer, got {env!r}") from None
        _num_threads = max(1, min(n, numba.config.NUMBA_NUM_THREADS))
    return _num_threads


def set_num_threads(n: int) -> None:
    """Bound the threads of the numba kernels (at most ``numba.config.NUMBA_NUM_THREADS``)."""
    global _num_threads
    n = int(n)
    if n < 1:
        raise ValueError(f"the number of threads must be >= 1, got {n}")
    _num_threads = min(n, numba.config.NUMBA_NUM_THREADS)


def get_num_threads() -> int:
    return _threads()


_compile_lock = threading.RLock()


def _timed(name, kernel, *args):
    if name in _report:
        return kernel(*args)
    with _compile_lock:
        t0 = time.perf_counter()
        result = kernel(*args)
        seconds = time.perf_counter() - t0
        if name in _report:
            return result
        stats = kernel.stats
        _report[name] = {
            "first_call_seconds": seconds,
            "from_cache": bool(sum(stats.cache_hits.values())) and not sum(stats.cache_misses.values()),
            "cache_path": stats.cache_path,
        }
    return result


def compile_report() -> dict:
    """First-call time of each kernel in this process and whether it was loaded from numba's cache.

    ``serial`` / ``parallel``: the two drivers, each containing every family (first call, includes
    running it): compiled once per machine, then loaded from numba's on-disk cache.
    """
    return {name: (dict(entry) if isinstance(entry, dict) else entry) for name, entry in _report.items()}


def evaluate(program, steps, step_strides, start, out, shape, operand_strides) -> None:
    """Run ``program`` on the steps (or ``start + sum_d i_d * step_strides[d]`` if ``steps is None``)."""
    shape_a = _ro(np.asarray(shape, dtype=np.int64).reshape(-1))
    total = int(np.prod(shape_a)) if shape_a.size else 1
    if total == 0:
        return
    if steps is None:
        kind = _ITOA
        sbase = 0
        sstr = _ro(np.ascontiguousarray(step_strides, dtype=np.int64))
        sbuf = _EMPTY_U8
    else:
        flat, sbase, sstr = prepare_steps(steps, step_strides)
        kind = _KIND[flat.dtype]
        sbuf = flat.view(np.uint8)
    flat_out = out.reshape(-1)
    if flat_out.dtype == np.float64:
        out64, out32 = flat_out, _EMPTY_OUT[np.dtype(np.float32)]
    else:
        out64, out32 = _EMPTY_OUT[np.dtype(np.float64)], flat_out
    nops = program.operand_offset.size
    opstr = _ro(np.ascontiguousarray(np.asarray(operand_strides, dtype=np.int64).reshape(nops, shape_a.size)))
    code = _ro(np.ascontiguousarray(program.code, dtype=np.int64))
    args = (code, _ro(program.operand_data), _ro(program.operand_offset), opstr,
            _ro(program.tables), int(program.n_registers), int(program.result_register), shape_a,
            kind, sbuf, int(sbase), sstr, float(start), out64, out32,
            total)
    global _parallel_pid
    nthreads = _threads()
    pid = os.getpid()
    if total < PARALLEL_THRESHOLD or nthreads == 1 or (_parallel_pid is not None and _parallel_pid != pid):
        # serial below the threshold, and in a child forked after a parallel launch: numba's OpenMP
        # layer terminates such a child, and its workqueue layer is not fork-safe either
        _timed("serial", _serial, *args)
        return
    # a few chunks per thread, each a whole number of blocks
    chunk = max(BLOCK, -(-total // (4 * nthreads * BLOCK)) * BLOCK)
    with _lock:  # numba's workqueue layer is not safe for concurrent launches
        _parallel_pid = pid
        numba.set_num_threads(nthreads)
        _timed("parallel", _parallel, *args, chunk)


_SCALAR_STRIDES = _ro(np.zeros(1, dtype=np.int64))


def scalar(program, t: float) -> float:
    """The value at one step of a program without array operands."""
    out = np.empty(1)
    steps = np.array([float(t)])
    evaluate(program, steps, _SCALAR_STRIDES, 0.0, out, (1,),
             np.zeros((program.operand_offset.size, 1), dtype=np.int64))
    return float(out[0])
