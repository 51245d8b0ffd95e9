// The block interpreter of docs/engine.md: walks the output in C order in blocks of kBlock elements,
// loads the steps into register 0, gathers the operands, runs the instructions, stores the result.
// Compiled once per ISA (see config.hpp); no Python headers.
#pragma once

#include <cmath>
#include <vector>

#include "config.hpp"
#include "math.hpp"
#include "program.hpp"
#include "families/constant.hpp"
#include "families/cosine.hpp"
#include "families/cosine_restarts.hpp"
#include "families/cyclic.hpp"
#include "families/exponential.hpp"
#include "families/inverse_sqrt.hpp"
#include "families/inverse_time.hpp"
#include "families/linear.hpp"
#include "families/multi_step.hpp"
#include "families/one_cycle.hpp"
#include "families/piecewise_constant.hpp"
#include "families/piecewise_linear.hpp"
#include "families/polynomial.hpp"
#include "families/step_decay.hpp"
#include "families/tanh.hpp"
#include "families/warmup_cosine.hpp"
#include "families/warmup_stable_decay.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// log(g) to ~64 bits as hi + lo (x87 long double), for pow_log_.
inline void log_pair(double g, double& hi, double& lo) {
    const long double l = std::log((long double)g);
    hi = double(l);
    lo = double(l - (long double)hi);
}

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

// The functor of a family opcode that has a plain F::eval (every family but MultiStep, the piecewise
// tables and CosineRestarts, which have block routines of their own): calls fn(FamilyTag<F>{}) and
// returns true, or returns false. The one place that maps (opcode, mode) to a functor type; the block
// path, the fused curve and the scalar path all go through it. Polynomial maps to its general form;
// callers that know the power pick PolynomialF<1> / <2> first.
template <class F>
struct FamilyTag { using type = F; };

template <class Fn>
inline bool visit_family(int64_t opcode, int64_t mode, Fn&& fn) {
    switch (opcode) {
        case op::CONSTANT: fn(FamilyTag<ConstantF>{}); return true;
        case op::LINEAR: fn(FamilyTag<LinearF>{}); return true;
        case op::STEP_DECAY: fn(FamilyTag<StepDecayF>{}); return true;
        case op::EXPONENTIAL:
            if (mode) fn(FamilyTag<ExponentialF<1>>{}); else fn(FamilyTag<ExponentialF<0>>{});
            return true;
        case op::INVERSE_TIME:
            if (mode) fn(FamilyTag<InverseTimeF<1>>{}); else fn(FamilyTag<InverseTimeF<0>>{});
            return true;
        case op::POLYNOMIAL: fn(FamilyTag<PolynomialF<0>>{}); return true;
        case op::COSINE: fn(FamilyTag<CosineF>{}); return true;
        case op::WARMUP_COSINE: fn(FamilyTag<WarmupCosineF>{}); return true;
        case op::WARMUP_STABLE_DECAY:
            switch (mode) {
                case 0: fn(FamilyTag<WarmupStableDecayF<0>>{}); return true;
                case 1: fn(FamilyTag<WarmupStableDecayF<1>>{}); return true;
                case 2: fn(FamilyTag<WarmupStableDecayF<2>>{}); return true;
                default: fn(FamilyTag<WarmupStableDecayF<3>>{}); return true;
            }
        case op::ONE_CYCLE:
            switch (mode) {
                case 0: fn(FamilyTag<OneCycleF<0>>{}); return true;
                case 1: fn(FamilyTag<OneCycleF<1>>{}); return true;
                case 2: fn(FamilyTag<OneCycleF<2>>{}); return true;
                default: fn(FamilyTag<OneCycleF<3>>{}); return true;
            }
        case op::CYCLIC:
            switch (mode) {
                case 0: fn(FamilyTag<CyclicF<0>>{}); return true;
                case 1: fn(FamilyTag<CyclicF<1>>{}); return true;
                default: fn(FamilyTag<CyclicF<2>>{}); return true;
            }
        case op::INVERSE_SQRT: fn(FamilyTag<InverseSqrtF>{}); return true;
        case op::TANH: fn(FamilyTag<TanhF>{}); return true;
        default: return false;
    }
}

