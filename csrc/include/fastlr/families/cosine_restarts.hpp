// CosineRestarts (SGDR): cycle i starts at S_i, lasts c * m**i, peaks at peak * d**i; min from cycle_limit.
#pragma once

#include "../math.hpp"
#include "table_search.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// Operands: peak, c (cycle_steps), min_lr, m (cycle_mult), d (cycle_decay), limit (inf = none).
// S_i = c * i if m == 1 else m * S_{i-1} + c on top of the closed form (see restart_start).
// Three passes per block: (1) a vectorized floor(log) guess of i, (2) the exact correction against
// the starts (scalar, memoized: consecutive steps share a cycle), (3) the vectorized cosine.
struct RestartState {
    double c = NAN, m = NAN, d = NAN, i = -1.0;
    double s0 = 0, s1 = 0, pm = 1, pd = 1;
};

// One recurrence step on the closed form, S_i = m * S_{i-1} + c: exact starts for integer c and m up
// to 2**53 (the closed form alone rounds 10.0**16 - 1 to 1e16). As the reference's _restart_start.
FASTLR_INLINE double restart_start(double i, double c, double m) {
    if (m == 1.0) return c * i;
    if (i <= 0.0) return 0.0;
    return m * safe_div(c * (ipow_(m, i - 1.0) - 1.0), m - 1.0) + c;
}

inline void restart_set(RestartState& st, double i, double c, double m, double d) {
    st.c = c; st.m = m; st.d = d; st.i = i;
    st.s0 = restart_start(i, c, m);
    st.s1 = restart_start(i + 1.0, c, m);
    st.pm = ipow_(m, i);
    st.pd = ipow_(d, i);
}

// From the guess g (memoized in st when it is unchanged), move to the cycle whose exact starts bracket
// x: S_i <= x < S_{i+1}. The guess is off by at most one; the 64-step bound matches the reference's
// (an index clamped at 2**53 cannot move).
inline void restart_correct(RestartState& st, double x, double g, double c, double m, double d) {
    if (!(c == st.c && m == st.m && d == st.d && g == st.i)) restart_set(st, g, c, m, d);
    for (int it = 0; it < 64; ++it) {
        if (st.s1 <= x) {
            restart_set(st, st.i + 1.0, c, m, d);
        } else if (st.i > 0.0 && st.s0 > x) {
            restart_set(st, st.i - 1.0, c, m, d);
        } else {
            break;
        }
    }
}

// The cycle of step x (scalar): the floor(log) guess, then the exact correction against the starts.
inline void restart_find(RestartState& st, double x, double c, double m, double d) {
    double g = m == 1.0 ? std::floor(x / c) : std::floor(std::log(1.0 + x * (m - 1.0) / c) / std::log(m));
    g = g > 0.0 ? g : 0.0;  // also maps NaN to 0
    g = g < 9007199254740992.0 ? g : 9007199254740992.0;
    restart_correct(st, x, g, c, m, d);
}

// All six parameters constant over the block: when the block's smallest and largest steps lie in
// the same cycle (almost every block of a curve), every element shares S_i, m**i and d**i and the
// block is one vectorized pass with the same operations per element as the general path below.
// Returns false (nothing written) when the block spans a restart.
inline bool cosine_restarts_uniform(const double* t, double peak, double c, double min_lr, double m, double d,
                                    double limit, double* dst, int64_t n) {
    if (n <= 0) return true;
    double lo = t[0], hi = t[0];
    for (int64_t i = 0; i < n; ++i) { lo = dmin(lo, t[i]); hi = dmax(hi, t[i]); }
    // the cycle found for the previous block of this thread, if it still applies (the state is keyed
    // by c, m, d and holds exact starts, so reusing it gives the same cycle as searching again)
    static thread_local RestartState a;
    if (!(a.c == c && a.m == m && a.d == d && a.s0 <= lo && lo < a.s1 && (a.i > 0.0 || a.s0 <= lo)))
        restart_find(a, lo, c, m, d);
    if (!(hi < a.s1)) return false;  // the block reaches the next cycle (or NaN parameters)
    // p = (t - S_i) / len as in the general path (a reciprocal would make a curve differ from the
    // same steps evaluated through the general path)
    const double S = a.s0, len = c * a.pm, cycle_peak = peak * a.pd;
    if (a.i >= limit) {
        for (int64_t i = 0; i < n; ++i) dst[i] = min_lr;
        return true;
    }
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {  // the vector form of the scalar loop below (the same bits)
        const vd x = (loadv(t + i) - S) / len;
        const vd cf = cos_factor_t<vd, vm>(x);
        storev(dst + i, blend(min_lr, cycle_peak, cf));
    }
    for (; i < n; ++i) {
        const double x = (t[i] - S) / len;
        dst[i] = blend(min_lr, cycle_peak, cos_factor_(x));
    }
    return true;
}

inline void cosine_restarts_block(const double* t, const double* peak, const double* C,
                                  const double* min_lr, const double* M, const double* D,
                                  const double* limit, bool cm_const, double* gi,
                                  double* S, double* PM, double* PD, double* dst, int64_t n) {
    // (1) the guess (any rounding is fine here: pass 2 corrects it against the exact starts)
    if (cm_const && M[0] == 1.0) {
        const double ic = 1.0 / C[0];
        for (int64_t i = 0; i < n; ++i) gi[i] = floor_(t[i] * ic);
    } else if (cm_const) {
        const double a = (M[0] - 1.0) / C[0], il = 1.0 / std::log(M[0]);
        for (int64_t i = 0; i < n; ++i) gi[i] = floor_(log_(1.0 + t[i] * a) * il);
    } else {
        for (int64_t i = 0; i < n; ++i) {
            const double c = C[i], m = M[i];
            const double geo = floor_(log_(1.0 + t[i] * (m - 1.0) / c) / log_(m == 1.0 ? 2.0 : m));
            gi[i] = m == 1.0 ? floor_(t[i] / c) : geo;
        }
    }
    for (int64_t i = 0; i < n; ++i) {
        const double g = gi[i] > 0.0 ? gi[i] : 0.0;  // also maps NaN to 0
        gi[i] = g < 9007199254740992.0 ? g : 9007199254740992.0;
    }
    RestartState st;
    for (int64_t i = 0; i < n; ++i) {
        const double c = C[i], m = M[i], d = D[i], x = t[i];
        restart_correct(st, x, gi[i], c, m, d);
        gi[i] = st.i; S[i] = st.s0; PM[i] = st.pm; PD[i] = st.pd;
    }
    for (int64_t i = 0; i < n; ++i) {
        const double x = (t[i] - S[i]) / (C[i] * PM[i]);
        const double cycle_peak = peak[i] * PD[i];
        // x leaves [0, 1) only when the cycle index is clamped at 2**53 cycles: full-range cosine there,
        // the [0, 1] polynomial of the uniform path otherwise (the same bits for a curve either way)
        const double cf = (x >= 0.0 && x <= 1.0) ? cos_factor_(x) : 0.5 * (1.0 + cospi_(x));
        const double value = blend(min_lr[i], cycle_peak, cf);
        dst[i] = gi[i] >= limit[i] ? min_lr[i] : value;
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
