// exp, log and pow for the kernels, written once for scalars (V = double) and for the
// vectors of vec.hpp (V = vd), without libm and without -ffast-math.
//
// Every function is branch-free straight-line code on doubles and on their 64-bit bit patterns (a
// GCC vector cast `(vu)x` is a bit cast, like memcpy for a scalar), so the vector form compiles to
// one ymm operation per line with -mavx2 (one 2-lane xmm operation in the baseline build), and each
// lane does exactly the IEEE operations of the scalar form: F::eval and F::evalv give the same bits. The
// polynomials are fdlibm's (Sun Microsystems, freely redistributable): errors below 1 ulp for exp
// and log. No FMA but one exact use (two_prod_err_: the same bits as Dekker's product), so the
// baseline and AVX2 builds agree bit for bit here.
#pragma once

#include <cmath>

#include "config.hpp"
#include "vec.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2**52: x + kMagic - kMagic rounds to an integer
constexpr double kTwo52 = 4503599627370496.0;

FASTLR_INLINE uint64_t bits_of(double x) { return as_u64(x); }
FASTLR_INLINE vu bits_of(vd x) { return (vu)x; }
FASTLR_INLINE double from_bits(uint64_t u) { return as_f64(u); }
FASTLR_INLINE vd from_bits(vu u) { return (vd)u; }

// The integer and mask types that go with a value type: uint64_t / bool for double, vu / vm for vd.
template <class V> using bits_t = decltype(bits_of(V()));
template <class V> using mask_t = decltype(V() < V());

// A constant of type V (every lane).
template <class V>
FASTLR_INLINE V vconst(double c) {
    if constexpr (sizeof(V) == sizeof(double)) return c; else return splat(c);
}

FASTLR_INLINE double fabs_(double x) { return __builtin_fabs(x); }
FASTLR_INLINE vd fabs_(vd x) { return from_bits(bits_of(x) & 0x7fffffffffffffffULL); }

// Correctly rounded square root per lane (vsqrtpd / two sqrtpd: -fno-math-errno, no libm call).
FASTLR_INLINE double sqrt_(double x) { return __builtin_sqrt(x); }
FASTLR_INLINE vd sqrt_(vd x) {
    for (int i = 0; i < kLanes; ++i) x[i] = __builtin_sqrt(x[i]);
    return x;
}

// floor(x), exact: roundsd / vroundpd where the build has SSE4.1 (the AVX2 build), else round to
// nearest with the 2**52 trick and fix up (the baseline build). The same values either way (inf and
// NaN pass through).
template <class V>
FASTLR_INLINE V floor_t(V x) {
#if defined(__SSE4_1__)
    if constexpr (sizeof(V) == sizeof(double)) {
        return __builtin_floor(x);
    } else {
        for (int i = 0; i < kLanes; ++i) x[i] = __builtin_floor(x[i]);
        return x;
    }
#endif
    const V m = x < 0.0 ? -kTwo52 : kTwo52;
    V r = (x + m) - m;
    r = r > x ? r - 1.0 : r;
    return fabs_(x) < kTwo52 ? r : x;
}

// 2**k for an integer-valued k in [-1100, 1100] (clamped), exact where representable: built as the
// product of two normal powers of two, so subnormal results round once.
template <class V>
FASTLR_INLINE V exp2i_t(V k) {
    k = k < -1100.0 ? -1100.0 : (k > 1100.0 ? 1100.0 : k);
    const V k1 = (k * 0.5 + kMagic) - kMagic;  // an integer near k / 2
    const V k2 = k - k1;
    const bits_t<V> b1 = (bits_of(k1 + (kMagic + 1023.0)) - as_u64(kMagic)) << 52;
    const bits_t<V> b2 = (bits_of(k2 + (kMagic + 1023.0)) - as_u64(kMagic)) << 52;
    return from_bits(b1) * from_bits(b2);
}

