// StepDecay: lr * gamma ** floor(t / step_size).
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// The power is ipow_t (math_exp.hpp): an integer power, the same bits in every backend, so the
// value at a milestone k * step_size is the pinned lr * gamma ** k whatever the libm.
struct StepDecayF {
    static constexpr int kOps = 3;
    static constexpr int kLogOp = -1;
    static constexpr bool kVec = true;
    struct P { double lr, gamma, step; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2]}; }
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        return p.lr * ipow_t(vconst<V>(p.gamma), floor_t(V(t / p.step)));
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

// With block-constant parameters consecutive steps share the exponent: one power per distinct
// exponent (a block of a curve usually needs one or two).
inline void step_decay_const(const double* t, double lr, double gamma, double step, double* e, double* dst,
                             int64_t n) {
    for (int64_t i = 0; i < n; ++i) e[i] = floor_(t[i] / step);
    double lo, hi;
    min_max_(e, n, lo, hi);
    if (lo == hi) {  // one stair (most blocks of a curve): a plain fill
        const double value = lr * ipow_(gamma, lo);
        for (int64_t i = 0; i < n; ++i) dst[i] = value;
        return;
    }
    double last = NAN, value = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        if (!(e[i] == last)) { last = e[i]; value = lr * ipow_(gamma, last); }
        dst[i] = value;
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