inline void run_instruction(Block& b, const int64_t* ins) {
    const int64_t n = b.n;
    const ProgramView& P = *b.prog;
    const int64_t mode = ins[5];
    switch (ins[0]) {
        case op::STEP_DECAY: {
            const int64_t* o = ins + kFieldOps;
            if (b.op_const[o[0]] && b.op_const[o[1]] && b.op_const[o[2]] && n > 0)
                return step_decay_const(b.reg[ins[2]], b.opp[o[0]][0], b.opp[o[1]][0], b.opp[o[2]][0],
                                        b.take_scratch(), b.wreg[ins[1]], n);
            return run_family<StepDecayF>(b, ins);
        }
        case op::EXPONENTIAL: {
            const int64_t* o = ins + kFieldOps;
            if (mode == 1 && b.op_const[o[0]] && b.op_const[o[1]] && b.op_const[o[2]] && b.op_const[o[3]] && n > 0) {
                // the staircase is StepDecay floored at min_lr
                double* dst = b.wreg[ins[1]];
                step_decay_const(b.reg[ins[2]], b.opp[o[0]][0], b.opp[o[1]][0], b.opp[o[2]][0], b.take_scratch(),
                                 dst, n);
                const double min_lr = b.opp[o[3]][0];
                for (int64_t i = 0; i < n; ++i) dst[i] = dmax(dst[i], min_lr);
                return;
            }
            break;  // visit_family below
        }
        case op::POLYNOMIAL: {
            const int64_t power = ins[kFieldOps + 3];
            if (b.op_const[power] && b.opp[power][0] == 1.0) return run_family<PolynomialF<1>>(b, ins);
            if (b.op_const[power] && b.opp[power][0] == 2.0) return run_family<PolynomialF<2>>(b, ins);
            if (b.op_const[power] && b.opp[power][0] != 0.0 && b.opp[power][0] != 0.5)
                return run_family<PolynomialF<3>>(b, ins);
            break;  // the general power: visit_family below
        }
        case op::MULTI_STEP: {
            const int64_t* o = ins + kFieldOps;
            const double* lr = b.full(o[0]);
            double* cnt = b.take_scratch();
            double* pw = b.take_scratch();
            multi_step_block(b.reg[ins[2]], lr, b.op_const[o[1]] ? b.opp[o[1]] : b.full(o[1]),
                             b.op_const[o[1]] != 0, P.tables + ins[6], ins[7], cnt, pw, b.wreg[ins[1]], n);
            return;
        }
        case op::PIECEWISE_CONSTANT:
            return piecewise_constant_block(b.reg[ins[2]], P.tables + ins[6], ins[7], b.take_scratch(),
                                            b.wreg[ins[1]], n);
        case op::PIECEWISE_LINEAR:
            return piecewise_linear_block(b.reg[ins[2]], P.tables + ins[6], ins[7], b.take_scratch(),
                                          b.wreg[ins[1]], n);
        case op::COSINE_RESTARTS: {
            const int64_t* o = ins + kFieldOps;
            bool all_const = true;
            for (int k = 0; k < 6; ++k) all_const = all_const && b.op_const[o[k]];
            if (all_const && cosine_restarts_uniform(b.reg[ins[2]], b.opp[o[0]][0], b.opp[o[1]][0], b.opp[o[2]][0],
                                                     b.opp[o[3]][0], b.opp[o[4]][0], b.opp[o[5]][0],
                                                     b.wreg[ins[1]], n))
                return;
            const double* ops[6];
            for (int k = 0; k < 6; ++k) ops[k] = b.full(o[k]);
            double* gi = b.take_scratch();
            double* S = b.take_scratch();
            double* PM = b.take_scratch();
            double* PD = b.take_scratch();
            const bool cm_const = b.op_const[o[1]] && b.op_const[o[3]];
            cosine_restarts_block(b.reg[ins[2]], ops[0], ops[1], ops[2], ops[3], ops[4], ops[5], cm_const, gi, S,
                                  PM, PD, b.wreg[ins[1]], n);
            return;
        }
        case op::SHIFT: {
            const double* s = b.reg[ins[2]];
            double* d = b.wreg[ins[1]];
            if (b.op_const[ins[kFieldOps]]) {
                const double p = b.opp[ins[kFieldOps]][0];
                for (int64_t i = 0; i < n; ++i) d[i] = dmax(s[i] - p, 0.0);
            } else {
                const double* p = b.full(ins[kFieldOps]);
                for (int64_t i = 0; i < n; ++i) d[i] = dmax(s[i] - p[i], 0.0);
            }
            return;
        }
        case op::SELECT: {
            const double* s = b.reg[ins[2]];
            const double* s2 = b.reg[ins[3]];
            const double* s3 = b.reg[ins[4]];
            double* d = b.wreg[ins[1]];
            if (b.op_const[ins[kFieldOps]]) {
                const double p = b.opp[ins[kFieldOps]][0];
                for (int64_t i = 0; i < n; ++i) d[i] = s[i] >= p ? s3[i] : s2[i];
            } else {
                const double* p = b.full(ins[kFieldOps]);
                for (int64_t i = 0; i < n; ++i) d[i] = s[i] >= p[i] ? s3[i] : s2[i];
            }
            return;
        }
        case op::MUL: {
            const double* s = b.reg[ins[2]];
            const double* s2 = b.reg[ins[3]];
            double* d = b.wreg[ins[1]];
            for (int64_t i = 0; i < n; ++i) d[i] = s[i] * s2[i];
            return;
        }
        case op::SCALE: {
            const double* s = b.reg[ins[2]];
            double* d = b.wreg[ins[1]];
            if (b.op_const[ins[kFieldOps]]) {
                const double p = b.opp[ins[kFieldOps]][0];
                for (int64_t i = 0; i < n; ++i) d[i] = s[i] * p;
            } else {
                const double* p = b.full(ins[kFieldOps]);
                for (int64_t i = 0; i < n; ++i) d[i] = s[i] * p[i];
            }
            return;
        }
        case op::RAMP: {
            // src < W ? init * (1 - src / W) + s(0) * (src / W) : s(src - W)
            const double* s = b.reg[ins[2]];
            const double* s2 = b.reg[ins[3]];
            const double* s3 = b.reg[ins[4]];
            double* d = b.wreg[ins[1]];
            const double* w = b.full(ins[kFieldOps]);
            const double* init = b.full(ins[kFieldOps + 1]);
            for (int64_t i = 0; i < n; ++i) {
                const double c = safe_div(s[i], w[i]);
                d[i] = s[i] < w[i] ? blend(init[i], s3[i], c) : s2[i];
            }
            return;
        }
        case op::ZERO: {
            double* d = b.wreg[ins[1]];
            for (int64_t i = 0; i < n; ++i) d[i] = 0.0;
            return;
        }
        default: break;
    }
    visit_family(ins[0], mode, [&](auto tag) { run_family<typename decltype(tag)::type>(b, ins); });
}

