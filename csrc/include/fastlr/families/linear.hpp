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
    static FASTLR_INLINE double eval(double t, const P& p) {
        const double f = dmin(t, p.total) / p.total;
        return blend(p.start, p.end, f);
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
