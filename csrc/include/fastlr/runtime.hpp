// Runtime services of the core: thread count, kernel dispatch, and the top-level evaluate.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "kernels.hpp"
#include "program.hpp"

namespace fastlr {

void set_num_threads(int n);   // n <= 0: hardware concurrency
int get_num_threads();
void set_portable(bool flag);  // force the baseline kernels
bool get_portable();
bool cpu_has_avx2();
const KernelTable& active_kernels();

// Sizes below this run on the calling thread only.
extern std::atomic<int64_t> parallel_threshold;
constexpr int64_t kMinChunk = 16384;
constexpr int64_t kBlockAlign = 256;  // == kBlock (chunks are whole blocks)

// Evaluates the whole output described by A (multi-threaded above the threshold).
void evaluate(const ProgramView& P, const EvalArgs& A);
inline double evaluate_scalar(const ProgramView& P, double t) { return active_kernels().run_scalar(P, t); }

}  // namespace fastlr