inline void run_program(Block& b) {
    const ProgramView& P = *b.prog;
    for (int64_t i = 0; i < P.n_ins; ++i) {
        b.scratch_used = 0;
        run_instruction(b, P.code + i * kWidth);
    }
}

// Thread-local buffers for one evaluate task.
struct Workspace {
    std::vector<double> mem;
    double* get(size_t count) {
        if (mem.size() < count) mem.assign(count, 0.0);
        return mem.data();
    }
};

template <class T>
inline void load_steps_seg(const T* p, int64_t stride, double* dst, int64_t m) {
    if constexpr (sizeof(T) == 8 && T(0.5) == T(0)) {
        // int64 -> double has no AVX2 instruction: below 2**51 (checked per segment) it is exact
        // as the bits of 1.5 * 2**52 + x minus 1.5 * 2**52, which vectorizes
        if (stride == 1) {
            uint64_t hi = 0;
            for (int64_t j = 0; j < m; ++j) hi |= uint64_t(p[j]);
            if (hi < (uint64_t(1) << 51)) {
                for (int64_t j = 0; j < m; ++j) dst[j] = as_f64(as_u64(kMagic) + uint64_t(p[j])) - kMagic;
                return;
            }
        }
    }
    if (stride == 1) {
        for (int64_t j = 0; j < m; ++j) dst[j] = double(p[j]);
    } else if (stride == 0) {
        const double v = double(p[0]);
        for (int64_t j = 0; j < m; ++j) dst[j] = v;
    } else {
        for (int64_t j = 0; j < m; ++j) dst[j] = double(p[j * stride]);
    }
}

// ---------------------------------------------------------------------------------------------
// Fused curve: a program of one family instruction whose operands are all scalars, evaluated at
// the implicit steps start + i (1-D). The steps are generated inside the family loop and the result
// is stored (rounded to float32 if asked) in the same loop: no register, no extra pass over L1.
// The step values are those of the block path (start + (k0 + j * stride), integers exact below
// 2**53), so the bits are the same as the block interpreter's.
using FusedFn = void (*)(const ProgramView&, const int64_t* ins, const EvalArgs&, int64_t, int64_t);

