"""The elementary functions of the numba kernels: a literal port of the C++ core's
``csrc/include/fastlr/math.hpp``, ``math_exp.hpp`` and the helpers of ``config.hpp``.

Every function is a scalar ``@njit`` function doing the IEEE operations of its C++ counterpart in the
same order. numba without ``fastmath`` neither reassociates nor contracts a multiply and an add into an
FMA, and the C++ core is built with ``-ffp-contract=off``, so both give the same bits (the one
exception is the cosine factor's polynomial, which the C++ AVX2 build fuses on purpose: about an ulp of
the factor). No libm call: LLVM inlines these into the family loops and vectorizes them.

``ipow`` is the integer power of decay factors shared by every backend: right-to-left binary powering
in double-double, so ``g ** k`` is (almost always) correctly rounded and libm-independent.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.extending import intrinsic

#: every numba function of the backend: callable without the GIL, IEEE division (``error_model="numpy"``:
#: x / 0 is inf or NaN, no exception check), without reference counting (none allocates an array; the
#: caller keeps its arguments alive)
_BASE = dict(nogil=True, error_model="numpy", no_cfunc_wrapper=True, _nrt=False)
#: the kernels that Python calls, cached on disk by numba
KERNEL = dict(_BASE, cache=True)
#: the functions only called from other numba functions: no Python wrapper (code to compile for nothing)
HELPER = dict(KERNEL, no_cpython_wrapper=True)
#: the interpreter, compiled into each kernel for its family (a function argument: not cacheable itself)
DRIVER = dict(_BASE, no_cpython_wrapper=True, inline="always")

MAGIC = 6755399441055744.0  # 1.5 * 2**52: (x + MAGIC) - MAGIC rounds x to an integer
TWO52 = 4503599627370496.0
TWO53 = 9007199254740992.0
DBL_MAX = 1.7976931348623157e308
MAGIC_BITS = 0x4338000000000000  # the bits of MAGIC
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e+00
SPLIT = 134217729.0  # 2**27 + 1 (Veltkamp's split)


# --------------------------------------------------------------------------------------------------
# bit casts and a branch-free select (numba has no float <-> int reinterpretation of scalars, and it
# compiles a conditional expression to branches, which LLVM does not always turn back into a select)


@intrinsic
def as_i64(typingctx, x):
    """The IEEE-754 bits of a float64 as an int64 (memcpy in the C++ core)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def as_f64(typingctx, x):
    """The float64 whose IEEE-754 bits are the int64 ``x``."""
    if x != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def select(typingctx, cond, a, b):
    """``a if cond else b`` as one LLVM ``select`` (C++'s ``cond ? a : b`` on doubles); both are
    evaluated."""
    ty = typingctx.unify_types(a, b)
    if not isinstance(cond, types.Boolean) or not isinstance(ty, (types.Integer, types.Float)):
        return None

    def codegen(context, builder, signature, args):
        x = context.cast(builder, args[1], signature.args[1], ty)
        y = context.cast(builder, args[2], signature.args[2], ty)
        return builder.select(args[0], x, y)

    return ty(cond, a, b), codegen


# --------------------------------------------------------------------------------------------------
# config.hpp


@njit(**HELPER)
def dmin(a, b):
    """``a < b ? a : b`` (np.minimum for non-NaN)."""
    return select(a < b, a, b)


@njit(**HELPER)
def dmax(a, b):
    """``a > b ? a : b`` (np.maximum for non-NaN)."""
    return select(a > b, a, b)


@njit(**HELPER)
def clip01(x):
    """``x`` clipped to [0, 1]."""
    x = select(x > 0.0, x, 0.0)
    return select(x < 1.0, x, 1.0)


@njit(**HELPER)
def blend(a, b, c):
    """``a`` at ``c = 0``, ``b`` at ``c = 1`` (exact at both ends)."""
    return a * (1.0 - c) + b * c


@njit(**HELPER)
def safe_div(num, den):
    """``num / den`` where ``den != 0``, else 0."""
    nz = den != 0.0
    q = num / select(nz, den, 1.0)
    return select(nz, q, 0.0)


# --------------------------------------------------------------------------------------------------
# math.hpp