// exp(x + xlo) with |xlo| << |x| (xlo carries extra precision, e.g. from a double-double product;
// finite). x = k ln2 + r, |r| <= ln2 / 2 (Cody-Waite with fdlibm's split of ln2), exp(r) by its
// rational form exp(r) = 1 + 2r / (2 - c) with c = r - r**2 R(r**2), R of degree 4 (fdlibm's
// e_exp.c: below 1 ulp), R in Estrin's scheme (a short dependency chain: the loops are
// latency-bound, and the rational form needs a lower degree than a Taylor polynomial).
// The result is (exp(r) * 2**k1) * 2**k2 with k1 + k2 = k, both normal powers of two: exact scaling
// up to the overflow threshold, one rounding for a subnormal result. x is clamped to [-746, 710]
// (the result is 0 or inf beyond; xlo cannot move it back), NaN stays NaN.
template <class V>
FASTLR_INLINE V exp_dd_t(V x, V xlo) {
    constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    constexpr double inv_ln2 = 1.44269504088896338700e+00;
    x = 710.0 < x ? 710.0 : x;  // a NaN x passes through (both comparisons are false)
    x = -746.0 > x ? -746.0 : x;
    const V kk = x * inv_ln2 + kMagic;  // kMagic + k, k = round(x / ln2) in [-1077, 1025]
    const V k = kk - kMagic;
    const V hi = x - k * ln2_hi;  // exact
    const V lo = k * ln2_lo - xlo;
    const V r = hi - lo;
    constexpr double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03,
                     P3 = 6.61375632143793436117e-05, P4 = -1.65339022054652515390e-06,
                     P5 = 4.13813679705723846039e-08;
    const V z = r * r;
    const V z2 = z * z;
    const V c = r - z * ((P1 + z * P2) + z2 * ((P3 + z * P4) + z2 * P5));
    const V y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    // k + 2048 = u in [971, 3073] from the bits of kk; k1 = floor(u / 2) - 1024, k2 = k - k1
    const bits_t<V> u = bits_of(kk) - (as_u64(kMagic) - 2048);
    const bits_t<V> h = u >> 1;
    const V s1 = from_bits((h - 1) << 52);      // 2**k1: biased exponent k1 + 1023 = h - 1
    const V s2 = from_bits((u - h - 1) << 52);  // 2**k2: biased exponent k2 + 1023 = u - h - 1
    return (y * s1) * s2;
}

template <class V>
FASTLR_INLINE V exp_t(V x) { return exp_dd_t(x, vconst<V>(0.0)); }

// Natural logarithm (fdlibm e_log.c). log(0) = -inf, log(x < 0) = NaN, subnormals handled.
template <class V>
FASTLR_INLINE V log_t(V x) {
    constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                     Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                     Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                     Lg7 = 1.479819860511658591e-01;
    const mask_t<V> sub = x < 2.2250738585072014e-308;
    const V xs = sub ? x * 18014398509481984.0 : x;  // * 2**54
    bits_t<V> u = bits_of(xs);
    u += (uint64_t(0x3ff00000 - 0x3fe6a09e)) << 32;
    const bits_t<V> e = u >> 52;  // biased exponent of the normalized value
    u = (u & 0x000fffffffffffffULL) + (uint64_t(0x3fe6a09e) << 32);
    const V m = from_bits(u);  // in [sqrt(2)/2, sqrt(2))
    const V k = from_bits(as_u64(kMagic) + e) - kMagic - 1023.0 - (sub ? 54.0 : 0.0);
    const V f = m - 1.0;
    const V s = f / (2.0 + f);
    const V z = s * s;
    const V w = z * z;
    const V t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    const V t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    const V R = t2 + t1;
    const V hfsq = 0.5 * f * f;
    const V r = k * ln2_hi - ((hfsq - (s * (hfsq + R) + k * ln2_lo)) - f);
    // special values
    const V special = x == 0.0 ? -HUGE_VAL : (x < 0.0 ? NAN : x);  // inf -> inf, NaN -> NaN
    const mask_t<V> ok = (x > 0.0) & (x < HUGE_VAL);
    return ok ? r : special;
}

// The rounding error of the product p = a * b (a * b = p + err exactly). With FMA (the AVX2 build)
// one fused multiply-subtract, else Dekker's split product; both are exact, so both give the same bits.
FASTLR_INLINE double two_prod_err_(double a, double b, double p) {
#if defined(__FMA__)
    return __builtin_fma(a, b, -p);
#else
    constexpr double split = 134217729.0;  // 2**27 + 1
    const double ca = split * a, cb = split * b;
    const double ahi = ca - (ca - a), bhi = cb - (cb - b);
    const double alo = a - ahi, blo = b - bhi;
    return ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo;
#endif
}
FASTLR_INLINE vd two_prod_err_(vd a, vd b, vd p) {
#if defined(__FMA__)
    return __builtin_ia32_vfmaddpd256(a, b, -p);
#else
    constexpr double split = 134217729.0;
    const vd ca = split * a, cb = split * b;
    const vd ahi = ca - (ca - a), bhi = cb - (cb - b);
    const vd alo = a - ahi, blo = b - bhi;
    return ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo;
#endif
}

// e * log(g) as the double-double yh + yl, the argument pow_log_t takes exp of (split out so that
// a block loop can run it as a pass of its own: interpreter/block.hpp, eval_passes).
template <class V>
struct PowLogArg { V e, yh, yl; };

template <class V>
FASTLR_INLINE PowLogArg<V> pow_log_arg_t(V e, double lhi, double llo) {
    const V yh = e * lhi;
    V yl = two_prod_err_(e, vconst<V>(lhi), yh) + e * llo;
    // |yl| >= 1 only where |yh| >= 2**53 (exp saturates on yh alone); a NaN or inf yl (e * log(g)
    // overflowed, or Dekker's split of a huge e did) is dropped the same way, in both builds
    yl = fabs_(yl) < 1.0 ? yl : 0.0;
    return {e, yh, yl};
}