template <class F, class OutT>
inline void fused_loop(const typename F::P& p, double st, double sd, int64_t ss, int64_t begin, int64_t end,
                       OutT* out) {
    constexpr int64_t kChunk = 4096;
    for (int64_t c0 = begin; c0 < end; c0 += kChunk) {
        const int m = int((end - c0) < kChunk ? (end - c0) : kChunk);
        const double k0 = double(c0 * ss);
        OutT* o = out + c0;
        if constexpr (has_passes<F>::value) {
            alignas(32) double steps[kBlock];
            for (int j0 = 0; j0 < m; j0 += int(kBlock)) {
                const int mb = (m - j0) < int(kBlock) ? (m - j0) : int(kBlock);
                for (int j = 0; j < mb; ++j) steps[j] = curve_step(st, k0, double(j0 + j), sd);
                eval_passes<F>(steps, o + j0, mb, p);
            }
            continue;
        }
        int j = 0;
        if constexpr (has_evalv<F>::value) {
            // u = k0 + j * sd, stepped by kLanes * sd: integers below 2**53, so every sum is exact and
            // equals the product form (one add per kLanes steps instead of a multiply and an add)
            vd u = k0 + lane_index() * sd;
            const double du = double(kLanes) * sd;
            if constexpr (has_decay<F>::value) {
                const double ta = st + k0, tb = curve_step(st, k0, double(m - 1), sd);
                if (F::in_decay(ta < tb ? ta : tb, ta < tb ? tb : ta, p)) {
                    for (; j + kLanes <= m; j += kLanes, u += du) storev(o + j, F::evalv_decay(st + u, p));
                }
            }
            for (; j + kLanes <= m; j += kLanes, u += du) storev(o + j, F::evalv(st + u, p));
        }
        for (; j < m; ++j) o[j] = OutT(F::eval(curve_step(st, k0, double(j), sd), p));
    }
}

// The parameters of a family instruction whose operands are all scalars (read at their offsets), with
// the precomputed log pair of the operand that has one.
template <class F>
inline typename F::P scalar_params(const ProgramView& P, const int64_t* ins) {
    constexpr int K = F::kOps;
    double v[K + 2] = {};
    for (int k = 0; k < K; ++k) v[k] = P.data[P.offset[ins[kFieldOps + k]]];
    if (F::kLogOp >= 0) {
        const int64_t o = ins[kFieldOps + (F::kLogOp >= 0 ? F::kLogOp : 0)];
        v[K] = P.log_hi[o];
        v[K + 1] = P.log_lo[o];
    }
    return F::load(v);
}

template <class F>
inline void fused_curve(const ProgramView& P, const int64_t* ins, const EvalArgs& A, int64_t begin, int64_t end) {
    const typename F::P p = scalar_params<F>(P, ins);
    const int64_t ss = A.step_strides[0];
    if (A.out_kind == OUT_F32)
        fused_loop<F>(p, A.start, double(ss), ss, begin, end, static_cast<float*>(A.out));
    else
        fused_loop<F>(p, A.start, double(ss), ss, begin, end, static_cast<double*>(A.out));
}

// Polynomial's common powers 1 and 2 have vectorized loops of their own, and any other power shared
// by the call one without the power's tests (see polynomial.hpp).
inline void fused_polynomial(const ProgramView& P, const int64_t* ins, const EvalArgs& A, int64_t begin,
                             int64_t end) {
    const double power = P.data[P.offset[ins[kFieldOps + 3]]];
    if (power == 1.0) return fused_curve<PolynomialF<1>>(P, ins, A, begin, end);
    if (power == 2.0) return fused_curve<PolynomialF<2>>(P, ins, A, begin, end);
    if (power != 0.0 && power != 0.5) return fused_curve<PolynomialF<3>>(P, ins, A, begin, end);
    fused_curve<PolynomialF<0>>(P, ins, A, begin, end);
}

inline FusedFn fused_for(const int64_t* ins) {
    // the families with their own block routines (tables, restarts) have no fused curve
    // the integer-power families run a curve in blocks: one power per distinct exponent
    if (ins[0] == op::STEP_DECAY || ins[0] == op::MULTI_STEP || (ins[0] == op::EXPONENTIAL && ins[5] == 1))
        return nullptr;
    if (ins[0] == op::POLYNOMIAL) return &fused_polynomial;
    FusedFn fused = nullptr;
    visit_family(ins[0], ins[5], [&](auto tag) { fused = &fused_curve<typename decltype(tag)::type>; });
    return fused;
}