@njit(**HELPER)
def cospi(x):
    """``cos(pi x)`` with exact argument reduction ``x = n + r``, ``|r| <= 1/2``; ``cospi(0) == 1``,
    ``cospi(1) == -1``."""
    c1 = -4.934802200544679
    c2 = 4.0587121264167685
    c3 = -1.3352627688545895
    c4 = 0.2353306303588932
    c5 = -0.02580689139001406
    c6 = 0.0019295743094039231
    c7 = -0.0001046381049248457
    c8 = 4.303069587032947e-06
    c9 = -1.3878952462213771e-07
    c10 = 3.604730797462501e-09
    c11 = -7.700707130601354e-11
    ax = abs(x)
    big = not (ax < TWO52)
    n = (ax + MAGIC) - MAGIC
    r = select(big, 0.0, ax - n)
    half = select(big, ax, n) * 0.5
    half = select(ax < TWO53, half, 0.0)
    odd = ((half + MAGIC) - MAGIC) != half
    z = r * r
    v = 1.0 + z * (c1 + z * (c2 + z * (c3 + z * (c4 + z * (c5 + z * (c6 + z * (c7 + z * (c8 + z * (
        c9 + z * (c10 + z * c11))))))))))
    return select(odd, -v, v)


@njit(**HELPER)
def cos_factor(q):
    """``(1 + cos(pi q)) / 2`` for ``q`` in [0, 1]: with ``m = min(q, 1 - q)``, ``w = z D(z)``
    (``z = m * m``, the C++ core's degree-7 fit of ``(1 - cos(pi sqrt z)) / (2 z)``), ``1 - w`` below
    1/2 and ``w`` above. Exactly 1 at ``q = 0`` and 0 at ``q = 1``."""
    upper = q > 0.5
    m = select(upper, 1.0 - q, q)
    z = m * m
    d = z * -2.0831997313634743e-06 + 5.2291431841632926e-05
    d = z * d + -0.000964781326239933
    d = z * d + 0.012903445012937696
    d = z * d + -0.11766531513607885
    d = z * d + 0.6676313844259402
    d = z * d + -2.029356063208368
    d = z * d + 2.4674011002723395
    w = z * d
    return select(upper, w, 1.0 - w)


# --------------------------------------------------------------------------------------------------
# math_exp.hpp


@njit(**HELPER)
def exp2i(k):
    """``2**k`` for an integer-valued ``k`` (clamped to [-1100, 1100]), exact where representable: the
    product of two normal powers of two, so a subnormal result is rounded once."""
    k = select(k < -1100.0, -1100.0, select(k > 1100.0, 1100.0, k))
    k1 = (k * 0.5 + MAGIC) - MAGIC
    k2 = k - k1
    b1 = (as_i64(k1 + (MAGIC + 1023.0)) - MAGIC_BITS) << 52
    b2 = (as_i64(k2 + (MAGIC + 1023.0)) - MAGIC_BITS) << 52
    return as_f64(b1) * as_f64(b2)


@njit(**HELPER)
def exp_dd(x, xlo):
    """``exp(x + xlo)``, ``|xlo| << |x|`` (fdlibm's e_exp.c: Cody-Waite reduction with the two-part
    ln 2, the rational form of ``exp(r)``, the result scaled by two normal powers of two). ``x`` is
    clamped to [-746, 710]; NaN stays NaN."""
    x = select(710.0 < x, 710.0, x)
    x = select(-746.0 > x, -746.0, x)
    kk = x * INV_LN2 + MAGIC
    k = kk - MAGIC
    hi = x - k * LN2_HI
    lo = k * LN2_LO - xlo
    r = hi - lo
    z = r * r
    z2 = z * z
    c = r - z * ((1.66666666666666019037e-01 + z * -2.77777777770155933842e-03)
                 + z2 * ((6.61375632143793436117e-05 + z * -1.65339022054652515390e-06)
                         + z2 * 4.13813679705723846039e-08))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    u = as_i64(kk) - (MAGIC_BITS - 2048)
    h = u >> 1
    s1 = as_f64((h - 1) << 52)
    s2 = as_f64((u - h - 1) << 52)
    return (y * s1) * s2


@njit(**HELPER)
def exp(x):
    """``exp(x)`` (``exp_dd`` without a low part)."""
    return exp_dd(x, 0.0)


@njit(**HELPER)
def log(x):
    """Natural logarithm (fdlibm e_log.c, branch-free): ``log(0) = -inf``, ``log(x < 0)`` and
    ``log(NaN)`` are NaN, ``log(inf) = inf``; subnormals handled."""
    sub = x < 2.2250738585072014e-308
    xs = select(sub, x * 18014398509481984.0, x)
    u = as_i64(xs)
    u += (0x3ff00000 - 0x3fe6a09e) << 32
    e = u >> 52
    u = (u & 0x000fffffffffffff) + (0x3fe6a09e << 32)
    m = as_f64(u)
    k = ((as_f64(MAGIC_BITS + e) - MAGIC) - 1023.0) - select(sub, 54.0, 0.0)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
    t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (
        1.818357216161805012e-01 + w * 1.479819860511658591e-01)))
    big_r = t2 + t1
    hfsq = 0.5 * f * f
    r = k * LN2_HI - ((hfsq - (s * (hfsq + big_r) + k * LN2_LO)) - f)
    special = select(x == 0.0, -math.inf, select(x < 0.0, math.nan, x))
    return select((x > 0.0) & (x < math.inf), r, special)


