// Exponential: min(max(lr * gamma ** e, min_lr), max_lr), e = t / step_size (floored if Staircase);
// gamma > 1 grows (max_lr = inf: no cap; the facade refuses steps where that would overflow).
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

template <int Staircase>
struct ExponentialF;

// The continuous decay: gamma ** (t / step_size) through exp of the double-double e * log(gamma).
template <>
struct ExponentialF<0> {
    static constexpr int kOps = 5;
    static constexpr int kLogOp = 1;
    static constexpr bool kVec = true;  // has the vector form evalv
    struct P { double lr, gamma, step, min_lr, max_lr, lhi, llo; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4], v[5], v[6]}; }
    // Two passes over a block (interpreter/block.hpp, eval_passes): the exponent and e * log(gamma), then
    // the exp. Written once for scalars and vectors (the same operations per lane: the same bits).
    static constexpr int kPasses = 2;
    template <class V>
    static FASTLR_INLINE PowLogArg<V> pass1(V t, const P& p) {
        return pow_log_arg_t(V(t / p.step), p.lhi, p.llo);
    }
    template <class V>
    static FASTLR_INLINE V pass2(V, const PowLogArg<V>& a, const P& p) {
        V v = p.lr * pow_log_fin_t(p.gamma, a);
        v = v > p.min_lr ? v : p.min_lr;  // dmax
        return v < p.max_lr ? v : p.max_lr;  // dmin
    }
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) { return pass2(t, pass1(t, p), p); }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

// The staircase: an integer power, ipow_t (the same bits in every backend), so the value at
// t = k * step_size is the pinned lr * gamma ** k whatever the libm.
template <>
struct ExponentialF<1> {
    static constexpr int kOps = 5;
    static constexpr int kLogOp = -1;
    static constexpr bool kVec = true;
    struct P { double lr, gamma, step, min_lr, max_lr; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4]}; }
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        V v = p.lr * ipow_t(vconst<V>(p.gamma), floor_t(V(t / p.step)));
        v = v > p.min_lr ? v : p.min_lr;  // dmax
        return v < p.max_lr ? v : p.max_lr;  // dmin
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
