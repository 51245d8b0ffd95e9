// InverseTime: lr / (1 + decay_rate * e), e = t / decay_steps (floored if Staircase).
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

template <int Staircase>
struct InverseTimeF {
    static constexpr int kOps = 3;
    static constexpr int kLogOp = -1;
    static constexpr bool kVec = true;  // has the vector form evalv
    struct P { double lr, rate, steps; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2]}; }
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        V e = t / p.steps;
        if constexpr (Staircase != 0) e = floor_t(e);
        return p.lr / (1.0 + p.rate * e);
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
