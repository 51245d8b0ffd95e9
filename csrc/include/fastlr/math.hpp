// Vectorizable elementary functions for the kernels (no libm calls, no -ffast-math): cos(pi x) here;
// exp, log, pow and floor in math_exp.hpp (each written once for scalars and vectors).
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
#include "math_exp.hpp"  // exp, log, pow, floor (scalar and vector forms)
#include "vec.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

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
FASTLR_INLINE vd madd_(vd a, vd b, vd c) { return __builtin_ia32_vfmaddpd256(a, b, c); }
#else
FASTLR_INLINE double madd_(double a, double b, double c) { return a * b + c; }
FASTLR_INLINE vd madd_(vd a, vd b, vd c) { return a * b + c; }
#endif
FASTLR_INLINE vd madd_(vd a, double b, double c) { return madd_(a, splat(b), splat(c)); }
FASTLR_INLINE vd madd_(vd a, vd b, double c) { return madd_(a, b, splat(c)); }
FASTLR_INLINE vd madd_(vd a, double b, vd c) { return madd_(a, splat(b), c); }

// The cosine factor (1 + cos(pi q)) / 2 of a phase fraction q in [0, 1] (a lane outside it gives
// garbage that its caller selects away). With m = min(q, 1 - q) (1 - q is exact for q >= 1/2) and
// w = (1 - cos(pi m)) / 2 in [0, 1/2], the factor is 1 - w for q <= 1/2 and w for q > 1/2 (as
// cos(pi q) = -cos(pi (1 - q))). w = z D(z), z = m * m, where D(z) = (1 - cos(pi sqrt z)) / (2 z) on
// [0, 1/4] is a degree-7 polynomial (a Chebyshev fit, max error 3e-17, i.e. 0.01 ulp of D ~ 2.2,
// derived with mpmath by tools/fit_cos_factor.py). Against a 50-digit reference on 45k points
// including q near 0, 1/2 and 1: at most 1 ulp(1) absolute error (the numpy formula: 0.75), and
// relative error 4e-16 even where the factor is tiny (the numpy formula 1 + cos loses all relative
// precision there). Exact where the spec pins values: q = 0 gives 1, q = 1 gives 0. 7 FMA in a Horner
// chain plus 2 multiplies: a short polynomial on the reduced argument keeps the loop cheap (the
// cosine families spend most of their time here). Written once for scalars and vectors (the same
// bits).
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

// The smallest and largest of x[0..n) (n >= 1, no NaN): a vector at a time (GCC does not vectorize
// a scalar min/max reduction without -ffast-math, and the scalar chain is latency-bound).
inline void min_max_(const double* x, int64_t n, double& lo, double& hi) {
    int64_t i = 0;
    double l = x[0], h = x[0];
    if (n >= kLanes) {
        vd vl = loadv(x), vh = vl;
        for (i = kLanes; i + kLanes <= n; i += kLanes) {
            const vd v = loadv(x + i);
            vl = v < vl ? v : vl;
            vh = v > vh ? v : vh;
        }
        for (int j = 0; j < kLanes; ++j) {
            l = dmin(l, vl[j]);
            h = dmax(h, vh[j]);
        }
    }
    for (; i < n; ++i) {
        l = dmin(l, x[i]);
        h = dmax(h, x[i]);
    }
    lo = l;
    hi = h;
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
