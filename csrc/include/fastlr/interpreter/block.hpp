// One block of the interpreter: the per-thread Block state (registers, operands, scratch) and the
// loop that runs one family functor over a block (vector forms, passes, per-element operands).
#pragma once

#include <cmath>
#include <vector>

#include "../config.hpp"
#include "../math.hpp"
#include "../program.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// Step j of a curve's row: start + (k0 + j * stride), k0 the row's first index times the stride.
// Every path (block, fused, scalar tail) computes it this way; the indices are integers below 2**53,
// so the sums are exact and every path sees the same steps.
FASTLR_INLINE double curve_step(double start, double k0, double j, double stride) { return start + (k0 + j * stride); }

constexpr int kScratch = 16;  // scratch block buffers per thread

// Per-thread state of one block.
struct Block {
    const ProgramView* prog = nullptr;
    int64_t n = 0;                       // elements in this block
    std::vector<const double*> reg;      // register pointers (read)
    std::vector<double*> wreg;           // register pointers (write)
    std::vector<const double*> opp;      // operand pointers for this block
    std::vector<char> op_const;          // operand constant over this block (read opp[k][0])
    std::vector<char> op_full;           // opp[k] holds n valid elements
    double* scratch = nullptr;           // kScratch * kBlock
    int scratch_used = 0;

    double* take_scratch() { return scratch + (scratch_used++) * kBlock; }

    // n valid elements of operand k (fills a scratch buffer for a block constant).
    const double* full(int64_t k) {
        if (op_full[k]) return opp[k];
        double* b = take_scratch();
        const double v = opp[k][0];
        for (int64_t i = 0; i < n; ++i) b[i] = v;
        return b;
    }
};

template <class F, class = void>
struct has_evalv { static constexpr bool value = false; };
template <class F>
struct has_evalv<F, decltype(void(F::kVec))> { static constexpr bool value = F::kVec; };

template <class F, class = void>
struct has_decay { static constexpr bool value = false; };
template <class F>
struct has_decay<F, decltype(void(&F::evalv_decay))> { static constexpr bool value = true; };

template <class F, class = void>
struct has_evalv0 { static constexpr bool value = false; };
template <class F>
struct has_evalv0<F, decltype(void(F::kVecOp0))> { static constexpr bool value = F::kVecOp0; };

// Families with a long dependency chain per element (an exp, a log, divisions) evaluate a block in
// passes: F::pass1 .. F::pass<kPasses> over the whole block, each keeping its intermediates in a
// small array (L1). Fused into one loop, each element's chain of ~100 cycles holds so many
// instructions that the out-of-order window covers only two or three vectors at a time and the
// loop runs at about one instruction per cycle; split, each pass's shorter chain overlaps across
// many vectors (docs/engine.md has the figures). F::eval (scalar) composes the same passes: the
// same bits.
template <class F, class = void>
struct has_passes { static constexpr bool value = false; };
template <class F>
struct has_passes<F, decltype(void(F::kPasses))> { static constexpr bool value = F::kPasses >= 2; };

// n <= kBlock elements of the steps t into out, in F::kPasses passes (2 or 3).
template <class F, class OutT>
inline void eval_passes(const double* t, OutT* out, int64_t n, const typename F::P& p) {
    using Mid1 = decltype(F::pass1(vd(), p));
    Mid1 mid1[kBlock / kLanes];
    const int64_t nv = n / kLanes;
    for (int64_t k = 0; k < nv; ++k) mid1[k] = F::pass1(loadv(t + k * kLanes), p);
    if constexpr (F::kPasses == 3) {
        using Mid2 = decltype(F::pass2(vd(), mid1[0], p));
        Mid2 mid2[kBlock / kLanes];
        for (int64_t k = 0; k < nv; ++k) mid2[k] = F::pass2(loadv(t + k * kLanes), mid1[k], p);
        for (int64_t k = 0; k < nv; ++k) storev(out + k * kLanes, F::pass3(loadv(t + k * kLanes), mid2[k], p));
    } else {
        for (int64_t k = 0; k < nv; ++k) storev(out + k * kLanes, F::pass2(loadv(t + k * kLanes), mid1[k], p));
    }
    for (int64_t i = nv * kLanes; i < n; ++i) out[i] = OutT(F::eval(t[i], p));
}

