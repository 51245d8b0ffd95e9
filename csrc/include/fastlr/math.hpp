// Vectorizable elementary functions for the kernels (no libm calls, no -ffast-math).
//
// All functions are branch-free straight-line code on doubles and 64-bit integer bit patterns, so
// that GCC vectorizes the loops that call them (2 lanes with SSE2, 4 with AVX2). The polynomials are
// fdlibm's (Sun Microsystems, freely redistributable) for exp and log (errors below 1 ulp); the cosine
// factor's is our own fit (see cos_factor_t). They give the same bits on every path (no reassociation;
// FMA only in the cosine factor of the AVX2 build, see madd_), so results are identical for any thread
// count and block split.
#pragma once

#include <cmath>

#include "config.hpp"
#include "vec.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2**52: x + kMagic - kMagic rounds to an integer
constexpr double kTwo52 = 4503599627370496.0;

FASTLR_INLINE double fabs_(double x) { return __builtin_fabs(x); }

// floor(x) for any finite x (exact): round to nearest with the 2**52 trick, then fix up.
FASTLR_INLINE double floor_(double x) {
    const double m = x < 0.0 ? -kTwo52 : kTwo52;
    double r = (x + m) - m;
    r = r > x ? r - 1.0 : r;
    return fabs_(x) < kTwo52 ? r : x;
}

// 2**k for an integer-valued double k in [-1100, 1100] (clamped), exact where representable:
// built as the product of two normal powers of two, so subnormal results round once.
FASTLR_INLINE double exp2i_(double k) {
    k = k < -1100.0 ? -1100.0 : (k > 1100.0 ? 1100.0 : k);
    const double k1 = (k * 0.5 + kMagic) - kMagic;  // an integer near k / 2
    const double k2 = k - k1;
    const uint64_t b1 = (as_u64(k1 + (kMagic + 1023.0)) - as_u64(kMagic)) << 52;
    const uint64_t b2 = (as_u64(k2 + (kMagic + 1023.0)) - as_u64(kMagic)) << 52;
    return (as_f64(b1) * as_f64(b2));
}

// exp(hi + lo) with |lo| << |hi| (lo carries extra precision, e.g. from a double-double product).
// x = k ln2 + r, |r| <= ln2 / 2 (Cody-Waite with fdlibm's split of ln2), exp(r) by its Taylor
// polynomial to r**13 (truncation < 5e-18), evaluated as 1 + (r + r**2 q(r)): no division.
FASTLR_INLINE double exp_dd_(double x, double xlo) {
    constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    constexpr double inv_ln2 = 1.44269504088896338700e+00;
    const bool lo_range = x < -746.0;
    const bool hi_range = x > 710.0;
    x = lo_range ? -746.0 : (hi_range ? 710.0 : x);
    xlo = (lo_range || hi_range) ? 0.0 : xlo;
    const double k = (x * inv_ln2 + kMagic) - kMagic;
    const double hi = x - k * ln2_hi;  // exact
    const double lo = k * ln2_lo - xlo;
    const double r = hi - lo;
    const double q = 1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040 +
                     r * (1.0 / 40320 + r * (1.0 / 362880 + r * (1.0 / 3628800 + r * (1.0 / 39916800 +
                     r * (1.0 / 479001600 + r * (1.0 / 6227020800.0)))))))))));
    const double y = 1.0 + (r + (r * r) * q);
    return y * exp2i_(k);
}

FASTLR_INLINE double exp_(double x) { return exp_dd_(x, 0.0); }

// Natural logarithm (fdlibm e_log.c). log(0) = -inf, log(x < 0) = NaN, subnormals handled.
FASTLR_INLINE double log_(double x) {
    constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                     Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                     Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                     Lg7 = 1.479819860511658591e-01;
    const bool sub = x < 2.2250738585072014e-308;
    const double xs = sub ? x * 18014398509481984.0 : x;  // * 2**54
    uint64_t u = as_u64(xs);
    u += (uint64_t(0x3ff00000 - 0x3fe6a09e)) << 32;
    const uint64_t e = u >> 52;  // biased exponent of the normalized value
    u = (u & 0x000fffffffffffffULL) + (uint64_t(0x3fe6a09e) << 32);
    const double m = as_f64(u);  // in [sqrt(2)/2, sqrt(2))
    const double k = as_f64(as_u64(kMagic) + e) - kMagic - 1023.0 - (sub ? 54.0 : 0.0);
    const double f = m - 1.0;
    const double s = f / (2.0 + f);
    const double z = s * s;
    const double w = z * z;
    const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    const double R = t2 + t1;
    const double hfsq = 0.5 * f * f;
    const double r = k * ln2_hi - ((hfsq - (s * (hfsq + R) + k * ln2_lo)) - f);
    // special values
    const double special = x == 0.0 ? -HUGE_VAL : (x < 0.0 ? NAN : x);  // inf -> inf, NaN -> NaN
    const bool ok = x > 0.0 && x < HUGE_VAL;
    return ok ? r : special;
}

