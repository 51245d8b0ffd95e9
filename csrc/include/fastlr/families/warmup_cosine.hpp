// WarmupCosine: linear init -> peak on [0, W], cosine peak -> min on [W, T], min from T.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct WarmupCosineF {
    static constexpr int kOps = 5;
    static constexpr int kLogOp = -1;
    struct P { double peak, total, warm, min_lr, init; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4]}; }
    static FASTLR_INLINE double eval(double t, const P& p) {
        // one division: the warmup fraction t / W or the decay fraction (t - W) / (T - W), whichever
        // phase t is in (the same operands as the reference, so the same bits)
        const bool in_warm = t < p.warm;
        const double q = safe_div(in_warm ? t : t - p.warm, in_warm ? p.warm : p.total - p.warm);
        const double warm = blend(p.init, p.peak, q);
        const double decay = blend(p.min_lr, p.peak, cos_factor_(q));
        return t >= p.total ? p.min_lr : (t < p.warm ? warm : decay);
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
