// The fused curve: a single family with scalar operands over implicit steps, without registers,
// and the one-element form of the same families for the scalar entry point.
#pragma once

#include "dispatch.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// A program of one family instruction whose operands are all scalars, evaluated at
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

// Polynomial's fused curve takes the form of its power (visit_polynomial).
inline void fused_polynomial(const ProgramView& P, const int64_t* ins, const EvalArgs& A, int64_t begin,
                             int64_t end) {
    visit_polynomial(P.data[P.offset[ins[kFieldOps + 3]]],
                     [&](auto tag) { fused_curve<typename decltype(tag)::type>(P, ins, A, begin, end); });
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

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
