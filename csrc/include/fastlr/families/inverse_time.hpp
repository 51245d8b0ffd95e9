// InverseTime: lr / (1 + decay_rate * e), e = t / decay_steps (floored if Staircase).
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

template <int Staircase>
struct InverseTimeF {
    static constexpr int kOps = 3;
    static constexpr int kLogOp = -1;
    struct P { double lr, rate, steps; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2]}; }
    static FASTLR_INLINE double eval(double t, const P& p) {
        double e = t / p.steps;
        if (Staircase) e = floor_(e);
        return p.lr / (1.0 + p.rate * e);
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
