// Cyclic: PyTorch CyclicLR. Mode 0 triangular, 1 triangular2, 2 exp_range.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// cycle = floor(1 + t / total), x = 1 + t / total - cycle,
// scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1), value = base + (max - base) * scale * g
// with g = 1, 0.5 ** (cycle - 1) (exact power of two, underflows to 0, never overflows) or gamma ** t.
template <int Mode>
struct CyclicF {
    static constexpr int kOps = 5;
    static constexpr int kLogOp = Mode == 2 ? 4 : -1;
    struct P { double base, max_lr, up, down, gamma, lhi, llo; };
    static FASTLR_INLINE P load(const double* v) {
        if (Mode == 2) return {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
        return {v[0], v[1], v[2], v[3], v[4], 0.0, 0.0};
    }
    static FASTLR_INLINE double eval(double t, const P& p) {
        const double total = p.up + p.down;
        const double ratio = p.up / total;
        const double cycle = floor_(1.0 + t / total);
        const double x = 1.0 + t / total - cycle;
        const double scale = x <= ratio ? x / ratio : safe_div(x - 1.0, ratio - 1.0);
        double g = 1.0;
        if (Mode == 1) g = exp2i_(-(cycle - 1.0));
        if (Mode == 2) g = pow_log_(p.gamma, t, p.lhi, p.llo);
        return p.base + (p.max_lr - p.base) * scale * g;
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
