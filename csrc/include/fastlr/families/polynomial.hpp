// Polynomial: q = (1 - min(t, T) / T) ** power; end * (1 - q) + start * q.
#pragma once

#include <cmath>

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// Power: 0 = any (libm's pow, as numpy: the exp/log form measured 2x slower, since GCC does not
// vectorize it), 1 and 2 = that power (the common linear and quadratic decays, vectorized, exact).
template <int Power>
struct PolynomialF {
    static constexpr int kOps = 4;
    static constexpr int kLogOp = -1;
    struct P { double start, end, total, power; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3]}; }
    static FASTLR_INLINE double eval(double t, const P& p) {
        const double f = dmin(t, p.total) / p.total;
        const double x = 1.0 - f;
        const double q = Power == 1 ? x : (Power == 2 ? x * x : std::pow(x, p.power));
        return blend(p.end, p.start, q);
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
