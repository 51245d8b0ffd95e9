// InverseSqrt: linear init -> peak on [0, W], then peak * sqrt(max(W, 1) / max(t, 1)).
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct InverseSqrtF {
    static constexpr int kOps = 3;
    static constexpr int kLogOp = -1;
    struct P { double peak, warm, init; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2]}; }
    static FASTLR_INLINE double eval(double t, const P& p) {
        const double warm = blend(p.init, p.peak, safe_div(t, p.warm));
        const double decay = p.peak * std::sqrt(dmax(p.warm, 1.0) / dmax(t, 1.0));
        return t < p.warm ? warm : decay;
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
