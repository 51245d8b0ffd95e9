// The interpreter compiled for baseline x86-64 (SSE2): runs on any x86-64 CPU.
#define FASTLR_ARCH_NS baseline
#include "fastlr/interpreter.hpp"
#include "fastlr/kernels.hpp"

namespace fastlr {
const KernelTable kernels_baseline = {"baseline", &baseline::run_range, &baseline::run_scalar};
}