template <class F>
inline void run_family(Block& b, const int64_t* ins) {
    const double* t = b.reg[ins[2]];
    double* dst = b.wreg[ins[1]];
    const int64_t n = b.n;
    constexpr int K = F::kOps;
    constexpr int NV = K + 2;
    bool all_const = true;
    for (int k = 0; k < K; ++k) all_const = all_const && b.op_const[ins[kFieldOps + k]];
    if (all_const) {
        double v[NV] = {};
        for (int k = 0; k < K; ++k) v[k] = b.opp[ins[kFieldOps + k]][0];
        if (F::kLogOp >= 0) {
            const int64_t o = ins[kFieldOps + (F::kLogOp >= 0 ? F::kLogOp : 0)];
            if (v[F::kLogOp >= 0 ? F::kLogOp : 0] == b.prog->data[b.prog->offset[o]]) {  // precomputed
                v[K] = b.prog->log_hi[o];
                v[K + 1] = b.prog->log_lo[o];
            } else {
                log_pair(v[F::kLogOp >= 0 ? F::kLogOp : 0], v[K], v[K + 1]);
            }
        }
        const typename F::P p = F::load(v);
        if constexpr (has_passes<F>::value) return eval_passes<F>(t, dst, n, p);
        int64_t i = 0;
        if constexpr (has_evalv<F>::value) {
            for (; i + kLanes <= n; i += kLanes) storev(dst + i, F::evalv(loadv(t + i), p));
        }
        for (; i < n; ++i) dst[i] = F::eval(t[i], p);
        return;
    }
    if constexpr (has_evalv0<F>::value) {
        // only operand 0 varies (per-parameter peak_lr, the common case): the vector form with the
        // other parameters, and what load() derives from them, shared
        bool rest_const = !b.op_const[ins[kFieldOps]];
        for (int k = 1; k < K; ++k) rest_const = rest_const && b.op_const[ins[kFieldOps + k]];
        if (rest_const) {
            double v[NV] = {};
            for (int k = 1; k < K; ++k) v[k] = b.opp[ins[kFieldOps + k]][0];
            const double* o0 = b.full(ins[kFieldOps]);
            const typename F::P p = F::load(v);
            int64_t i = 0;
            for (; i + kLanes <= n; i += kLanes) storev(dst + i, F::evalv0(loadv(t + i), loadv(o0 + i), p));
            for (; i < n; ++i) {
                v[0] = o0[i];
                dst[i] = F::eval(t[i], F::load(v));
            }
            return;
        }
    }
    const double* ops[K];
    for (int k = 0; k < K; ++k) ops[k] = b.full(ins[kFieldOps + k]);
    const double* lh = ops[0];
    const double* ll = ops[0];
    if (F::kLogOp >= 0) {
        double* h = b.take_scratch();
        double* l = b.take_scratch();
        const double* g = ops[F::kLogOp >= 0 ? F::kLogOp : 0];
        double last = NAN, lhi = 0, llo = 0;
        for (int64_t i = 0; i < n; ++i) {
            if (!(g[i] == last)) { last = g[i]; log_pair(last, lhi, llo); }
            h[i] = lhi;
            l[i] = llo;
        }
        lh = h;
        ll = l;
    }
    for (int64_t i = 0; i < n; ++i) {
        double v[NV];
        for (int k = 0; k < K; ++k) v[k] = ops[k][i];
        v[K] = lh[i];
        v[K + 1] = ll[i];
        dst[i] = F::eval(t[i], F::load(v));
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
