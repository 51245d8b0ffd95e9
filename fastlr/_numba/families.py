"""The families and combinators of the numba interpreter: one block loop each, named and computed like
the C++ core's ``csrc/include/fastlr/families/*.hpp`` (and its combinators in ``interpreter.hpp``).

Every block loop has the signature ``run(row, regs, ops, const, tables, scratch, n) -> bool``: ``row``
is the instruction (docs/engine.md: opcode, dst, src, src2, src3, mode, table offset and length,
operand indices), ``regs`` the registers and ``ops`` the operands of the block (one row of ``BLOCK``
float64 each; an operand that is a scalar for the whole call holds its value in every column),
``const[k]`` whether operand ``k`` is such a scalar, ``scratch`` a few rows for the block's
intermediates. It returns False, doing nothing, for another opcode, so that the interpreter can try
the families of a program in turn.

Where the C++ core derives values from the parameters once per parameter set (a reciprocal, the phase
ends), the loop does so once per block when those operands are scalars, else per element: the same
operations, the same bits. The integer powers of decay factors (``ipow``) are computed once per run of
equal exponents.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._program import (
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
from .math import (
    DBL_MAX,
    HELPER,
    TWO53,
    blend,
    clip01,
    cos_factor,
    cospi,
    dmax,
    dmin,
    exp,
    exp2i,
    ipow,
    log,
    pow_log,
    pow_unit_exp_fin,
    pow_unit_fin,
    safe_div,
    select,
)

#: where the instructions that need ``log(gamma)`` find it (Exponential without staircase, Cyclic
#: exp_range): operand fields 6 and 7 of the row name two operands that the driver appends, the high and
#: low parts of ``log(gamma)`` to about 64 bits, element by element (the C++ core's ``log_pair``)
LOG_HI_FIELD = 14
LOG_LO_FIELD = 15


@njit(**HELPER)
def all_const(const, row, count):
    """Whether the first ``count`` operands of the instruction are scalars for the whole call."""
    for k in range(count):
        if not const[row[8 + k]]:
            return False
    return True


@njit(**HELPER)
def count_le(tables, off, k, x):
    """``searchsorted(tables[off:off + k], x, side="right")``: the number of entries ``<= x``."""
    lo = 0
    hi = k
    while lo < hi:
        mid = (lo + hi) >> 1
        if tables[off + mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**HELPER)
def block_range(t, n):
    """The smallest and largest of ``t[:n]`` (``n >= 1``)."""
    lo = t[0]
    hi = t[0]
    for i in range(n):
        lo = dmin(lo, t[i])
        hi = dmax(hi, t[i])
    return lo, hi


# --------------------------------------------------------------------------------------------------
# the per-element formulas (each family's ``eval``)


@njit(**HELPER)
def linear_at(t, start, end, total):
    return blend(start, end, select(t < total, t, total) / total)


@njit(**HELPER)
def inverse_time_at(t, lr, rate, steps, staircase):
    e = t / steps
    e = np.floor(e) if staircase else e
    return lr / (1.0 + rate * e)


@njit(**HELPER)
def polynomial_base(t, total):
    """The remaining fraction ``(T - min(t, T)) / T`` (an exact subtraction: one rounding as it goes to
    0, where a power below 1 magnifies the error)."""
    return (total - select(t < total, t, total)) / total


@njit(**HELPER)
def cosine_at(t, peak, total, min_lr, inv_total):
    x = select(t < total, t * inv_total, 1.0)
    return blend(min_lr, peak, cos_factor(x))


@njit(**HELPER)
def inverse_of(x):
    """``min(safe_div(1, x), DBL_MAX)``: WarmupCosine's reciprocals (a subnormal denominator still gives
    a phase of 0 at its start, not NaN)."""
    return dmin(safe_div(1.0, x), DBL_MAX)


@njit(**HELPER)
def warmup_cosine_at(t, peak, total, warm, min_lr, init, inv_warm, inv_decay):
    in_warm = t < warm
    qw = t * inv_warm
    qd = (t - warm) * inv_decay
    cf = cos_factor(qd)
    c = select(in_warm, qw, cf)
    a = select(in_warm, init, min_lr)
    v = blend(a, peak, c)
    return select(t >= total, min_lr, v)


@njit(**HELPER)
def wsd_shape(x, shape):
    """0 linear ``1 - x``, 1 cosine, 2 ``1 - sqrt(x)``, 3 ``1 - x * x`` (every one computed, one selected:
    a loop without branches)."""
    v = select(shape == 0, 1.0 - x, 1.0 - x * x)
    v = select(shape == 1, cos_factor(x), v)
    return select(shape == 2, 1.0 - np.sqrt(x), v)


@njit(**HELPER)
def wsd_at(t, peak, total, warm, decay, min_lr, init, shape):
    decay_start = dmax(total - decay, warm)  # T - D may round below W: the decay still starts at the peak
    warm_value = blend(init, peak, safe_div(t, warm))
    s = wsd_shape(clip01(safe_div(t - decay_start, decay)), shape)
    stable = select(t < decay_start, peak, blend(min_lr, peak, s))
    value = select(t < warm, warm_value, stable)
    return select(t >= total, min_lr, value)


@njit(**HELPER)
def one_cycle_at(t, max_lr, initial, final, first_end, mid_end, last_end, linear, three):
    th = select(t < last_end, t, last_end)
    in1 = th <= first_end
    # two phases: the second is the third of three (from first_end to last_end); every case computed,
    # the phase's selected
    le_mid = three & (th <= mid_end)
    start = select(in1, 0.0, select(le_mid, first_end, select(three, mid_end, first_end)))
    end = select(in1, first_end, select(le_mid, mid_end, last_end))
    lr_from = select(in1, initial, select(le_mid, max_lr, select(three, initial, max_lr)))
    lr_to = select(in1, max_lr, select(le_mid, initial, final))
    den = end - start
    q = clip01(safe_div(th - start, den))
    q = select(den <= 0.0, 1.0, q)
    c = select(linear, 1.0 - q, cos_factor(q))
    return blend(lr_to, lr_from, c)


@njit(**HELPER)
def cyclic_scale(t, total, ratio):
    """``x / ratio`` if ``x <= ratio`` else ``(x - 1) / (ratio - 1)``, ``x = 1 + t / total - cycle``."""
    u = 1.0 + t / total
    x = u - np.floor(u)
    return select(x <= ratio, x / ratio, safe_div(x - 1.0, ratio - 1.0))


@njit(**HELPER)
def inverse_sqrt_at(t, peak, warm, init):
    warm_value = blend(init, peak, safe_div(t, warm))
    decay = peak * math.sqrt(dmax(warm, 1.0) / select(t > 1.0, t, 1.0))
    return select(t < warm, warm_value, decay)


@njit(**HELPER)
def tanh_at(t, peak, total, min_lr, lower, upper):
    a = lower + (upper - lower) * (t / total)
    c = 1.0 / (1.0 + exp(2.0 * a))
    v = blend(min_lr, peak, c)
    return select(t >= total, min_lr, v)


@njit(**HELPER)
def piecewise_linear_at(t, tables, off, k, index):
    b = off
    v = off + k
    hi_clip = max(k - 1, 1)
    inner = min(max(index, 1), hi_clip)
    right = min(inner, k - 1)
    left = tables[b + inner - 1]
    width = tables[b + right] - left
    return blend(tables[v + inner - 1], tables[v + right], clip01(safe_div(t - left, width)))


# --------------------------------------------------------------------------------------------------
# the block loops


@njit(**HELPER)
def constant(row, regs, ops, const, tables, scratch, n):
    if row[0] != CONSTANT:
        return False
    d = regs[row[1]]
    lr = ops[row[8]]
    for i in range(n):
        d[i] = lr[i]
    return True


@njit(**HELPER)
def linear(row, regs, ops, const, tables, scratch, n):
    if row[0] != LINEAR:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    a = ops[row[8]]
    b = ops[row[9]]
    tt = ops[row[10]]
    for i in range(n):
        d[i] = linear_at(t[i], a[i], b[i], tt[i])
    return True


@njit(**HELPER)
def step_decay(row, regs, ops, const, tables, scratch, n):
    if row[0] != STEP_DECAY:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    lr = ops[row[8]]
    g = ops[row[9]]
    s = ops[row[10]]
    last_e = -1.0
    last_g = math.nan
    pw = 1.0
    for i in range(n):
        e = np.floor(t[i] / s[i])
        if e != last_e or g[i] != last_g:  # a run of one exponent: one power
            last_e = e
            last_g = g[i]
            pw = ipow(last_g, e)
        d[i] = lr[i] * pw
    return True


@njit(**HELPER)
def multi_step(row, regs, ops, const, tables, scratch, n):
    if row[0] != MULTI_STEP:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    lr = ops[row[8]]
    g = ops[row[9]]
    off = row[6]
    k = row[7]
    lo, hi = block_range(t, n)
    first = count_le(tables, off, k, lo)
    if const[row[9]] and first == count_le(tables, off, k, hi):
        # the block lies between two milestones (most blocks of a curve): one power
        pw = ipow(g[0], float(first))
        for i in range(n):
            d[i] = lr[i] * pw
        return True
    last_c = -1
    last_g = math.nan
    pw = 1.0
    for i in range(n):
        c = count_le(tables, off, k, t[i])
        if c != last_c or g[i] != last_g:
            last_c = c
            last_g = g[i]
            pw = ipow(last_g, float(c))
        d[i] = lr[i] * pw
    return True


@njit(**HELPER)
def exponential(row, regs, ops, const, tables, scratch, n):
    if row[0] != EXPONENTIAL:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    lr = ops[row[8]]
    g = ops[row[9]]
    s = ops[row[10]]
    mn = ops[row[11]]
    mx = ops[row[12]]
    if row[5] == 1:  # staircase: an integer power, once per run of one exponent
        last_e = -1.0
        last_g = math.nan
        pw = 1.0
        for i in range(n):
            e = np.floor(t[i] / s[i])
            if e != last_e or g[i] != last_g:
                last_e = e
                last_g = g[i]
                pw = ipow(last_g, e)
            d[i] = dmin(dmax(lr[i] * pw, mn[i]), mx[i])
        return True
    lhi = ops[row[LOG_HI_FIELD]]
    llo = ops[row[LOG_LO_FIELD]]
    for i in range(n):
        d[i] = dmin(dmax(lr[i] * pow_log(g[i], t[i] / s[i], lhi[i], llo[i]), mn[i]), mx[i])
    return True


@njit(**HELPER)
def inverse_time(row, regs, ops, const, tables, scratch, n):
    if row[0] != INVERSE_TIME:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    lr = ops[row[8]]
    rate = ops[row[9]]
    s = ops[row[10]]
    staircase = row[5] == 1
    for i in range(n):
        d[i] = inverse_time_at(t[i], lr[i], rate[i], s[i], staircase)
    return True


@njit(**HELPER)
def polynomial(row, regs, ops, const, tables, scratch, n):
    if row[0] != POLYNOMIAL:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    a = ops[row[8]]
    b = ops[row[9]]
    tt = ops[row[10]]
    pw = ops[row[11]]
    y = pw[0]
    if const[row[11]] and y == 1.0:  # the common powers of a whole call (the C++ core's PolynomialF<1, 2>)
        for i in range(n):
            d[i] = blend(b[i], a[i], polynomial_base(t[i], tt[i]))
        return True
    if const[row[11]] and y == 2.0:
        for i in range(n):
            x = polynomial_base(t[i], tt[i])
            d[i] = blend(b[i], a[i], x * x)
        return True
    if const[row[11]] and y != 0.0 and y != 0.5:
        # the C++ core's PolynomialF<3>: no tests of the power, in passes over the block (the base, its
        # log, the exp): shorter dependency chains that overlap across elements
        base = scratch[0]
        y_log = scratch[1]
        for i in range(n):
            base[i] = polynomial_base(t[i], tt[i])
        for i in range(n):
            y_log[i] = y * log(base[i])
        for i in range(n):
            d[i] = blend(b[i], a[i], pow_unit_exp_fin(base[i], y_log[i]))
        return True
    polynomial_any_power(d, t, a, b, tt, pw, n)
    return True


@njit(**HELPER)
def polynomial_any_power(d, t, a, b, tt, pw, n):
    """Polynomial with the power's tests (a power per element, or 0 or 0.5): a function of its own, so
    that LLVM still inlines the exp and the log into the loop of the common case above."""
    for i in range(n):
        x = polynomial_base(t[i], tt[i])
        d[i] = blend(b[i], a[i], pow_unit_fin(x, pw[i], pw[i] * log(x)))


@njit(**HELPER)
def fill(dst, value, n):
    """``dst[:n] = value``."""
    for i in range(n):
        dst[i] = value


@njit(**HELPER)
def cosine(row, regs, ops, const, tables, scratch, n):
    if row[0] != COSINE:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    pk = ops[row[8]]
    tt = ops[row[9]]
    mn = ops[row[10]]
    inv = scratch[0]  # 1 / T, once per call when T is a scalar (the C++ core's load)
    if const[row[9]]:
        fill(inv, 1.0 / tt[0], n)
    else:
        for i in range(n):
            inv[i] = 1.0 / tt[i]
    for i in range(n):
        d[i] = cosine_at(t[i], pk[i], tt[i], mn[i], inv[i])
    return True


@njit(**HELPER)
def restart_start(i, c, m):
    """Step at which cycle ``i`` starts: ``c i`` if ``m == 1``, else one recurrence step
    ``S_i = m S_{i-1} + c`` on the closed form ``S_{i-1} = c (m**(i-1) - 1) / (m - 1)``."""
    if m == 1.0:
        return c * i
    if i <= 0.0:
        return 0.0
    return m * safe_div(c * (ipow(m, i - 1.0) - 1.0), m - 1.0) + c


@njit(**HELPER)
def cosine_restarts(row, regs, ops, const, tables, scratch, n):
    if row[0] != COSINE_RESTARTS:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    pk = ops[row[8]]
    cs = ops[row[9]]
    mn = ops[row[10]]
    mm = ops[row[11]]
    dc = ops[row[12]]
    lim = ops[row[13]]
    start = scratch[0]
    length = scratch[1]
    cycle_peak = scratch[2]
    past = scratch[3]
    # pass 1 (scalar): the cycle of each step, searched when a step leaves the current one: a guess
    # from the logarithm, then the exact correction against the starts (at most 64 moves, as the
    # reference)
    kc = math.nan
    km = math.nan
    kd = math.nan
    ci = -1.0
    s0 = 0.0
    s1 = 0.0
    pm = 1.0
    pd = 1.0
    for i in range(n):
        c = cs[i]
        m = mm[i]
        dd = dc[i]
        x = t[i]
        if not (c == kc and m == km and dd == kd and s0 <= x and x < s1):
            if m == 1.0:
                guess = np.floor(x / c)
            else:
                guess = np.floor(log(1.0 + x * (m - 1.0) / c) / log(m))
            guess = select(guess > 0.0, guess, 0.0)  # also maps NaN to 0
            guess = select(guess < TWO53, guess, TWO53)
            if not (c == kc and m == km and dd == kd and guess == ci):
                kc = c
                km = m
                kd = dd
                ci = guess
                s0 = restart_start(ci, c, m)
                s1 = restart_start(ci + 1.0, c, m)
                pm = ipow(m, ci)
                pd = ipow(dd, ci)
            for _ in range(64):
                if s1 <= x:
                    ci += 1.0
                elif ci > 0.0 and s0 > x:
                    ci -= 1.0
                else:
                    break
                s0 = restart_start(ci, c, m)
                s1 = restart_start(ci + 1.0, c, m)
                pm = ipow(m, ci)
                pd = ipow(dd, ci)
        start[i] = s0
        length[i] = c * pm
        cycle_peak[i] = pk[i] * pd
        past[i] = select(ci >= lim[i], 1.0, 0.0)
    # pass 2 (vectorized): the cosine of the phase in the cycle
    for i in range(n):
        x = (t[i] - start[i]) / length[i]
        # x leaves [0, 1] only for an index clamped at 2**53 cycles: the full-range cosine there
        cf = select((x >= 0.0) & (x <= 1.0), cos_factor(x), 0.5 * (1.0 + cospi(x)))
        value = blend(mn[i], cycle_peak[i], cf)
        d[i] = select(past[i] != 0.0, mn[i], value)
    return True


@njit(**HELPER)
def warmup_cosine(row, regs, ops, const, tables, scratch, n):
    if row[0] != WARMUP_COSINE:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    pk = ops[row[8]]
    tt = ops[row[9]]
    w = ops[row[10]]
    mn = ops[row[11]]
    init = ops[row[12]]
    inv_warm = scratch[0]  # the reciprocals, once per call when T and W are scalars
    inv_decay = scratch[1]
    if const[row[9]] and const[row[10]]:
        fill(inv_warm, inverse_of(w[0]), n)
        fill(inv_decay, inverse_of(tt[0] - w[0]), n)
    else:
        for i in range(n):
            inv_warm[i] = inverse_of(w[i])
            inv_decay[i] = inverse_of(tt[i] - w[i])
    for i in range(n):
        d[i] = warmup_cosine_at(t[i], pk[i], tt[i], w[i], mn[i], init[i], inv_warm[i], inv_decay[i])
    return True


@njit(**HELPER)
def warmup_stable_decay(row, regs, ops, const, tables, scratch, n):
    if row[0] != WARMUP_STABLE_DECAY:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    pk = ops[row[8]]
    tt = ops[row[9]]
    w = ops[row[10]]
    dd = ops[row[11]]
    mn = ops[row[12]]
    init = ops[row[13]]
    shape = row[5]
    for i in range(n):
        d[i] = wsd_at(t[i], pk[i], tt[i], w[i], dd[i], mn[i], init[i], shape)
    return True


@njit(**HELPER)
def one_cycle(row, regs, ops, const, tables, scratch, n):
    if row[0] != ONE_CYCLE:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    mx = ops[row[8]]
    tt = ops[row[9]]
    pct = ops[row[10]]
    div = ops[row[11]]
    fdiv = ops[row[12]]
    initial = scratch[0]  # the C++ core's load: once per call when the parameters are scalars
    final = scratch[1]
    first_end = scratch[2]
    mid_end = scratch[3]
    last_end = scratch[4]
    if all_const(const, row, 5):
        v = mx[0] / div[0]
        fill(initial, v, n)
        fill(final, v / fdiv[0], n)
        fill(first_end, pct[0] * tt[0] - 1.0, n)
        fill(mid_end, 2.0 * pct[0] * tt[0] - 2.0, n)
        fill(last_end, tt[0] - 1.0, n)
    else:
        for i in range(n):
            initial[i] = mx[i] / div[i]
            final[i] = initial[i] / fdiv[i]
            first_end[i] = pct[i] * tt[i] - 1.0
            mid_end[i] = 2.0 * pct[i] * tt[i] - 2.0
            last_end[i] = tt[i] - 1.0
    linear = (row[5] & 1) != 0
    three = (row[5] & 2) != 0
    for i in range(n):
        d[i] = one_cycle_at(t[i], mx[i], initial[i], final[i], first_end[i], mid_end[i], last_end[i], linear,
                            three)
    return True


@njit(**HELPER)
def cyclic(row, regs, ops, const, tables, scratch, n):
    if row[0] != CYCLIC:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    base = ops[row[8]]
    mx = ops[row[9]]
    up = ops[row[10]]
    down = ops[row[11]]
    g = ops[row[12]]
    total = scratch[0]  # the cycle length and the rising fraction (the C++ core's load)
    ratio = scratch[1]
    for i in range(n):
        total[i] = up[i] + down[i]
        ratio[i] = up[i] / total[i]
    if row[5] == 2:  # exp_range: gamma ** t from log(gamma)
        lhi = ops[row[LOG_HI_FIELD]]
        llo = ops[row[LOG_LO_FIELD]]
        for i in range(n):
            scale = cyclic_scale(t[i], total[i], ratio[i])
            d[i] = base[i] + (mx[i] - base[i]) * scale * pow_log(g[i], t[i], lhi[i], llo[i])
    else:
        triangular2 = row[5] == 1
        for i in range(n):
            scale = cyclic_scale(t[i], total[i], ratio[i])
            cycle = np.floor(1.0 + t[i] / total[i])
            # triangular2: 0.5 ** (cycle - 1), an exact power of two (0 from cycle 1076 on)
            g2 = select(triangular2, exp2i(-(cycle - 1.0)), 1.0)
            d[i] = base[i] + (mx[i] - base[i]) * scale * g2
    return True


@njit(**HELPER)
def inverse_sqrt(row, regs, ops, const, tables, scratch, n):
    if row[0] != INVERSE_SQRT:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    pk = ops[row[8]]
    w = ops[row[9]]
    init = ops[row[10]]
    for i in range(n):
        d[i] = inverse_sqrt_at(t[i], pk[i], w[i], init[i])
    return True


@njit(**HELPER)
def tanh(row, regs, ops, const, tables, scratch, n):
    if row[0] != TANH:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    pk = ops[row[8]]
    tt = ops[row[9]]
    mn = ops[row[10]]
    lo = ops[row[11]]
    hi = ops[row[12]]
    for i in range(n):
        d[i] = tanh_at(t[i], pk[i], tt[i], mn[i], lo[i], hi[i])
    return True


@njit(**HELPER)
def piecewise_constant(row, regs, ops, const, tables, scratch, n):
    if row[0] != PIECEWISE_CONSTANT:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    off = row[6]
    k = row[7]
    lo, hi = block_range(t, n)
    first = count_le(tables, off, k, lo)
    if first == count_le(tables, off, k, hi):  # one piece: one value
        value = tables[off + k + first]
        for i in range(n):
            d[i] = value
        return True
    for i in range(n):
        d[i] = tables[off + k + count_le(tables, off, k, t[i])]
    return True


@njit(**HELPER)
def piecewise_linear(row, regs, ops, const, tables, scratch, n):
    if row[0] != PIECEWISE_LINEAR:
        return False
    d = regs[row[1]]
    t = regs[row[2]]
    off = row[6]
    k = row[7]
    v = off + k
    lo, hi = block_range(t, n)
    first = count_le(tables, off, k, lo)
    if first == count_le(tables, off, k, hi):  # one segment (or one end)
        if first == 0 or first >= k:
            end = tables[v] if first == 0 else tables[v + k - 1]
            for i in range(n):
                d[i] = end
            return True
        for i in range(n):
            d[i] = piecewise_linear_at(t[i], tables, off, k, first)
        return True
    for i in range(n):
        index = count_le(tables, off, k, t[i])
        if index == 0:
            d[i] = tables[v]
        elif index >= k:
            d[i] = tables[v + k - 1]
        else:
            d[i] = piecewise_linear_at(t[i], tables, off, k, index)
    return True


@njit(**HELPER)
def no_combinators(row, regs, ops, const, tables, scratch, n):
    """The combinators of a kernel for programs without them."""
    return False


@njit(**HELPER)
def combinators(row, regs, ops, const, tables, scratch, n):
    """SHIFT, SELECT, MUL, SCALE, RAMP and ZERO (docs/engine.md)."""
    op = row[0]
    d = regs[row[1]]
    a = regs[row[2]]
    b = regs[row[3]]
    c = regs[row[4]]
    if op == SHIFT:
        x = ops[row[8]]
        for i in range(n):
            d[i] = dmax(a[i] - x[i], 0.0)
    elif op == SELECT:
        x = ops[row[8]]
        for i in range(n):
            d[i] = select(a[i] >= x[i], c[i], b[i])
    elif op == MUL:
        for i in range(n):
            d[i] = a[i] * b[i]
    elif op == SCALE:
        x = ops[row[8]]
        for i in range(n):
            d[i] = a[i] * x[i]
    elif op == RAMP:
        w = ops[row[8]]
        init = ops[row[9]]
        for i in range(n):
            d[i] = select(a[i] < w[i], blend(init[i], c[i], safe_div(a[i], w[i])), b[i])
    elif op == ZERO:
        for i in range(n):
            d[i] = 0.0
    else:
        return False
    return True


@njit(**HELPER)
def mix(row, regs, ops, const, tables, scratch, n):
    """Every family (the kernel of composites of several families)."""
    op = row[0]
    if op == CONSTANT:
        return constant(row, regs, ops, const, tables, scratch, n)
    if op == LINEAR:
        return linear(row, regs, ops, const, tables, scratch, n)
    if op == STEP_DECAY:
        return step_decay(row, regs, ops, const, tables, scratch, n)
    if op == MULTI_STEP:
        return multi_step(row, regs, ops, const, tables, scratch, n)
    if op == EXPONENTIAL:
        return exponential(row, regs, ops, const, tables, scratch, n)
    if op == INVERSE_TIME:
        return inverse_time(row, regs, ops, const, tables, scratch, n)
    if op == POLYNOMIAL:
        return polynomial(row, regs, ops, const, tables, scratch, n)
    if op == COSINE:
        return cosine(row, regs, ops, const, tables, scratch, n)
    if op == COSINE_RESTARTS:
        return cosine_restarts(row, regs, ops, const, tables, scratch, n)
    if op == WARMUP_COSINE:
        return warmup_cosine(row, regs, ops, const, tables, scratch, n)
    if op == WARMUP_STABLE_DECAY:
        return warmup_stable_decay(row, regs, ops, const, tables, scratch, n)
    if op == ONE_CYCLE:
        return one_cycle(row, regs, ops, const, tables, scratch, n)
    if op == CYCLIC:
        return cyclic(row, regs, ops, const, tables, scratch, n)
    if op == INVERSE_SQRT:
        return inverse_sqrt(row, regs, ops, const, tables, scratch, n)
    if op == TANH:
        return tanh(row, regs, ops, const, tables, scratch, n)
    if op == PIECEWISE_CONSTANT:
        return piecewise_constant(row, regs, ops, const, tables, scratch, n)
    if op == PIECEWISE_LINEAR:
        return piecewise_linear(row, regs, ops, const, tables, scratch, n)
    return False
