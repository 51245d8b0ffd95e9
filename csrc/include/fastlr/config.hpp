// fastlr core configuration: block size, the per-ISA namespace, small branch-free helpers.
//
// The kernels (math.hpp, families/*.hpp, interpreter.hpp) are compiled twice, once for baseline
// x86-64 and once with -mavx2, each time inside a different inline namespace chosen by
// FASTLR_ARCH_NS, so the two copies never collide at link time (no ODR violation).
//
// Floating point policy (deliberate): every TU is compiled with -ffp-contract=off and without
// -ffast-math: the compiler never fuses or reassociates. The reference (numpy) rounds every + and *
// separately; fusing the blends a*(1-c)+b*c would break the exact boundary values that the spec pins
// down. The one deliberate exception is explicit: in the AVX2 build (which requires FMA) the
// multiply-adds inside the cosine factor's polynomial are fused (math.hpp madd_), where they move the
// factor by about an ulp (the spec allows 8 ulp of the peak) and no pinned value (factor 1 at phase 0,
// 0 at phase 1) changes. Results stay bit-identical for any thread count and block split; the AVX2
// and baseline builds may differ by that ulp in the cosine families only.
#pragma once

#include <cstdint>
#include <cstring>

#ifndef FASTLR_ARCH_NS
#define FASTLR_ARCH_NS baseline
#endif

#if defined(__GNUC__)
#define FASTLR_INLINE inline __attribute__((always_inline))
#else
#define FASTLR_INLINE inline
#endif

namespace fastlr {

// Elements per block: registers are per-thread buffers of this many float64 (2 KiB each).
constexpr int64_t kBlock = 256;

namespace FASTLR_ARCH_NS {

FASTLR_INLINE double dmin(double a, double b) { return a < b ? a : b; }   // np.minimum for non-NaN
FASTLR_INLINE double dmax(double a, double b) { return a > b ? a : b; }   // np.maximum for non-NaN

// The reference's small helpers, written once for scalars and for the vectors of vec.hpp (any mix of
// a scalar and a vector argument; a vector comparison's mask selects per lane): each lane does the
// scalar form's operations.

// x clipped to [0, 1] (np.clip for non-NaN).
template <class V>
FASTLR_INLINE V clip01(V x) {
    x = x > 0.0 ? x : 0.0;
    return x < 1.0 ? x : 1.0;
}

// a at c = 0, b at c = 1 (the reference's _blend; exact at both ends).
template <class A, class B, class C>
FASTLR_INLINE auto blend(A a, B b, C c) { return a * (1.0 - c) + b * c; }

// num / den where den != 0, else 0 (the reference's _safe_div).
template <class N, class D>
FASTLR_INLINE auto safe_div(N num, D den) {
    const auto nz = den != 0.0;
    const auto q = num / (nz ? den : 1.0);
    return nz ? q : decltype(q){};
}

FASTLR_INLINE uint64_t as_u64(double x) { uint64_t u; std::memcpy(&u, &x, 8); return u; }
FASTLR_INLINE double as_f64(uint64_t u) { double x; std::memcpy(&x, &u, 8); return x; }

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
