// searchsorted(b, t, side="right") for a block: the number of entries of the sorted table b <= t.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// cnt[i] = #{j : b[j] <= t[i]} as a double. Short tables: a vectorized count; long: binary search.
inline void count_le(const double* b, int64_t k, const double* t, double* cnt, int64_t n) {
    if (k <= 16) {
        for (int64_t i = 0; i < n; ++i) cnt[i] = 0.0;
        for (int64_t j = 0; j < k; ++j) {
            const double bj = b[j];
            for (int64_t i = 0; i < n; ++i) cnt[i] += t[i] >= bj ? 1.0 : 0.0;
        }
        return;
    }
    // k > 16 >= 1. A binary search whose halving does not depend on the data (the number of rounds is
    // fixed by k: no mispredicted loop exit on random steps; a conditional move per round)
    for (int64_t i = 0; i < n; ++i) {
        const double x = t[i];
        const double* base = b;
        int64_t len = k;
        while (len > 1) {
            const int64_t half = len >> 1;
            base = base[half] <= x ? base + half : base;
            len -= half;
        }
        cnt[i] = double((base - b) + (*base <= x ? 1 : 0));
    }
}

// Whether the steps t[0..n) (n >= 1) all lie in one piece of the sorted table b, and which: the count
// of entries <= t is monotone in t, so the block's smallest and largest step (a vectorized pass)
// decide. Most blocks of a curve, or of sorted steps, are in one piece; their callers then handle
// the block with the piece's constants, the same operations per element as the general loop.
inline bool one_piece(const double* b, int64_t k, const double* t, int64_t n, int64_t& piece) {
    double lo, hi;
    min_max_(t, n, lo, hi);
    const double ends[2] = {lo, hi};
    double count[2];
    count_le(b, k, ends, count, 2);
    piece = int64_t(count[0]);
    return count[0] == count[1];
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