// The fused kernel for this call, or nullptr: one family instruction writing the result register,
// scalar operands (stride 0 in every dimension), implicit 1-D steps.
inline FusedFn fused_kernel(const ProgramView& P, const EvalArgs& A) {
    if (P.n_ins != 1 || A.steps_kind != STEPS_IOTA || A.ndim != 1) return nullptr;
    const int64_t* ins = P.code;
    if (ins[1] != P.result || ins[2] != 0) return nullptr;
    const int nops = opcode_operands(ins[0]);
    for (int k = 0; k < nops; ++k)
        if (A.op_strides[ins[kFieldOps + k]] != 0) return nullptr;
    return fused_for(ins);
}

// Evaluates elements [begin, end) of the flat C-order output.
inline void run_range(const ProgramView& P, const EvalArgs& A, int64_t begin, int64_t end) {
    if (const FusedFn f = fused_kernel(P, A)) {
        f(P, P.code, A, begin, end);
        return;
    }
    static thread_local Workspace ws;
    const int64_t nreg = P.n_reg, nops = P.n_ops, B = kBlock;
    const int nd = A.ndim;
    const int last = nd - 1;
    double* mem = ws.get(size_t((nreg + 2 * nops + kScratch + 1) * B));
    double* regmem = mem;
    double* gather = regmem + nreg * B;
    double* bcast = gather + nops * B;
    double* scratch = bcast + nops * B;

    Block b;
    b.prog = &P;
    b.reg.assign(nreg, nullptr);
    b.wreg.assign(nreg, nullptr);
    b.opp.assign(nops, nullptr);
    b.op_const.assign(nops, 0);
    b.op_full.assign(nops, 0);
    b.scratch = scratch;
    std::vector<char> call_const(nops, 0);
    for (int64_t k = 0; k < nops; ++k) {
        bool c = true;
        for (int d = 0; d < nd; ++d) c = c && A.op_strides[k * nd + d] == 0;
        call_const[k] = c;
        if (c) {
            const double v = P.data[P.offset[k]];
            for (int64_t i = 0; i < B; ++i) bcast[k * B + i] = v;
        }
    }
    const bool direct_out = A.out_kind == OUT_F64 && P.result != 0 && !A.out_overlaps_steps;
    int64_t idx[kMaxDims];

    for (int64_t b0 = begin; b0 < end; b0 += B) {
        const int64_t n = (end - b0) < B ? (end - b0) : B;
        b.n = n;
        {   // multi-index of b0
            int64_t rem = b0;
            for (int d = last; d >= 0; --d) { idx[d] = rem % A.shape[d]; rem /= A.shape[d]; }
        }
        const bool one_row = idx[last] + n <= A.shape[last];
        for (int64_t r = 0; r < nreg; ++r) {
            b.wreg[r] = regmem + r * B;
            b.reg[r] = b.wreg[r];
        }
        double* outp = nullptr;
        if (direct_out) {
            outp = static_cast<double*>(A.out) + b0;
            b.wreg[P.result] = outp;
            b.reg[P.result] = outp;
        }
        // operands: whole-call constants point at their broadcast buffer
        for (int64_t k = 0; k < nops; ++k) {
            if (call_const[k]) {
                b.opp[k] = (n == 1) ? P.data + P.offset[k] : bcast + k * B;
                b.op_const[k] = 1;
                b.op_full[k] = 1;
            }
        }
        // walk the row segments of the block
        int64_t pos = 0;
        double* t0 = regmem;  // register 0 buffer
        while (pos < n) {
            const int64_t rowleft = A.shape[last] - idx[last];
            const int64_t m = (n - pos) < rowleft ? (n - pos) : rowleft;
            // steps
            int64_t soff = 0;
            for (int d = 0; d < nd; ++d) soff += idx[d] * A.step_strides[d];
            const int64_t ss = A.step_strides[last];
            switch (A.steps_kind) {
                case STEPS_IOTA: {
                    const double k0 = double(soff), sd = double(ss), st = A.start;
                    double* dst = t0 + pos;
                    for (int j = 0; j < int(m); ++j) dst[j] = curve_step(st, k0, double(j), sd);
                    break;
                }
                case STEPS_I32: load_steps_seg(static_cast<const int32_t*>(A.steps) + soff, ss, t0 + pos, m); break;
                case STEPS_I64: load_steps_seg(static_cast<const int64_t*>(A.steps) + soff, ss, t0 + pos, m); break;
                case STEPS_F32: load_steps_seg(static_cast<const float*>(A.steps) + soff, ss, t0 + pos, m); break;
                default:
                    if (one_row && ss == 1 && !A.out_overlaps_steps) {
                        b.reg[0] = static_cast<const double*>(A.steps) + soff;
                    } else {
                        load_steps_seg(static_cast<const double*>(A.steps) + soff, ss, t0 + pos, m);
                    }
                    break;
            }
            // operands that vary
            for (int64_t k = 0; k < nops; ++k) {
                if (call_const[k]) continue;
                const int64_t* st = A.op_strides + k * nd;
                int64_t off = P.offset[k];
                for (int d = 0; d < nd; ++d) off += idx[d] * st[d];
                const int64_t is = st[last];
                const double* src = P.data + off;
                if (one_row) {
                    if (is == 0) {
                        b.opp[k] = src; b.op_const[k] = 1; b.op_full[k] = (n == 1);
                        continue;
                    }
                    if (is == 1) {
                        b.opp[k] = src; b.op_const[k] = 0; b.op_full[k] = 1;
                        continue;
                    }
                }
                double* g = gather + k * B;
                if (is == 0) {
                    const double v = src[0];
                    for (int64_t j = 0; j < m; ++j) g[pos + j] = v;
                } else {
                    for (int64_t j = 0; j < m; ++j) g[pos + j] = src[j * is];
                }
                b.opp[k] = g; b.op_const[k] = 0; b.op_full[k] = 1;
            }
            pos += m;
            idx[last] += m;
            for (int d = last; d > 0 && idx[d] >= A.shape[d]; --d) { idx[d] = 0; ++idx[d - 1]; }
        }
        run_program(b);
        // store
        const double* res = b.reg[P.result];
        if (A.out_kind == OUT_F32) {
            float* o = static_cast<float*>(A.out) + b0;
            int64_t i = 0;
            for (; i + kLanes <= n; i += kLanes) storev(o + i, loadv(res + i));
            for (; i < n; ++i) o[i] = float(res[i]);
        } else if (!direct_out) {
            double* o = static_cast<double*>(A.out) + b0;
            for (int64_t i = 0; i < n; ++i) o[i] = res[i];
        }
    }
}

