// MultiStep: lr * gamma ** (number of milestones <= t); the new value applies at t == milestone.
#pragma once

#include "../math.hpp"
#include "table_search.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// gamma ** count is ipow_ (an integer power, the same bits in every backend: the value at a milestone
// is pinned whatever the libm): a table of the k + 1 possible powers per block when gamma is constant
// over the block, else one power per element.
inline void multi_step_block(const double* t, const double* lr, const double* gamma, bool gamma_const,
                             const double* milestones, int64_t k, double* cnt, double* pw,
                             double* dst, int64_t n) {
    int64_t piece;
    if (gamma_const && n > 1 && one_piece(milestones, k, t, n, piece)) {
        // one interval between milestones (most blocks of a curve): one power
        const double pw1 = ipow_(gamma[0], double(piece));
        for (int64_t i = 0; i < n; ++i) dst[i] = lr[i] * pw1;
        return;
    }
    count_le(milestones, k, t, cnt, n);
    if (gamma_const && n > k + 1 && k + 1 <= kBlock) {
        const double g = gamma[0];
        for (int64_t j = 0; j <= k; ++j) pw[j] = ipow_(g, double(j));
        for (int64_t i = 0; i < n; ++i) dst[i] = lr[i] * pw[int64_t(cnt[i])];
    } else {
        for (int64_t i = 0; i < n; ++i) dst[i] = lr[i] * ipow_(gamma_const ? gamma[0] : gamma[i], cnt[i]);
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
