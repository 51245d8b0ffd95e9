// Polynomial: q = (1 - min(t, T) / T) ** power; end * (1 - q) + start * q.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// Power: 0 = any (pow_unit_t: exp(power * log(x)), within an ulp or two of 1 of numpy's pow; exact for
// the powers 1, 2 and 0.5 and the bases 0 and 1), 1 and 2 = that power (the common linear and
// quadratic decays, exact).
template <int Power>
struct PolynomialF {
    static constexpr int kOps = 4;
    static constexpr int kLogOp = -1;
    static constexpr bool kVec = true;  // has the vector form evalv
    struct P { double start, end, total, power; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3]}; }
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) {
        const V f = (t < p.total ? t : p.total) / p.total;  // dmin(t, T) / T
        const V x = 1.0 - f;
        V q;
        if constexpr (Power == 1) q = x;
        else if constexpr (Power == 2) q = x * x;
        else q = pow_unit_t(x, p.power);
        return p.end * (1.0 - q) + p.start * q;  // blend(end, start, q)
    }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
