// WarmupStableDecay: warmup init -> peak on [0, W], peak until max(T - D, W), decay (Shape) to min at T.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// Shape: 0 linear (1 - p), 1 cosine ((1 + cos(pi p)) / 2), 2 1-sqrt, 3 1-square.
template <int Shape>
struct WarmupStableDecayF {
    static constexpr int kOps = 6;
    static constexpr int kLogOp = -1;
    static constexpr bool kVec = true;  // has the vector form evalv
    // the parameters and the start of the decay max(T - D, W) (derived once per parameter set: where
    // T - D rounds below W the decay still starts at the peak); the divisions by W and D stay true
    // divisions, as in the reference
    struct P { double peak, total, warm, decay, min_lr, init, decay_start; };
    static FASTLR_INLINE P load(const double* v) {
        return {v[0], v[1], v[2], v[3], v[4], v[5], dmax(v[1] - v[3], v[2])};
    }
    template <class V>
    static FASTLR_INLINE V shape(V x) {
        if constexpr (Shape == 0) return 1.0 - x;
        else if constexpr (Shape == 1) return cos_factor_t<V, mask_t<V>>(x);
        else if constexpr (Shape == 2) return 1.0 - sqrt_(x);
        else return 1.0 - x * x;
    }
    // From the end of the warmup on: peak until the decay start, then the decay (the reference's
    // clip01(_safe_div(t - decay_start, D)) through the shape, blended min -> peak).
    template <class V>
    static FASTLR_INLINE V stable_decay(V t, const P& p) {
        const V s = shape(clip01(safe_div(V(t - p.decay_start), p.decay)));
        const V decay = blend(p.min_lr, p.peak, s);
        return t < p.decay_start ? vconst<V>(p.peak) : decay;
    }
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        const V warm = blend(p.init, p.peak, safe_div(t, p.warm));
        const V value = t < p.warm ? warm : stable_decay(t, p);
        return t >= p.total ? p.min_lr : value;
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
    // Steps known to lie in [W, T) (a whole chunk of a curve): without the warmup's division (the
    // same bits as eval_t, which selects stable_decay there).
    static FASTLR_INLINE bool in_decay(double lo, double hi, const P& p) { return p.warm <= lo && hi < p.total; }
    static FASTLR_INLINE vd evalv_decay(vd t, const P& p) { return stable_decay(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
