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
    return m * safe_div(c * (std::pow(m, i - 1.0) - 1.0), m - 1.0) + c;
}

inline void restart_set(RestartState& st, double i, double c, double m, double d) {
    st.c = c; st.m = m; st.d = d; st.i = i;
    st.s0 = restart_start(i, c, m);
    st.s1 = restart_start(i + 1.0, c, m);
    st.pm = std::pow(m, i);
    st.pd = std::pow(d, i);
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
        double k = gi[i];
        if (!(c == st.c && m == st.m && d == st.d && k == st.i)) restart_set(st, k, c, m, d);
        for (int it = 0; it < 64; ++it) {  // the guess is off by at most one; bounded anyway
            if (st.s1 <= x) {
                restart_set(st, st.i + 1.0, c, m, d);
            } else if (st.i > 0.0 && st.s0 > x) {
                restart_set(st, st.i - 1.0, c, m, d);
            } else {
                break;
            }
        }
        gi[i] = st.i; S[i] = st.s0; PM[i] = st.pm; PD[i] = st.pd;
    }
    for (int64_t i = 0; i < n; ++i) {
        const double x = (t[i] - S[i]) / (C[i] * PM[i]);
        const double cycle_peak = peak[i] * PD[i];
        const double value = blend(min_lr[i], cycle_peak, cos_factor_(x));
        dst[i] = gi[i] >= limit[i] ? min_lr[i] : value;
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
