// OneCycle: PyTorch OneCycleLR's closed form on [0, T - 1], held from T - 1 on.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// Mode bit 0: linear anneal (else cosine); bit 1: three phases. The phase is chosen first (a step
// belongs to the first phase whose end it does not pass), then one annealing factor is computed:
// the same values as the reference, which evaluates every phase and selects.
template <int Mode>
struct OneCycleF {
    static constexpr int kOps = 5;
    static constexpr int kLogOp = -1;
    static constexpr bool kLinear = (Mode & 1) != 0;
    static constexpr bool kThree = (Mode & 2) != 0;
    struct P { double max_lr, total, pct, div, final_div; };
    static FASTLR_INLINE P load(const double* v) { return {v[0], v[1], v[2], v[3], v[4]}; }
    static FASTLR_INLINE double eval(double t, const P& p) {
        const double initial = p.max_lr / p.div;
        const double fin = initial / p.final_div;
        const double first_end = p.pct * p.total - 1.0;
        const double last_end = p.total - 1.0;
        const double th = dmin(t, last_end);
        double start, end, from, to;
        if (kThree) {
            const double mid_end = 2.0 * p.pct * p.total - 2.0;
            const bool in1 = th <= first_end;
            const bool in2 = !in1 && th <= mid_end;
            start = in1 ? 0.0 : (in2 ? first_end : mid_end);
            end = in1 ? first_end : (in2 ? mid_end : last_end);
            from = in1 ? initial : (in2 ? p.max_lr : initial);
            to = in1 ? p.max_lr : (in2 ? initial : fin);
        } else {
            const bool in1 = th <= first_end;
            start = in1 ? 0.0 : first_end;
            end = in1 ? first_end : last_end;
            from = in1 ? initial : p.max_lr;
            to = in1 ? p.max_lr : fin;
        }
        double q = clip01(safe_div(th - start, end - start));
        q = (end - start) <= 0.0 ? 1.0 : q;
        const double c = kLinear ? 1.0 - q : cos_factor_(q);
        return blend(to, from, c);  // q = 1 from T - 1 on: exactly the phase's end value
    }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
