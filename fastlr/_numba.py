"""The numba backend: the program interpreter of ``docs/engine.md`` compiled with numba.

One interpreter walks the output in C order in blocks of ``BLOCK`` elements: it loads the steps of the
block into register 0 as float64 (or computes them for the implicit ``start + i`` of ``curve``), gathers
every array operand of the block (a scalar operand is written into its buffer once per call), runs the
instructions, and stores the result register (rounded once to float32 if ``out`` is float32). Large calls
split the output into chunks of whole blocks and run the (nogil) serial kernel on them from a small
thread pool; every element is computed by the same code whatever the split, so the result is
bit-identical for any thread count. (numba's ``prange`` driver cost 10-20 s of compile time per opcode
set and ties the process to numba's threading layer, which is not fork-safe.)

Every kernel is ``@njit(cache=True, nogil=True, error_model="numpy")``, without fastmath (IEEE division
by zero, no reassociation, no fused multiply-add). The cosine factor uses a vectorizable ``cospi`` with
exact argument reduction (``cospi(0) == 1``, ``cospi(1) == -1``) so that LLVM vectorizes the inner loops;
``pow``/``log``/``tanh`` go through libm like numpy, with the power cached across a block where the exponent
is piecewise constant (step decay, milestones, restarts, triangular2), which keeps those bit-identical to
the reference.

The interpreter of a program is generated for the set of opcodes it uses (see ``_Driver``), so a
program compiles only its own families. Argument types are canonicalised before the call (every step
dtype goes through one read-only byte buffer, the output has a float64 and a float32 argument, shapes
and strides are read-only int64 arrays), so each kernel compiles once per process and once per machine
with the on-disk cache. Nothing is compiled at import.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib.util
import math
import os
import sys
import tempfile
import threading
import time

import numba
import numpy as np
from numba import njit

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
_INLINE = _JIT  # numba-level inline="always" costs seconds of compile time; LLVM inlines these anyway

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
    # the reference's form: one recurrence step on the closed form (exact starts for integer c, m)
    if m == 1.0:
        return c * i
    if i <= 0.0:
        return 0.0
    return m * _sdiv(c * (m ** (i - 1.0) - 1.0), m - 1.0) + c


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


# --------------------------------------------------------------------------------------------------
# the drivers, generated per set of opcodes
#
# A program only pays for the families it uses: the interpreter of a set of opcodes (``run_instruction``
# dispatching statically to the ``_op_*`` adapters of that set, the serial and parallel drivers and the
# scalar entry point) is generated as a small Python file in a cache directory and imported, so numba
# caches it like any file-backed module (closures and exec'd code are not cacheable). The family
# kernels stay here (cached once per machine, shared by every set). The file name hashes the opcode
# set, fastlr's and numba's versions and this file's source, so an upgrade never reuses a stale cache.

_OP_ADAPTERS = {
    CONSTANT: "_op_constant", LINEAR: "_op_linear", STEP_DECAY: "_op_step_decay", MULTI_STEP: "_op_multi_step",
    EXPONENTIAL: "_op_exponential", INVERSE_TIME: "_op_inverse_time", POLYNOMIAL: "_op_polynomial",
    COSINE: "_op_cosine", COSINE_RESTARTS: "_op_cosine_restarts", WARMUP_COSINE: "_op_warmup_cosine",
    WARMUP_STABLE_DECAY: "_op_wsd", ONE_CYCLE: "_op_one_cycle", CYCLIC: "_op_cyclic",
    INVERSE_SQRT: "_op_inverse_sqrt", TANH: "_op_tanh", PIECEWISE_CONSTANT: "_op_piecewise_constant",
    PIECEWISE_LINEAR: "_op_piecewise_linear",
}
_FAMILY_NAMES = {
    CONSTANT: "Constant", LINEAR: "Linear", STEP_DECAY: "StepDecay", MULTI_STEP: "MultiStep",
    EXPONENTIAL: "Exponential", INVERSE_TIME: "InverseTime", POLYNOMIAL: "Polynomial", COSINE: "Cosine",
    COSINE_RESTARTS: "CosineRestarts", WARMUP_COSINE: "WarmupCosine", WARMUP_STABLE_DECAY: "WarmupStableDecay",
    ONE_CYCLE: "OneCycle", CYCLIC: "Cyclic", INVERSE_SQRT: "InverseSqrt", TANH: "Tanh",
    PIECEWISE_CONSTANT: "PiecewiseConstant", PIECEWISE_LINEAR: "PiecewiseLinear",
}
_COMBINATORS = (SHIFT, SELECT, MUL, SCALE, RAMP, ZERO)

_DRIVER_TEMPLATE = '''"""Generated by fastlr._numba for the opcodes {opcodes} ({names}); safe to delete."""
import numpy as np
from numba import njit

from fastlr._numba import BLOCK, _JIT, _gather, _load_steps{imports}


@njit(**_JIT)
def run_instruction(op, regs, ops, row, tables, n):
{dispatch}


@njit(**_JIT)
def run_range(code, opdata, opoff, opstr, tables, res, regs, ops, shape,
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
        for k in range(nops):
            if not scal[k]:
                _gather(opdata, opoff[k], opstr[k], shape, idx0, b0, n, ops[k])
        for pc in range(ninstr):
            run_instruction(code[pc, 0], regs, ops, code[pc], tables, n)
        r = regs[res]
        if out64.size > 0:
            for j in range(n):
                out64[b0 + j] = r[j]
        else:
            for j in range(n):
                out32[b0 + j] = np.float32(r[j])


@njit(**_JIT)
def serial(code, opdata, opoff, opstr, tables, nreg, res, shape,
           kind, sbuf, sbase, sstr, start, out64, out32, lo, hi):
    """Elements ``[lo, hi)``; nogil: the parallel path runs chunks of it on threads."""
    regs = np.empty((nreg, BLOCK))
    ops = np.empty((max(opoff.size, 1), BLOCK))
    run_range(code, opdata, opoff, opstr, tables, res, regs, ops, shape,
              kind, sbuf, sbase, sstr, start, out64, out32, lo, hi)


@njit(**_JIT)
def scalar(code, opdata, opoff, tables, nreg, res, t):
    """One step of a program whose operands are all scalars: blocks of one element."""
    nops = opoff.size
    regs = np.empty((nreg, 1))
    ops = np.empty((max(nops, 1), 1))
    for k in range(nops):
        ops[k, 0] = opdata[opoff[k]]
    regs[0, 0] = t
    for pc in range(code.shape[0]):
        run_instruction(code[pc, 0], regs, ops, code[pc], tables, 1)
    return regs[res, 0]
'''


def _driver_source(opcodes):
    families = [op for op in opcodes if op in _OP_ADAPTERS]
    combinators = any(op in _COMBINATORS for op in opcodes)
    names = [_OP_ADAPTERS[op] for op in families] + (["_op_combinator"] if combinators else [])
    branches = [(f"op == {op}", _OP_ADAPTERS[op]) for op in families]
    if combinators:
        branches.append((None, "_op_combinator"))
    body = []
    for k, (cond, fn) in enumerate(branches):
        if cond is None or k == len(branches) - 1:  # the last branch takes every remaining opcode
            body.append(("    else:\n" if k else "") + ("        " if k else "    ") +
                        f"{fn}(regs, ops, row, tables, n)")
        else:
            body.append(f"    {'if' if k == 0 else 'elif'} {cond}:\n        {fn}(regs, ops, row, tables, n)")
    return _DRIVER_TEMPLATE.format(
        opcodes=",".join(map(str, opcodes)), names=_set_name(opcodes),
        imports="".join(f", {n}" for n in names), dispatch="\n".join(body) or "    pass")


def _set_name(opcodes):
    names = [_FAMILY_NAMES[op] for op in opcodes if op in _FAMILY_NAMES]
    if any(op in _COMBINATORS for op in opcodes):
        names.append("combinators")
    return "+".join(names) or "empty"


def _cache_dirs():
    env = os.environ.get("FASTLR_CACHE_DIR")
    if env:
        yield os.path.join(env, "numba")
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        yield os.path.join(env, "fastlr")
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    yield os.path.join(xdg, "fastlr", "numba")
    yield os.path.join(tempfile.gettempdir(), f"fastlr-numba-{os.getuid() if hasattr(os, 'getuid') else 0}")


def _source_digest():
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        h = hashlib.sha256()
        try:
            with open(__file__, "rb") as f:
                h.update(f.read())
        except OSError:  # pragma: no cover - a zipped install: the versions still key the cache
            pass
        from . import __version__

        h.update(f"fastlr {__version__} numba {numba.__version__} numpy {np.__version__}".encode())
        _SOURCE_DIGEST = h.hexdigest()
    return _SOURCE_DIGEST


_SOURCE_DIGEST = None


def _write_driver(opcodes):
    source = _driver_source(opcodes)
    key = hashlib.sha256((_source_digest() + source).encode()).hexdigest()[:20]
    fname = f"fastlr_driver_{key}.py"
    errors = []
    for directory in _cache_dirs():
        path = os.path.join(directory, fname)
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() == source:
                    return key, path
        except OSError:
            pass
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(source)
            os.replace(tmp, path)  # atomic: a concurrent process reads the old or the new, both whole
            return key, path
        except OSError as error:
            errors.append(f"{directory}: {error}")
    raise RuntimeError("fastlr: no writable cache directory for the numba drivers (" + "; ".join(errors) + ")")


class _Driver:
    """The compiled interpreter of one opcode set (its kernels compile on first use, each once)."""

    def __init__(self, opcodes):
        self.name = _set_name(opcodes)
        key, self.path = _write_driver(opcodes)
        modname = f"fastlr._numba_driver_{key}"
        module = sys.modules.get(modname)
        if module is None:
            spec = importlib.util.spec_from_file_location(modname, self.path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[modname] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(modname, None)
                raise
        self.module = module
        self.serial = module.serial
        self.scalar = module.scalar
        self.timed = set()  # kernels whose first call has been timed


_drivers: dict = {}
_driver_lock = threading.RLock()


def _driver_key(opcodes) -> tuple:
    """The opcode set a program's driver is generated for: its one family plus every combinator, or,
    for composites of several families, every family (one shared driver, so that arbitrary mixes
    compile once per machine rather than once per mix)."""
    families = sorted({int(op) for op in opcodes if int(op) in _OP_ADAPTERS})
    if len(families) > 1:
        families = sorted(_OP_ADAPTERS)
    return tuple(families) + _COMBINATORS


def _driver(opcodes):
    drv = _drivers.get(opcodes)
    if drv is None:
        with _driver_lock:
            drv = _drivers.get(opcodes)
            if drv is None:
                drv = _drivers[opcodes] = _Driver(opcodes)
    return drv


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


class _Prepared:
    """What a program needs on every call, converted once: read-only canonical arrays and its driver."""

    __slots__ = ("code", "opdata", "opoff", "tables", "nreg", "res", "nops", "driver", "scalar_ok", "strides")

    def __init__(self, program):
        self.code = _ro(np.ascontiguousarray(program.code, dtype=np.int64))
        self.opdata = _ro(np.ascontiguousarray(program.operand_data, dtype=np.float64))
        self.opoff = _ro(np.ascontiguousarray(program.operand_offset, dtype=np.int64))
        self.tables = _ro(np.ascontiguousarray(program.tables, dtype=np.float64))
        self.nreg = int(program.n_registers)
        self.res = int(program.result_register)
        self.nops = self.opoff.size
        self.scalar_ok = not program.has_array_operands
        self.strides = {}  # ndim -> zero operand strides (scalar operands)
        self.driver = _driver(_driver_key(self.code[:, 0]))


def _prepared(program) -> _Prepared:
    # a Program is a frozen dataclass: the conversion rides on its instance dict, and dies with it
    prep = program.__dict__.get("_numba_prepared")
    if prep is None:
        prep = _Prepared(program)
        program.__dict__["_numba_prepared"] = prep
    return prep


def prepare_steps(steps, step_strides):
    """``(flat, base, strides)`` such that step element ``i`` is ``flat[base + sum_d i_d * strides[d]]``.

    ``steps`` is the caller's array (any strides, possibly negative) and ``step_strides`` its element
    strides broadcast to the output shape (``byte stride // itemsize``, 0 along broadcast dimensions).
    No copy: ``flat`` is a 1-D view of the memory spanned by ``steps``, starting at its lowest address.
    """
    steps = np.asarray(steps)
    if not steps.dtype.isnative or steps.dtype not in _KIND:
        raise TypeError(f"unsupported step dtype {steps.dtype}")
    sstr = _ro(np.ascontiguousarray(step_strides, dtype=np.int64))
    if steps.ndim == 1 and steps.strides[0] == steps.itemsize:  # the common case: no view to build
        return steps, 0, sstr
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
    return flat, -lo, sstr


_lock = threading.Lock()


def _reinit_lock():
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_lock)

_num_threads = None
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


def _timed(driver, name, *args):
    """Call kernel ``name`` of ``driver``; its first call in this process is timed for the report."""
    kernel = getattr(driver, name)
    if name in driver.timed:
        return kernel(*args)
    with _compile_lock:
        t0 = time.perf_counter()
        result = kernel(*args)
        seconds = time.perf_counter() - t0
        if name in driver.timed:
            return result
        stats = kernel.stats
        entry = _report.setdefault(driver.name, {"module": driver.path, "kernels": {}})
        entry["kernels"][name] = {
            "first_call_seconds": seconds,
            "from_cache": bool(sum(stats.cache_hits.values())) and not sum(stats.cache_misses.values()),
        }
        entry["first_call_seconds"] = sum(k["first_call_seconds"] for k in entry["kernels"].values())
        entry["from_cache"] = all(k["from_cache"] for k in entry["kernels"].values())
        driver.timed.add(name)
    return result


def compile_report() -> dict:
    """First-call time of each compiled kernel in this process and whether numba's cache served it.

    ``families``: one entry per driver used (one per single family, e.g. ``"WarmupCosine+combinators"``,
    and one shared by every mix of families), with ``kernels`` (``serial``, ``scalar``: each compiled on
    its first use only, with its first-call seconds, running included, and ``from_cache``), their total
    ``first_call_seconds``, ``from_cache`` (every kernel came from the cache) and ``module``, the
    generated driver file.
    """
    with _compile_lock:
        families = {name: dict(entry, kernels={k: dict(v) for k, v in entry["kernels"].items()})
                    for name, entry in _report.items()}
    return {"families": families, "cache_dir": os.path.dirname(next(iter(_drivers.values())).path)
            if _drivers else None}


def evaluate(program, steps, step_strides, start, out, shape, operand_strides) -> None:
    """Run ``program`` on the steps (or ``start + sum_d i_d * step_strides[d]`` if ``steps is None``)."""
    prep = _prepared(program)
    shape_a = _ro(np.array(shape, dtype=np.int64).reshape(-1))
    total = 1
    for extent in shape_a.tolist():
        total *= extent
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
        sbuf = _ro(flat.view(np.uint8))  # read-only whatever the caller's flags: one type
    flat_out = out.reshape(-1)
    if flat_out.dtype == np.float64:
        out64, out32 = flat_out, _EMPTY_OUT[np.dtype(np.float32)]
    else:
        out64, out32 = _EMPTY_OUT[np.dtype(np.float64)], flat_out
    opstr = operand_strides
    if not (isinstance(opstr, np.ndarray) and opstr.dtype == np.int64 and opstr.ndim == 2
            and opstr.flags.c_contiguous and not opstr.flags.writeable):
        opstr = _ro(np.ascontiguousarray(np.asarray(opstr, dtype=np.int64).reshape(prep.nops, shape_a.size)))
    args = (prep.code, prep.opdata, prep.opoff, opstr, prep.tables, prep.nreg, prep.res, shape_a,
            kind, sbuf, int(sbase), sstr, float(start), out64, out32)
    drv = prep.driver
    nthreads = _threads()
    if total < PARALLEL_THRESHOLD or nthreads == 1:
        _timed(drv, "serial", *args, 0, total)
        return
    # a few chunks per thread, each a whole number of blocks: every element is computed by the same
    # code whatever the split, so the result is bit-identical for any thread count
    chunk = max(BLOCK, -(-total // (4 * nthreads * BLOCK)) * BLOCK)
    if "serial" not in drv.timed:
        _timed(drv, "serial", *args, 0, min(chunk, total))  # compile (or load) before fanning out
    bounds = [(lo, min(lo + chunk, total)) for lo in range(0, total, chunk)]
    kernel = drv.serial
    with _lock:  # one parallel launch at a time: at most nthreads threads busy
        futures = [_pool(nthreads).submit(kernel, *args, lo, hi) for lo, hi in bounds]
        for f in futures:
            f.result()


_pool_state = [None, None, 0]  # (pid, executor, workers)


def _pool(nthreads):
    """The worker threads of this process (threads do not survive fork: a child makes its own)."""
    pid, executor, workers = _pool_state
    if executor is None or pid != os.getpid() or workers != nthreads:
        if executor is not None and pid == os.getpid():
            executor.shutdown(wait=False)
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=nthreads, thread_name_prefix="fastlr-numba")
        _pool_state[:] = [os.getpid(), executor, nthreads]
    return executor


def scalar(program, t: float) -> float:
    """The value at one step of a program without array operands."""
    prep = _prepared(program)
    if not prep.scalar_ok:
        out = np.empty(1)
        evaluate(program, np.array([float(t)]), np.zeros(1, dtype=np.int64), 0.0, out, (1,),
                 np.zeros((prep.nops, 1), dtype=np.int64))
        return float(out[0])
    drv = prep.driver
    if "scalar" in drv.timed:
        return drv.scalar(prep.code, prep.opdata, prep.opoff, prep.tables, prep.nreg, prep.res, float(t))
    return _timed(drv, "scalar", prep.code, prep.opdata, prep.opoff, prep.tables, prep.nreg, prep.res, float(t))
