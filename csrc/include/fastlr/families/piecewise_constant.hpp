// PiecewiseConstant: values[i] for boundaries[i-1] <= t < boundaries[i] (k boundaries, k + 1 values).
#pragma once

#include "../math.hpp"
#include "table_search.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

inline void piecewise_constant_block(const double* t, const double* table, int64_t k, double* cnt,
                                     double* dst, int64_t n) {
    const double* values = table + k;
    if (n > 1) {
        // a block whose steps all lie in one piece (most blocks of a curve, or of sorted steps) is
        // one value: found from the block's smallest and largest step (a vectorized pass), then filled
        double lo, hi;
        min_max_(t, n, lo, hi);
        const double ends[2] = {lo, hi};
        double piece[2];
        count_le(table, k, ends, piece, 2);
        if (piece[0] == piece[1]) {
            const double v = values[int64_t(piece[0])];
            for (int64_t i = 0; i < n; ++i) dst[i] = v;
            return;
        }
    }
    count_le(table, k, t, cnt, n);
    for (int64_t i = 0; i < n; ++i) dst[i] = values[int64_t(cnt[i])];
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
