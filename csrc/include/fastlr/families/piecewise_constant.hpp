// PiecewiseConstant: values[i] for boundaries[i-1] <= t < boundaries[i] (k boundaries, k + 1 values).
#pragma once

#include "../math.hpp"
#include "table_search.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

inline void piecewise_constant_block(const double* t, const double* table, int64_t k, double* cnt,
                                     double* dst, int64_t n) {
    const double* values = table + k;
    int64_t piece;
    if (n > 1 && one_piece(table, k, t, n, piece)) {
        const double v = values[piece];
        for (int64_t i = 0; i < n; ++i) dst[i] = v;
        return;
    }
    count_le(table, k, t, cnt, n);
    for (int64_t i = 0; i < n; ++i) dst[i] = values[int64_t(cnt[i])];
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
