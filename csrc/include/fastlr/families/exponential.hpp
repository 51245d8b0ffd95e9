// Exponential: max(lr * gamma ** e, min_lr), e = t / step_size (floored if Staircase).
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

template <int Staircase>
struct ExponentialF {
    static constexpr int kOps = 4;
    static constexpr int kLogOp = 1;
    static constexpr bool kVec = true;  // has the vector form evalv
    struct P { double lr, gamma, step, min_lr, lhi, llo; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4], v[5]}; }
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        V e = t / p.step;
        if constexpr (Staircase != 0) e = floor_t(e);
        const V v = p.lr * pow_log_t(p.gamma, e, p.lhi, p.llo);
        return v > p.min_lr ? v : p.min_lr;  // dmax
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
