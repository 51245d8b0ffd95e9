// From an instruction to its code: the one map from (opcode, mode) to a family functor
// (visit_family, visit_polynomial), the block routines of the families that have their own, and the
// program loop over one block.
#pragma once

#include "block.hpp"
#include "combinators.hpp"
#include "../families/constant.hpp"
#include "../families/cosine.hpp"
#include "../families/cosine_restarts.hpp"
#include "../families/cyclic.hpp"
#include "../families/exponential.hpp"
#include "../families/inverse_sqrt.hpp"
#include "../families/inverse_time.hpp"
#include "../families/linear.hpp"
#include "../families/multi_step.hpp"
#include "../families/one_cycle.hpp"
#include "../families/piecewise_constant.hpp"
#include "../families/piecewise_linear.hpp"
#include "../families/polynomial.hpp"
#include "../families/step_decay.hpp"
#include "../families/tanh.hpp"
#include "../families/warmup_cosine.hpp"
#include "../families/warmup_stable_decay.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// The functor of a family opcode that has a plain F::eval (every family but MultiStep, the piecewise
// tables and CosineRestarts, which have block routines of their own): calls fn(FamilyTag<F>{}) and
// returns true, or returns false. The one place that maps (opcode, mode) to a functor type; the block
// path, the fused curve and the scalar path all go through it. Polynomial maps to its general form;
// callers that know the power pick its form with visit_polynomial.
template <class F>
struct FamilyTag { using type = F; };

// The form of PolynomialF for a power shared by the elements: the one place that picks it. Powers 1
// and 2 have vectorized loops of their own, any power outside {0, 0.5} skips pow_unit_t's tests in
// passes (3), and 0 and 0.5 take the general form (0).
template <class Fn>
inline void visit_polynomial(double power, Fn&& fn) {
    if (power == 1.0) return fn(FamilyTag<PolynomialF<1>>{});
    if (power == 2.0) return fn(FamilyTag<PolynomialF<2>>{});
    if (power != 0.0 && power != 0.5) return fn(FamilyTag<PolynomialF<3>>{});
    fn(FamilyTag<PolynomialF<0>>{});
}

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
            if (mode == 1 && b.op_const[o[0]] && b.op_const[o[1]] && b.op_const[o[2]] && b.op_const[o[3]] &&
                b.op_const[o[4]] && n > 0) {
                // the staircase is StepDecay clamped to [min_lr, max_lr]
                double* dst = b.wreg[ins[1]];
                step_decay_const(b.reg[ins[2]], b.opp[o[0]][0], b.opp[o[1]][0], b.opp[o[2]][0], b.take_scratch(),
                                 dst, n);
                const double min_lr = b.opp[o[3]][0], max_lr = b.opp[o[4]][0];
                for (int64_t i = 0; i < n; ++i) dst[i] = dmin(dmax(dst[i], min_lr), max_lr);
                return;
            }
            break;  // visit_family below
        }
        case op::POLYNOMIAL: {
            const int64_t power = ins[kFieldOps + 3];
            if (b.op_const[power])
                return visit_polynomial(b.opp[power][0], [&](auto tag) { run_family<typename decltype(tag)::type>(b, ins); });
            break;  // a power varying within the block: the general form, visit_family below
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
        default: break;
    }
    if (run_combinator(b, ins)) return;
    visit_family(ins[0], mode, [&](auto tag) { run_family<typename decltype(tag)::type>(b, ins); });
}

inline void run_program(Block& b) {
    const ProgramView& P = *b.prog;
    for (int64_t i = 0; i < P.n_ins; ++i) {
        b.scratch_used = 0;
        run_instruction(b, P.code + i * kWidth);
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
