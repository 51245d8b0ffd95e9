// Polynomial: q = ((T - min(t, T)) / T) ** power; end * (1 - q) + start * q.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// Power: 0 = any (pow_unit_t: exp(power * log(x)), within an ulp or two of 1 of the exact power; exact for
// the powers 1, 2 and 0.5 and the bases 0 and 1), 1 and 2 = that power (the common linear and
// quadratic decays, exact), 3 = a power shared by a block that is none of 0, 0.5, 1, 2: the exp and
// log of pow_unit_t without its tests of the power, in three passes over a block (interpreter/block.hpp,
// eval_passes: the base, a division; its log; the exp and the blend). Every form gives the bits of
// the general one.
template <int Power>
struct PolynomialF {
    static constexpr int kOps = 4;
    static constexpr int kLogOp = -1;
    static constexpr bool kVec = true;  // has the vector form evalv
    static constexpr int kPasses = Power == 3 ? 3 : 0;
    struct P { double start, end, total, power; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3]}; }
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    template <class V>
    struct BaseLog { V x, y_log_x; };
    template <class V>
    static FASTLR_INLINE V pass1(V t, const P& p) {
        // the remaining fraction (T - t) / T rather than 1 - t / T: exact subtraction, so its relative
        // error stays one rounding as it goes to 0, where a power below 1 magnifies it
        const V held = t < p.total ? t : p.total;  // dmin(t, T)
        return (p.total - held) / p.total;
    }
    template <class V>
    static FASTLR_INLINE BaseLog<V> pass2(V, V x, const P& p) { return {x, p.power * log_t(x)}; }
    template <class V>
    static FASTLR_INLINE V pass3(V, const BaseLog<V>& m, const P& p) {
        return blend(p.end, p.start, pow_unit_exp_fin_t(m.x, m.y_log_x));
    }
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        const V x = pass1(t, p);
        if constexpr (Power == 1) return blend(p.end, p.start, x);
        else if constexpr (Power == 2) return blend(p.end, p.start, V(x * x));
        else if constexpr (Power == 3) return pass3(t, pass2(t, x, p), p);
        else return blend(p.end, p.start, pow_unit_t(x, p.power));
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
