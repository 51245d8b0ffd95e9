// Cosine: c = (1 + cos(pi min(t, T) / T)) / 2; min * (1 - c) + peak * c.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct CosineF {
    static constexpr int kOps = 3;
    static constexpr int kLogOp = -1;
    // it = 1 / T once per parameter set: t * it is within an ulp of t / T (moving the factor by
    // ~1e-16), and the pinned ends stay exact: x = 0 at t = 0, x = 1 selected from T on
    struct P { double peak, total, min_lr, it; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], 1.0 / v[1]}; }
    static constexpr bool kVec = true;  // has the vector form evalv
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        const V x = t < p.total ? t * p.it : vconst<V>(1.0);
        const V c = cos_factor_t<V, mask_t<V>>(x);
        return blend(p.min_lr, p.peak, c);
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
