// StepDecay: lr * gamma ** floor(t / step_size).
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct StepDecayF {
    static constexpr int kOps = 3;
    static constexpr int kLogOp = 1;  // gamma: v[3], v[4] hold log(gamma) as hi + lo
    struct P { double lr, gamma, step, lhi, llo; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4]}; }
    static FASTLR_INLINE double eval(double t, const P& p) {
        const double e = floor_(t / p.step);
        return p.lr * pow_log_(p.gamma, e, p.lhi, p.llo);
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
