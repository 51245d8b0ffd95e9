// The per-ISA kernel entry points (baseline x86-64 and AVX2), selected at run time.
#pragma once

#include <cstdint>

#include "program.hpp"

namespace fastlr {

struct KernelTable {
    const char* name;
    void (*run_range)(const ProgramView&, const EvalArgs&, int64_t begin, int64_t end);
    double (*run_scalar)(const ProgramView&, double t);
};

extern const KernelTable kernels_baseline;
#if defined(FASTLR_HAVE_AVX2)
extern const KernelTable kernels_avx2;
#endif

}  // namespace fastlr