// Exact product: a * b = p + err (Dekker, no FMA needed).
FASTLR_INLINE double two_prod_err_(double a, double b, double p) {
    constexpr double split = 134217729.0;  // 2**27 + 1
    const double ca = split * a, cb = split * b;
    const double ahi = ca - (ca - a), bhi = cb - (cb - b);
    const double alo = a - ahi, blo = b - bhi;
    return ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo;
}

// g ** e for g > 0 given log(g) = lhi + llo to ~64 bits (computed once per parameter with logl):
// exp of the double-double product e * log(g). Relative error ~1 ulp for any magnitude of e.
// e == 0, 1, 2 are exact (1, g, g * g as numpy's pow gives them).
FASTLR_INLINE double pow_log_(double g, double e, double lhi, double llo) {
    const double yh = e * lhi;
    double yl = two_prod_err_(e, lhi, yh) + e * llo;
    const double s = yh + yl;
    yl = yl - (s - yh);
    const double bad = fabs_(yh) > 1e300 ? 1.0 : 0.0;  // e * log(g) overflowed: let exp saturate
    const double r = exp_dd_(s, yl * (1.0 - bad));
    return e == 0.0 ? 1.0 : (e == 1.0 ? g : (e == 2.0 ? g * g : r));
}

// x ** y for x in [0, 1] (Polynomial's base): exp(y log x); the result is <= 1, so its error relative
// to 1 stays below an ulp or two. Exact for y in {0, 1, 2, 0.5}, x in {0, 1}.
FASTLR_INLINE double pow_unit_(double x, double y) {
    const double r = exp_(y * log_(x));
    const double special = y == 1.0 ? x : (y == 2.0 ? x * x : std::sqrt(x));
    const bool use_special = y == 1.0 || y == 2.0 || y == 0.5;
    double v = use_special ? special : r;
    v = (x == 0.0) ? (y == 0.0 ? 1.0 : 0.0) : v;
    return y == 0.0 ? 1.0 : v;
}

// cos(pi x) with exact argument reduction: x = n + r, n = round(x), |r| <= 1/2 (exact), then
// cos(pi x) = (-1)**n cos(pi r) with cos(pi r) = sum (-1)**j (pi r)**(2j) / (2j)! to j = 11
// (truncation < 1e-19); absolute error ~2e-16. cospi(0) = 1, cospi(1) = -1 exactly.
FASTLR_INLINE double cospi_(double x) {
    // (-1)**j pi**(2j) / (2j)!, correctly rounded
    constexpr double c1 = -4.934802200544679, c2 = 4.0587121264167685, c3 = -1.3352627688545895,
                     c4 = 0.2353306303588932, c5 = -0.02580689139001406, c6 = 0.0019295743094039231,
                     c7 = -0.0001046381049248457, c8 = 4.303069587032947e-06, c9 = -1.3878952462213771e-07,
                     c10 = 3.604730797462501e-09, c11 = -7.700707130601354e-11;
    const double ax = fabs_(x);
    const bool big = !(ax < 4503599627370496.0);  // >= 2**52: an integer (even when >= 2**53)
    const double n = (ax + kMagic) - kMagic;      // round(ax)
    const double r = big ? 0.0 : ax - n;          // exact, |r| <= 1/2
    // parity of the integer part (ax itself when big; every value >= 2**53 is even)
    double half = (big ? ax : n) * 0.5;
    half = ax < 9007199254740992.0 ? half : 0.0;
    const bool odd = ((half + kMagic) - kMagic) != half;
    const double z = r * r;
    const double v = 1.0 + z * (c1 + z * (c2 + z * (c3 + z * (c4 + z * (c5 + z * (c6 + z * (c7 + z * (c8 +
                     z * (c9 + z * (c10 + z * c11))))))))));
    return odd ? -v : v;
}

