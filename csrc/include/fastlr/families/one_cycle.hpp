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
    static constexpr bool kVec = true;  // has the vector form evalv
    // the parameters and the phase ends, derived once per parameter set (the same operations as the
    // reference's)
    struct P { double max_lr, initial, fin, first_end, mid_end, last_end; };
    static FASTLR_INLINE P load(const double* v) {
        const double max_lr = v[0], total = v[1], pct = v[2];
        const double initial = max_lr / v[3];
        return {max_lr, initial, initial / v[4], pct * total - 1.0, 2.0 * pct * total - 2.0, total - 1.0};
    }
    // The cosine anneal runs in two passes over a block (interpreter/block.hpp, eval_passes): the phase and
    // its fraction q (a division), then the cosine factor and the blend; the linear anneal's chain is
    // short, so it stays one loop (the passes' extra stores would cost more than they overlap).
    // Written once for scalars and vectors (the same operations per lane: the same bits).
    static constexpr int kPasses = kLinear ? 0 : 2;
    template <class V>
    struct Phase { V q, from, to; };
    template <class V>
    static FASTLR_INLINE Phase<V> pass1(V t, const P& p) {
        using M = mask_t<V>;
        const V th = t < p.last_end ? t : p.last_end;  // dmin
        V start, end, from, to;
        const M in1 = th <= p.first_end;
        if (kThree) {
            const M le_mid = th <= p.mid_end;  // in the second phase where !in1
            start = in1 ? 0.0 : (le_mid ? p.first_end : p.mid_end);
            end = in1 ? p.first_end : (le_mid ? p.mid_end : p.last_end);
            from = in1 ? p.initial : (le_mid ? p.max_lr : p.initial);
            to = in1 ? p.max_lr : (le_mid ? p.initial : p.fin);
        } else {
            start = in1 ? 0.0 : p.first_end;
            end = in1 ? p.first_end : p.last_end;
            from = in1 ? p.initial : p.max_lr;
            to = in1 ? p.max_lr : p.fin;
        }
        // q = (th - start) / (end - start), a true division: a reciprocal would move q by an ulp,
        // which in the linear anneal is many ulps of a small final value
        const V den = end - start;
        V q = clip01(safe_div(V(th - start), den));
        q = den <= 0.0 ? 1.0 : q;
        return {q, from, to};
    }
    template <class V>
    static FASTLR_INLINE V pass2(V, const Phase<V>& ph, const P&) {
        V c;
        if (kLinear) c = 1.0 - ph.q;
        else c = cos_factor_t<V, mask_t<V>>(ph.q);
        return blend(ph.to, ph.from, c);  // q = 1 from T - 1 on: exactly the phase's end value
    }
    template <class V>
    static FASTLR_INLINE V eval_t(V t, const P& p) { return pass2(t, pass1(t, p), p); }
    static FASTLR_INLINE double eval(double t, const P& p) { return eval_t(t, p); }
    static FASTLR_INLINE vd evalv(vd t, const P& p) { return eval_t(t, p); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
