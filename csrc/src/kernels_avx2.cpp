// The interpreter compiled with -mavx2 (4 doubles per vector; no FMA, see config.hpp).
// Only called after a run-time check that the CPU and OS support AVX2.
#define FASTLR_ARCH_NS avx2
#include "fastlr/interpreter.hpp"
#include "fastlr/kernels.hpp"

namespace fastlr {
extern const KernelTable kernels_avx2;
const KernelTable kernels_avx2 = {"avx2", &avx2::run_range, &avx2::run_scalar};
}