template <class V>
FASTLR_INLINE V pow_log_fin_t(double g, const PowLogArg<V>& a) {
    const V r = exp_dd_t(a.yh, a.yl);
    return a.e == 0.0 ? 1.0 : (a.e == 1.0 ? g : (a.e == 2.0 ? g * g : r));
}

// g ** e for g > 0 given log(g) = lhi + llo to ~64 bits (computed once per parameter with logl):
// exp of the double-double product e * log(g). Relative error ~1 ulp for any magnitude of e.
// e == 0, 1, 2 are exact (1, g and the correctly rounded g * g).
template <class V>
FASTLR_INLINE V pow_log_t(double g, V e, double lhi, double llo) {
    return pow_log_fin_t(g, pow_log_arg_t(e, lhi, llo));
}

// x ** y for x in [0, 1] (Polynomial's base; y > 0 shared by the lanes): exp(y log x); the result is
// <= 1, so its error relative to 1 stays below an ulp or two. Exact for x in {0, 1} and for
// y in {1, 2, 0.5} (x, the correctly rounded x * x and sqrt).
// The exp(y log x) case in two halves, pow_unit_exp_fin_t(x, y * log_t(x)), so that a block loop
// with a power known to be none of those can run them as passes without the power's tests
// (PolynomialF<3>); pow_unit_t composes the same operations (the same bits).
template <class V>
FASTLR_INLINE V pow_unit_exp_fin_t(V x, V y_log_x) {
    V v = exp_t(y_log_x);
    v = x == 1.0 ? 1.0 : v;
    return x == 0.0 ? 0.0 : v;
}

template <class V>
FASTLR_INLINE V pow_unit_t(V x, double y) {
    if (y == 0.0) return vconst<V>(1.0);
    if (y == 1.0) return x;
    if (y == 2.0) return x * x;
    if (y == 0.5) return sqrt_(x);  // sqrt(0) = 0
    return pow_unit_exp_fin_t(x, V(y * log_t(x)));
}

// g ** k for an integer-valued k >= 0 (the decays' integer powers: StepDecay, MultiStep, staircase
// Exponential, the restarts' m ** i and d ** i), the same IEEE operations in every backend (the
// reference's _integer_power, numba's ipow): right-to-left binary powering in double-double
// arithmetic, rounded once at the end. The double-double error grows like k * 2**-104, so the
// result is the correctly rounded power for any k a schedule meets (but for a value within
// k * 2**-104 of a rounding midpoint), and within an ulp up to k = 2**53. No libm: a pinned value
// (peak * decay ** i at a restart, lr * gamma ** count at a milestone) is the same on every CPU.
// Dekker's product (no FMA) keeps even the subnormal results identical across builds; a product
// beyond 2**995 (where the split would overflow, up to inf for a growth) is p itself with no low
// part, the same way everywhere.
template <class V>
FASTLR_INLINE void dd_mul_t(V xh, V xl, V yh, V yl, V& rh, V& rl) {
    constexpr double split = 134217729.0;  // 2**27 + 1
    const V p = xh * yh;
    const V cx = split * xh, cy = split * yh;
    const V xhi = cx - (cx - xh), yhi = cy - (cy - yh);
    const V xlo = xh - xhi, ylo = yh - yhi;
    V e = (((xhi * yhi - p) + xhi * ylo) + xlo * yhi) + xlo * ylo;
    e = e + (xh * yl + xl * yh);
    const V s = p + e;
    const auto in_range = fabs_(p) <= 0x1p995;
    rh = in_range ? s : p;
    rl = in_range ? V(e - (s - p)) : vconst<V>(0.0);
}

FASTLR_INLINE bool any_(bool m) { return m; }
FASTLR_INLINE bool any_(vm m) {
    for (int i = 0; i < kLanes; ++i)
        if (m[i]) return true;
    return false;
}

template <class V>
FASTLR_INLINE V ipow_t(V g, V k) {
    V acc_h = vconst<V>(1.0), acc_l = vconst<V>(0.0);
    V base_h = g, base_l = vconst<V>(0.0);
    while (any_(k > 0.0)) {
        const V half = floor_t(V(k * 0.5));
        V h, l;
        dd_mul_t(acc_h, acc_l, base_h, base_l, h, l);
        const auto odd = k != 2.0 * half;
        acc_h = odd ? h : acc_h;
        acc_l = odd ? l : acc_l;
        k = half;
        dd_mul_t(base_h, base_l, base_h, base_l, h, l);
        const auto more = k > 0.0;
        base_h = more ? h : base_h;
        base_l = more ? l : base_l;
    }
    return acc_h;
}

// The scalar forms, by their historical names.
FASTLR_INLINE double floor_(double x) { return floor_t(x); }
FASTLR_INLINE double exp2i_(double k) { return exp2i_t(k); }
FASTLR_INLINE double log_(double x) { return log_t(x); }
FASTLR_INLINE double pow_log_(double g, double e, double lhi, double llo) { return pow_log_t(g, e, lhi, llo); }
FASTLR_INLINE double ipow_(double g, double k) { return ipow_t(g, k); }

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
