// 4-lane double vectors (GCC/Clang vector extensions) for the hottest family kernels.
//
// The same source compiles to one ymm operation per line with -mavx2 and to two xmm operations in
// the baseline build. Every lane does exactly the IEEE operations of the scalar code (no implicit
// FMA, no reassociation: -ffp-contract=off; math.hpp's madd_ fuses in both forms alike), so the
// vector and scalar forms of a family give the same bits.
// `m ? a : b` with a vector mask m selects per lane (blendv / and-andnot-or).
#pragma once

#include <cstdint>
#include <cstring>

#include "config.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

typedef double v4d __attribute__((vector_size(32), aligned(32)));
typedef int64_t v4m __attribute__((vector_size(32), aligned(32)));   // comparison masks (-1 / 0)
typedef uint64_t v4u __attribute__((vector_size(32), aligned(32)));  // bit patterns (math_exp.hpp)
typedef float v4f __attribute__((vector_size(16), aligned(16)));

FASTLR_INLINE v4d splat(double x) { return v4d{x, x, x, x}; }
FASTLR_INLINE void storev(double* p, v4d v) { std::memcpy(p, &v, sizeof v); }
FASTLR_INLINE void storev(float* p, v4d v) {
    const v4f f = __builtin_convertvector(v, v4f);
    std::memcpy(p, &f, sizeof f);
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
