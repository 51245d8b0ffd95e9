// The interpreter compiled with -mavx2 -mfma (4 doubles per vector; FMA only in the cospi polynomial,
// see config.hpp).
// Only called after a run-time check that the CPU and OS support AVX2 and FMA.
#define FASTLR_ARCH_NS avx2
#define FASTLR_POLY_FMA 1  // FMA inside the cospi polynomial only (math.hpp)
#include "fastlr/interpreter.hpp"
#include "fastlr/kernels.hpp"

namespace fastlr {
extern const KernelTable kernels_avx2;
const KernelTable kernels_avx2 = {"avx2", &avx2::run_range, &avx2::run_scalar};
}
