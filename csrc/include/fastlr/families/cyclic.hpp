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
    static constexpr bool kVec = true;  // has the vector form evalv
    // the parameters, with the cycle length and the rising fraction (derived once per parameter set)
    struct P { double base, max_lr, gamma, lhi, llo, total, ratio; };
    static FASTLR_INLINE P load(const double* v) {
        const double total = v[2] + v[3];
        if (Mode == 2) return {v[0], v[1], v[4], v[5], v[6], total, v[2] / total};
        return {v[0], v[1], v[4], 0.0, 0.0, total, v[2] / total};
    }
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        const V u = 1.0 + t / p.total;
        const V cycle = floor_t(u);
        const V x = u - cycle;
        const V scale = x <= p.ratio ? V(x / p.ratio) : V(safe_div(V(x - 1.0), p.ratio - 1.0));
        V g = vconst<V>(1.0);
        if constexpr (Mode == 1) g = exp2i_t(V(-(cycle - 1.0)));
        if constexpr (Mode == 2) g = pow_log_t(p.gamma, t, p.lhi, p.llo);
        return p.base + (p.max_lr - p.base) * scale * g;
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