template <class F>
inline double scalar_family(const ProgramView& P, const int64_t* ins, double t) {
    return F::eval(t, scalar_params<F>(P, ins));
}

// The families of fused_for, one element: the same F::eval as the block path (the same bits).
inline double (*scalar_for(const int64_t* ins))(const ProgramView&, const int64_t*, double) {
    if (ins[0] == op::STEP_DECAY || ins[0] == op::MULTI_STEP) return nullptr;
    double (*scalar)(const ProgramView&, const int64_t*, double) = nullptr;
    visit_family(ins[0], ins[5], [&](auto tag) { scalar = &scalar_family<typename decltype(tag)::type>; });
    return scalar;
}

// One element, no array operands (every operand read at its offset). Registers of length 1.
inline double run_scalar(const ProgramView& P, double t) {
    if (P.n_ins == 1 && P.code[1] == P.result && P.code[2] == 0) {
        // a single family: evaluate it directly (no interpreter state)
        if (const auto f = scalar_for(P.code)) return f(P, P.code, t);
    }
    static thread_local Workspace ws;
    const int64_t nreg = P.n_reg, nops = P.n_ops;
    double* mem = ws.get(size_t(nreg + kScratch * kBlock));
    static thread_local Block b;
    b.prog = &P;
    b.n = 1;
    b.reg.resize(nreg);
    b.wreg.resize(nreg);
    for (int64_t r = 0; r < nreg; ++r) { b.wreg[r] = mem + r; b.reg[r] = mem + r; }
    b.opp.resize(nops);
    b.op_const.assign(nops, 1);
    b.op_full.assign(nops, 1);
    for (int64_t k = 0; k < nops; ++k) b.opp[k] = P.data + P.offset[k];
    b.scratch = mem + nreg;
    mem[0] = t;
    run_program(b);
    return b.reg[P.result][0];
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
