// The block interpreter of docs/engine.md: walks the output in C order in blocks of kBlock elements,
// loads the steps into register 0, gathers the operands, runs the instructions, stores the result.
// Compiled once per ISA (see config.hpp); no Python headers. The parts: interpreter/block.hpp (one
// family over a block), dispatch.hpp (instruction -> code), combinators.hpp, fused_curve.hpp.
#pragma once

#include <vector>

#include "interpreter/block.hpp"
#include "interpreter/dispatch.hpp"
#include "interpreter/fused_curve.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

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
