// Tanh (timm): c = (1 - tanh(lower + (upper - lower) * (t / T))) / 2, blend(min, peak, c); min from T.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct TanhF {
    static constexpr int kOps = 5;
    static constexpr int kLogOp = -1;
    struct P { double peak, total, min_lr, lower, upper; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4]}; }
    static FASTLR_INLINE double eval(double t, const P& p) {
        const double c = 0.5 * (1.0 - tanh_(p.lower + (p.upper - p.lower) * (t / p.total)));
        return t >= p.total ? p.min_lr : blend(p.min_lr, p.peak, c);
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
