// PiecewiseLinear: linear interpolation through (boundaries[i], values[i]); end values outside.
#pragma once

#include "../math.hpp"
#include "table_search.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// The reference's form: index = searchsorted right, inner = clip(index, 1, max(k - 1, 1)),
// f = clip((t - left) / (right - left), 0, 1), value = blend(v[inner-1], v[min(inner, k-1)], f).
inline void piecewise_linear_block(const double* t, const double* table, int64_t k, double* cnt,
                                   double* dst, int64_t n) {
    const double* b = table;
    const double* v = table + k;
    const int64_t hi_clip = k - 1 > 1 ? k - 1 : 1;
    int64_t piece;
    if (n > 1 && one_piece(table, k, t, n, piece)) {
        // one segment (or one end): its ends once, then a loop without gathers that vectorizes
        if (piece == 0 || piece >= k) {
            const double end = piece == 0 ? v[0] : v[k - 1];
            for (int64_t i = 0; i < n; ++i) dst[i] = end;
            return;
        }
        const int64_t inner = piece > hi_clip ? hi_clip : piece;
        const int64_t r = inner < k - 1 ? inner : k - 1;
        const double left = b[inner - 1], width = b[r] - b[inner - 1], from = v[inner - 1], to = v[r];
        for (int64_t i = 0; i < n; ++i) dst[i] = blend(from, to, clip01(safe_div(t[i] - left, width)));
        return;
    }
    count_le(table, k, t, cnt, n);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t index = int64_t(cnt[i]);
        const int64_t inner = index < 1 ? 1 : (index > hi_clip ? hi_clip : index);
        const int64_t r = inner < k - 1 ? inner : k - 1;
        const double left = b[inner - 1], right = b[r];
        const double f = clip01(safe_div(t[i] - left, right - left));
        const double value = blend(v[inner - 1], v[r], f);
        dst[i] = index == 0 ? v[0] : (index >= k ? v[k - 1] : value);
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
