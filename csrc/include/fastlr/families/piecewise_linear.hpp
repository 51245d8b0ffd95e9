// PiecewiseLinear: linear interpolation through (boundaries[i], values[i]); end values outside.
#pragma once

#include "../math.hpp"
#include "table_search.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// The reference's form: index = searchsorted right, inner = clip(index, 1, max(k - 1, 1)),
// f = clip((t - left) / (right - left), 0, 1), value = blend(v[inner-1], v[min(inner, k-1)], f);
// v[0] for index 0, v[k - 1] for index >= k.
struct PiecewiseSegment {
    double left, width, from, to;
    PiecewiseSegment(const double* b, const double* v, int64_t k, int64_t index) {
        const int64_t hi_clip = k - 1 > 1 ? k - 1 : 1;
        const int64_t inner = index < 1 ? 1 : (index > hi_clip ? hi_clip : index);
        const int64_t r = inner < k - 1 ? inner : k - 1;
        left = b[inner - 1];
        width = b[r] - b[inner - 1];
        from = v[inner - 1];
        to = v[r];
    }
    FASTLR_INLINE double at(double t) const { return blend(from, to, clip01(safe_div(t - left, width))); }
};

inline void piecewise_linear_block(const double* t, const double* table, int64_t k, double* cnt,
                                   double* dst, int64_t n) {
    const double* b = table;
    const double* v = table + k;
    int64_t piece;
    if (n > 1 && one_piece(table, k, t, n, piece)) {
        // one segment (or one end): its ends once, then a loop without gathers that vectorizes
        if (piece == 0 || piece >= k) {
            const double end = piece == 0 ? v[0] : v[k - 1];
            for (int64_t i = 0; i < n; ++i) dst[i] = end;
            return;
        }
        const PiecewiseSegment seg(b, v, k, piece);
        for (int64_t i = 0; i < n; ++i) dst[i] = seg.at(t[i]);
        return;
    }
    count_le(table, k, t, cnt, n);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t index = int64_t(cnt[i]);
        const double value = PiecewiseSegment(b, v, k, index).at(t[i]);
        dst[i] = index == 0 ? v[0] : (index >= k ? v[k - 1] : value);
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