// a * b + c inside the cosine factor's polynomial only: one rounding (FMA) in the AVX2+FMA build
// (FASTLR_POLY_FMA), two in the baseline build. The two builds may then differ by an ulp of the
// cosine factor (the spec allows 8 ulp of the peak); every pinned value is unaffected (q = 0 and
// q = 1 give m = 0, z = 0: the polynomial is multiplied by an exact 0). Scalar and vector forms use
// the same rounding in one build.
#if defined(FASTLR_POLY_FMA)
FASTLR_INLINE double madd_(double a, double b, double c) { return __builtin_fma(a, b, c); }
FASTLR_INLINE v4d madd_(v4d a, v4d b, v4d c) { return __builtin_ia32_vfmaddpd256(a, b, c); }
#else
FASTLR_INLINE double madd_(double a, double b, double c) { return a * b + c; }
FASTLR_INLINE v4d madd_(v4d a, v4d b, v4d c) { return a * b + c; }
#endif
FASTLR_INLINE v4d madd_(v4d a, double b, double c) { return madd_(a, splat(b), splat(c)); }
FASTLR_INLINE v4d madd_(v4d a, v4d b, double c) { return madd_(a, b, splat(c)); }
FASTLR_INLINE v4d madd_(v4d a, double b, v4d c) { return madd_(a, splat(b), c); }

// The cosine factor (1 + cos(pi q)) / 2 of a phase fraction q in [0, 1] (a lane outside it gives
// garbage that its caller selects away). With m = min(q, 1 - q) (1 - q is exact for q >= 1/2) and
// w = (1 - cos(pi m)) / 2 in [0, 1/2], the factor is 1 - w for q <= 1/2 and w for q > 1/2 (as
// cos(pi q) = -cos(pi (1 - q))). w = z D(z), z = m * m, where D(z) = (1 - cos(pi sqrt z)) / (2 z) on
// [0, 1/4] is a degree-7 polynomial (a Chebyshev fit, max error 3e-17, i.e. 0.01 ulp of D ~ 2.2,
// derived with mpmath by tools/fit_cos_factor.py). Against a 50-digit reference on 45k points
// including q near 0, 1/2 and 1: at most 1 ulp(1) absolute error (the numpy formula: 0.75), and
// relative error 4e-16 even where the factor is tiny (the numpy formula 1 + cos loses all relative
// precision there). Exact where the spec pins values: q = 0 gives 1, q = 1 gives 0. 7 FMA in a Horner
// chain (Estrin's scheme measured no faster) plus 2 multiplies: the loop is 25% faster than with
// the previous degree-22 cos(pi r) polynomial and its sign reflection. Written once for scalars and
// 4-lane vectors (the same bits).
template <class V, class M>
FASTLR_INLINE V cos_factor_t(V q) {
    constexpr double d7 = -2.0831997313634743e-06, d6 = 5.2291431841632926e-05, d5 = -0.000964781326239933,
                     d4 = 0.012903445012937696, d3 = -0.11766531513607885, d2 = 0.6676313844259402,
                     d1 = -2.029356063208368, d0 = 2.4674011002723395;  // d0 = pi**2 / 4
    const M upper = q > 0.5;
    const V m = upper ? 1.0 - q : q;
    const V z = m * m;
    V d = madd_(z, d7, d6);
    d = madd_(z, d, d5);
    d = madd_(z, d, d4);
    d = madd_(z, d, d3);
    d = madd_(z, d, d2);
    d = madd_(z, d, d1);
    d = madd_(z, d, d0);
    const V w = z * d;
    return upper ? w : 1.0 - w;
}

FASTLR_INLINE double cos_factor_(double q) { return cos_factor_t<double, bool>(q); }

// tanh(x) = sign(x) (1 - 2 / (exp(2|x|) + 1)); absolute error ~1 ulp of 1 (what the schedule needs).
FASTLR_INLINE double tanh_(double x) {
    const double ax = fabs_(x);
    const double e = exp_(2.0 * (ax > 40.0 ? 40.0 : ax));
    const double t = 1.0 - 2.0 / (e + 1.0);
    return x < 0.0 ? -t : t;
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