@njit(**HELPER)
def two_prod_err(a, b, p):
    """The rounding error of ``p = a * b`` (Dekker's split product; the C++ AVX2 build's FMA gives the
    same exact value)."""
    ca = SPLIT * a
    cb = SPLIT * b
    ahi = ca - (ca - a)
    bhi = cb - (cb - b)
    alo = a - ahi
    blo = b - bhi
    return (((ahi * bhi - p) + ahi * blo) + alo * bhi) + alo * blo


@njit(**HELPER)
def pow_log(g, e, lhi, llo):
    """``g ** e`` for ``g > 0`` given ``log(g) = lhi + llo`` to about 64 bits: ``exp`` of the
    double-double product ``e * log(g)``; exact for ``e`` in {0, 1, 2}."""
    yh = e * lhi
    yl = two_prod_err(e, lhi, yh) + e * llo
    yl = select(abs(yl) < 1.0, yl, 0.0)  # NaN or inf (an overflowed product) dropped as in the C++ core
    r = exp_dd(yh, yl)
    return select(e == 0.0, 1.0, select(e == 1.0, g, select(e == 2.0, g * g, r)))


@njit(**HELPER)
def pow_unit_exp_fin(x, y_log_x):
    """``x ** y`` for ``x`` in [0, 1] from ``y log x``: ``exp(y log x)``, exact for ``x`` in {0, 1} (the
    exp half of ``pow_unit_fin``, for a power known to be none of 0, 0.5, 1, 2). The logarithm is
    computed by the caller in a loop of its own (LLVM does not inline the exp and the log together
    into a loop, which then runs scalar)."""
    v = exp(y_log_x)
    v = select(x == 1.0, 1.0, v)
    return select(x == 0.0, 0.0, v)


@njit(**HELPER)
def pow_unit_fin(x, y, y_log_x):
    """``x ** y`` for ``x`` in [0, 1] and ``y >= 0`` given ``y_log_x = y * log(x)`` (the C++ core's
    ``pow_unit_t``): ``exp(y log x)``, exact for ``y`` in {0, 1, 2, 0.5} and ``x`` in {0, 1}."""
    v = pow_unit_exp_fin(x, y_log_x)
    v = select(y == 0.5, math.sqrt(x), v)
    v = select(y == 2.0, x * x, v)
    v = select(y == 1.0, x, v)
    return select(y == 0.0, 1.0, v)


# --------------------------------------------------------------------------------------------------
# integer powers: the same IEEE operations in every backend


@njit(**HELPER)
def _dd_mul(xh, xl, yh, yl):
    """The double-double product, renormalised (Dekker's exact product ``xh * yh = p + e``, Veltkamp's
    split); ``(p, 0)`` where ``|p| > 2**995``, beyond which the split would overflow (a growth heading
    for inf), as in every backend."""
    p = xh * yh
    if not (abs(p) <= 2.0 ** 995):
        return p, 0.0
    t = SPLIT * xh
    ah = t - (t - xh)
    al = xh - ah
    t = SPLIT * yh
    bh = t - (t - yh)
    bl = yh - bh
    e = (((ah * bh - p) + ah * bl) + al * bh) + al * bl
    e = e + (xh * yl + xl * yh)
    s = p + e
    return s, e - (s - p)


@njit(**HELPER)
def ipow(g, k):
    """``g ** k`` for an integer-valued float ``k >= 0``: right-to-left binary powering in
    double-double, rounded once at the end. ``g ** 0 == 1`` (also ``0 ** 0``). An infinite ``k``
    gives the limit (0, 1 or inf) rather than looping."""
    if k == math.inf:
        return 0.0 if abs(g) < 1.0 else (1.0 if g == 1.0 else math.inf)
    acc_h = 1.0
    acc_l = 0.0
    base_h = g
    base_l = 0.0
    while k > 0:
        half = np.floor(k * 0.5)
        if k != 2.0 * half:
            acc_h, acc_l = _dd_mul(acc_h, acc_l, base_h, base_l)
        k = half
        if k > 0:
            base_h, base_l = _dd_mul(base_h, base_l, base_h, base_l)
    return acc_h
