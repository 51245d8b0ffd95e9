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
    for (int64_t i = 0; i < n; ++i) {
        const double x = t[i];
        int64_t lo = 0, len = k;
        while (len > 0) {
            const int64_t half = len >> 1;
            const bool right = b[lo + half] <= x;
            lo = right ? lo + half + 1 : lo;
            len = right ? len - half - 1 : half;
        }
        cnt[i] = double(lo);
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
