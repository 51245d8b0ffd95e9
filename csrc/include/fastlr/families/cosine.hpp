// Cosine: c = (1 + cos(pi min(t, T) / T)) / 2; min * (1 - c) + peak * c.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct CosineF {
    static constexpr int kOps = 3;
    static constexpr int kLogOp = -1;
    struct P { double peak, total, min_lr; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2]}; }
    static FASTLR_INLINE double eval(double t, const P& p) {
        const double x = dmin(t, p.total) / p.total;
        return blend(p.min_lr, p.peak, cos_factor_(x));
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
