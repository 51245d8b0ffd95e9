// Tanh (timm): c = (1 - tanh(lower + (upper - lower) * (t / T))) / 2, blend(min, peak, c); min from T.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct TanhF {
    static constexpr int kOps = 5;
    static constexpr int kLogOp = -1;
    static constexpr bool kVec = true;  // has the vector form evalv
    // t / T stays a division: a reciprocal's ulp, times (upper - lower), is several ulps of the peak
    struct P { double peak, total, min_lr, lower, upper; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4]}; }
    // c = (1 - tanh(a)) / 2 = 1 / (1 + exp(2 a)): one exp and one division instead of tanh's exp,
    // division and sign handling, and no cancellation where c is tiny (error ~1 ulp of 1 against the
    // reference's formula). exp saturates: c = 0 for a > 355, 1 for a < -373. Two passes over a
    // block (interpreter/block.hpp, eval_passes): exp(2 a), then the rest. Written once for scalars and
    // vectors (the same operations per lane: the same bits).
    static constexpr int kPasses = 2;
    template <class V>
    static FASTLR_INLINE V pass1(V t, const P& p) {
        const V a = p.lower + (p.upper - p.lower) * (t / p.total);
        return exp_t(V(2.0 * a));
    }
    template <class V>
    static FASTLR_INLINE V pass2(V t, V exp2a, const P& p) {
        const V c = 1.0 / (1.0 + exp2a);
        const V v = blend(p.min_lr, p.peak, c);
        return t >= p.total ? p.min_lr : v;
    }
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) { return pass2(t, pass1(t, p), p); }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
