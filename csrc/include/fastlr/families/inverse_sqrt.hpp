// InverseSqrt: linear init -> peak on [0, W], then peak * sqrt(max(W, 1) / max(t, 1)).
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct InverseSqrtF {
    static constexpr int kOps = 3;
    static constexpr int kLogOp = -1;
    static constexpr bool kVec = true;  // has the vector form evalv
    struct P { double peak, warm, init; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2]}; }
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        const V warm = blend(p.init, p.peak, safe_div(t, p.warm));
        const V decay = p.peak * sqrt_(V(dmax(p.warm, 1.0) / (t > 1.0 ? t : 1.0)));
        return t < p.warm ? warm : decay;
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
