// Double vectors (GCC/Clang vector extensions) for the hottest family kernels: 4 lanes (one ymm
// register) in the AVX2 build, 2 lanes (one xmm register) in the baseline x86-64 build.
//
// Why not 4 lanes everywhere: without AVX, GCC splits 4-lane arithmetic into two SSE2 operations
// but lowers a 4-lane comparison and its select `m ? a : b` lane by lane, through the stack (store
// forwarding stalls), which costs more than the arithmetic it vectorizes. At the native width each
// comparison is one cmppd and each select and/andnot/or.
//
// Every lane does exactly the IEEE operations of the scalar code (no implicit FMA, no
// reassociation: -ffp-contract=off; math.hpp's madd_ fuses in both forms alike), so the vector and
// scalar forms of a family give the same bits, whatever the width.
// `m ? a : b` with a vector mask m selects per lane (blendv / and-andnot-or).
#pragma once

#include <cstdint>
#include <cstring>

#include "config.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

#if defined(__AVX__)
constexpr int kLanes = 4;
#else
constexpr int kLanes = 2;
#endif

typedef double vd __attribute__((vector_size(8 * kLanes), aligned(8 * kLanes)));
typedef int64_t vm __attribute__((vector_size(8 * kLanes), aligned(8 * kLanes)));   // comparison masks (-1 / 0)
typedef uint64_t vu __attribute__((vector_size(8 * kLanes), aligned(8 * kLanes)));  // bit patterns (math_exp.hpp)
typedef float vf __attribute__((vector_size(4 * kLanes), aligned(4 * kLanes)));

FASTLR_INLINE vd splat(double x) {
    vd v;
    for (int i = 0; i < kLanes; ++i) v[i] = x;
    return v;
}
// 0, 1, ..., kLanes - 1
FASTLR_INLINE vd lane_index() {
    vd v;
    for (int i = 0; i < kLanes; ++i) v[i] = double(i);
    return v;
}
FASTLR_INLINE vd loadv(const double* p) {
    vd v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
FASTLR_INLINE void storev(double* p, vd v) { std::memcpy(p, &v, sizeof v); }
FASTLR_INLINE void storev(float* p, vd v) {
    const vf f = __builtin_convertvector(v, vf);
    std::memcpy(p, &f, sizeof f);
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
