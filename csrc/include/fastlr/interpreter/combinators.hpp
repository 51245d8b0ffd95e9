// The combinator instructions of docs/engine.md (join's SHIFT and SELECT, products, SCALE,
// with_warmup's RAMP, ZERO) over one block.
#pragma once

#include "block.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

// Runs ins if it is a combinator (true), else returns false.
inline bool run_combinator(Block& b, const int64_t* ins) {
    const int64_t n = b.n;
    switch (ins[0]) {
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
            return true;
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
            return true;
        }
        case op::MUL: {
            const double* s = b.reg[ins[2]];
            const double* s2 = b.reg[ins[3]];
            double* d = b.wreg[ins[1]];
            for (int64_t i = 0; i < n; ++i) d[i] = s[i] * s2[i];
            return true;
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
            return true;
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
            return true;
        }
        case op::ZERO: {
            double* d = b.wreg[ins[1]];
            for (int64_t i = 0; i < n; ++i) d[i] = 0.0;
            return true;
        }
        default: return false;
    }
}

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
