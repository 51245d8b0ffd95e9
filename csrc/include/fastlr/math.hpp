// Vectorizable elementary functions for the kernels (no libm calls, no -ffast-math): cos(pi x) here;
// exp, log, pow, tanh and floor in math_exp.hpp (each written once for scalars and 4-lane vectors).
//
// All functions are branch-free straight-line code on doubles and 64-bit integer bit patterns, so
// that GCC vectorizes the loops that call them (2 lanes with SSE2, 4 with AVX2). The polynomials are
// fdlibm's (Sun Microsystems, freely redistributable): errors below 1 ulp for exp and log, about
// 1 ulp for cospi. They give the same bits on every path (no FMA, no reassociation), so results are
// identical for any ISA, thread count and block split.
#pragma once

#include <cmath>

#include "config.hpp"
#include "math_exp.hpp"  // exp, log, pow, tanh, floor (scalar and 4-lane forms)
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

// cos(pi x) for the cosine factors, whose argument is a phase fraction in [0, 1]; valid on
// [-1/2, 3/2] (a lane outside it gives garbage that its caller selects away). The reduction is
// n = (x > 1/2), r = x - n (exact), |r| <= 1/2: the same n and r as cospi_ (round half to even).
// The same polynomial as cospi_, evaluated in Estrin's scheme (a dependency chain of 5 multiplies
// instead of 11). The result differs from cospi_ by rounding only (< 1e-16 absolute);
// cospi01_(0) = 1 and cospi01_(1) = -1 exactly (r = 0 gives v = 1 whatever the evaluation order).
// Written once for scalars and for the 4-lane vectors of vec.hpp (the same operations per lane, so
// the same bits).
// a * b + c inside the cospi01 polynomial only: one rounding (FMA) in the AVX2+FMA build
// (FASTLR_POLY_FMA), two in the baseline build. The two builds may then differ by an ulp of the
// cosine factor (the spec allows 8 ulp of the peak); every pinned value is unaffected (r = 0 gives
// z = 0 and v = 1 exactly either way). Scalar and vector forms use the same rounding in one build.
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

template <class V, class M>
FASTLR_INLINE V cospi01_t(V x) {
    constexpr double c1 = -4.934802200544679, c2 = 4.0587121264167685, c3 = -1.3352627688545895,
                     c4 = 0.2353306303588932, c5 = -0.02580689139001406, c6 = 0.0019295743094039231,
                     c7 = -0.0001046381049248457, c8 = 4.303069587032947e-06, c9 = -1.3878952462213771e-07,
                     c10 = 3.604730797462501e-09, c11 = -7.700707130601354e-11;
    const M odd = x > 0.5;
    const V r = odd ? x - 1.0 : x;
    const V z = r * r;
    const V z2 = z * z;
    const V z4 = z2 * z2;
    const V z8 = z4 * z4;
    const V a = madd_(z2, madd_(z, c4, c3), madd_(z, c2, c1));
    const V b = madd_(z2, madd_(z, c8, c7), madd_(z, c6, c5));
    const V c = madd_(z2, c11, madd_(z, c10, c9));
    const V v = madd_(z, madd_(z8, c, madd_(z4, b, a)), 1.0);
    return odd ? -v : v;
}

FASTLR_INLINE double cospi01_(double x) { return cospi01_t<double, bool>(x); }

// (1 + cos(pi p)) / 2, written as the reference writes it, for a phase fraction p in [0, 1].
FASTLR_INLINE double cos_factor_(double p) { return 0.5 * (1.0 + cospi01_(p)); }

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
