// Exponential: max(lr * gamma ** e, min_lr), e = t / step_size (floored if Staircase).
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

template <int Staircase>
struct ExponentialF {
    static constexpr int kOps = 4;
    static constexpr int kLogOp = 1;
    struct P { double lr, gamma, step, min_lr, lhi, llo; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4], v[5]}; }
    static FASTLR_INLINE double eval(double t, const P& p) {
        double e = t / p.step;
        if (Staircase) e = floor_(e);
        return dmax(p.lr * pow_log_(p.gamma, e, p.lhi, p.llo), p.min_lr);
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
