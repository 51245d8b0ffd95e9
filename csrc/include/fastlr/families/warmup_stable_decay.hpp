// WarmupStableDecay: warmup init -> peak on [0, W], peak until T - D, decay (Shape) to min at T.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// Shape: 0 linear (1 - p), 1 cosine ((1 + cos(pi p)) / 2), 2 1-sqrt, 3 1-square.
template <int Shape>
struct WarmupStableDecayF {
    static constexpr int kOps = 6;
    static constexpr int kLogOp = -1;
    struct P { double peak, total, warm, decay, min_lr, init; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4], v[5]}; }
    static FASTLR_INLINE double shape(double x) {
        if (Shape == 0) return 1.0 - x;
        if (Shape == 1) return cos_factor_(x);
        if (Shape == 2) return 1.0 - std::sqrt(x);
        return 1.0 - x * x;
    }
    static FASTLR_INLINE double eval(double t, const P& p) {
        const double warm = blend(p.init, p.peak, safe_div(t, p.warm));
        const double decay_start = p.total - p.decay;
        const double s = shape(clip01(safe_div(t - decay_start, p.decay)));
        const double decay = blend(p.min_lr, p.peak, s);
        const double value = t < p.warm ? warm : (t < decay_start ? p.peak : decay);
        return t >= p.total ? p.min_lr : value;
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
