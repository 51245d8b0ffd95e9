// Linear: f = min(t, T) / T; start * (1 - f) + end * f.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct LinearF {
    static constexpr int kOps = 3;
    static constexpr int kLogOp = -1;
    struct P { double start, end, total; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2]}; }
    static constexpr bool kVec = true;  // has the vector form evalv
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        // a true division: the reference's bits (the loop is store-bound, so a reciprocal would
        // gain nothing)
        const V f = (t < p.total ? t : p.total) / p.total;  // dmin
        return blend(p.start, p.end, f);
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
