// WarmupCosine: linear init -> peak on [0, W], cosine peak -> min on [W, T], min from T.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct WarmupCosineF {
    static constexpr int kOps = 5;
    static constexpr int kLogOp = -1;
    static constexpr bool kVec = true;  // has the vector form evalv
    // iw = 1 / W and id = 1 / (T - W) (0 where the reference's _safe_div gives 0; capped at DBL_MAX
    // so that a subnormal denominator still gives q = 0 at t = 0, not NaN), once per parameter set.
    struct P { double peak, total, warm, min_lr, init, iw, id; };
    static FASTLR_INLINE P load(const double* v) {
        const double dw = v[1] - v[2];
        return {v[0], v[1], v[2], v[3], v[4], dmin(safe_div(1.0, v[2]), 1.7976931348623157e308),
                dmin(safe_div(1.0, dw), 1.7976931348623157e308)};
    }
    // The phase fraction q = t / W (warmup) or (t - W) / (T - W) (decay), as a product with the
    // reciprocal: within an ulp of the quotient (the spec allows 8 ulp of the peak), and exact where
    // the spec pins the value: q = 0 at t = 0 and at t = W (the decay branch), and t >= T selects
    // min_lr. One blend: warmup blends init -> peak by q, decay min -> peak by the cosine factor (the
    // same operations per lane as evaluating both and selecting). Scalar and vector forms.
    template <class V, class M, class Pk>
    static FASTLR_INLINE V eval_t(V t, const P& p, Pk peak) {
        const M in_warm = t < p.warm;
        const V qw = t * p.iw;
        const V qd = (t - p.warm) * p.id;
        const V cf = cos_factor_t<V, M>(qd);
        const V c = in_warm ? qw : cf;
        const V a = in_warm ? p.init : p.min_lr;
        const V v = blend(a, peak, c);
        return t >= p.total ? p.min_lr : v;
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t<double, bool>(t, p, p.peak); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t<vd, vm>(t, p, p.peak); }
    // Steps known to lie in [W, T) (a whole chunk of a curve): the decay lanes' operations only
    // (the same bits as eval_t, which selects them there).
    static FASTLR_INLINE bool in_decay(double lo, double hi, const P& p) { return p.warm <= lo && hi < p.total; }
    static FASTLR_INLINE vd evalv_decay(vd t, const P& p) {
        const vd cf = cos_factor_t<vd, vm>((t - p.warm) * p.id);
        return blend(p.min_lr, p.peak, cf);
    }
    // peak_lr (operand 0) per lane, the other parameters shared (per-parameter schedules)
    static constexpr bool kVecOp0 = true;
    static FASTLR_INLINE vd evalv0(vd t, vd peak, const P& p) { return eval_t<vd, vm>(t, p, peak); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
