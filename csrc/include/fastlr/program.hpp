// The compiled program (docs/engine.md section 1) as plain views, and its validation.
// Arch-independent: shared by the baseline and AVX2 kernels and by the bindings.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace fastlr {

namespace op {
enum : int64_t {
    CONSTANT = 1, LINEAR = 2, STEP_DECAY = 3, MULTI_STEP = 4, EXPONENTIAL = 5, INVERSE_TIME = 6,
    POLYNOMIAL = 7, COSINE = 8, COSINE_RESTARTS = 9, WARMUP_COSINE = 10, WARMUP_STABLE_DECAY = 11,
    ONE_CYCLE = 12, CYCLIC = 13, INVERSE_SQRT = 14, TANH = 15, PIECEWISE_CONSTANT = 16,
    PIECEWISE_LINEAR = 17,
    SHIFT = 32, SELECT = 33, MUL = 34, SCALE = 35, RAMP = 36, ZERO = 37,
};
}  // namespace op

constexpr int kWidth = 16;      // int64 fields per instruction
constexpr int kFieldOps = 8;    // first operand field
constexpr int kMaxDims = 64;    // numpy's NPY_MAXDIMS

// Number of operands an opcode reads, -1 for an unknown opcode.
inline int opcode_operands(int64_t code) {
    switch (code) {
        case op::CONSTANT: return 1;
        case op::LINEAR: return 3;
        case op::STEP_DECAY: return 3;
        case op::MULTI_STEP: return 2;
        case op::EXPONENTIAL: return 5;
        case op::INVERSE_TIME: return 3;
        case op::POLYNOMIAL: return 4;
        case op::COSINE: return 3;
        case op::COSINE_RESTARTS: return 6;
        case op::WARMUP_COSINE: return 5;
        case op::WARMUP_STABLE_DECAY: return 6;
        case op::ONE_CYCLE: return 5;
        case op::CYCLIC: return 5;
        case op::INVERSE_SQRT: return 3;
        case op::TANH: return 5;
        case op::PIECEWISE_CONSTANT: return 0;
        case op::PIECEWISE_LINEAR: return 0;
        case op::SHIFT: return 1;
        case op::SELECT: return 1;
        case op::MUL: return 0;
        case op::SCALE: return 1;
        case op::RAMP: return 2;
        case op::ZERO: return 0;
        default: return -1;
    }
}

// Read-only view of a program plus what the constructor precomputes.
struct ProgramView {
    const int64_t* code = nullptr;
    int64_t n_ins = 0;
    const double* data = nullptr;
    int64_t n_data = 0;
    const int64_t* offset = nullptr;
    int64_t n_ops = 0;
    const double* tables = nullptr;
    int64_t n_tables = 0;
    int64_t n_reg = 1;
    int64_t result = 0;
    const double* log_hi = nullptr;  // per operand: log(operand element 0) to ~64 bits, hi + lo
    const double* log_lo = nullptr;
};

// log(g) to ~64 bits as hi + lo (x87 long double), for pow_log_ (math_exp.hpp): the same in every
// build, so the precomputed pairs and those a block computes for an array operand agree.
inline void log_pair(double g, double& hi, double& lo) {
    const long double l = std::log((long double)g);
    hi = double(l);
    lo = double(l - (long double)hi);
}

// What the core derives from a validated program once, owned next to the view: each operand's
// element count, whether every operand is a scalar (the scalar entry point needs that), and the log
// pair of each operand's first element (the view's log_hi / log_lo point here).
struct ProgramDerived {
    std::vector<int64_t> sizes;
    std::vector<double> log_hi, log_lo;
    bool all_scalar = true;
};

inline void derive_program(ProgramView& v, ProgramDerived& d) {
    d.sizes.assign(size_t(v.n_ops), 0);
    d.log_hi.assign(size_t(v.n_ops), 0.0);
    d.log_lo.assign(size_t(v.n_ops), 0.0);
    d.all_scalar = true;
    for (int64_t k = 0; k < v.n_ops; ++k) {
        const int64_t end = k + 1 < v.n_ops ? v.offset[k + 1] : v.n_data;
        d.sizes[size_t(k)] = end - v.offset[k];
        if (d.sizes[size_t(k)] != 1) d.all_scalar = false;
        if (v.offset[k] < v.n_data) log_pair(v.data[v.offset[k]], d.log_hi[size_t(k)], d.log_lo[size_t(k)]);
    }
    v.log_hi = d.log_hi.data();
    v.log_lo = d.log_lo.data();
}

// Arguments of one evaluate call (validated by the binding).
enum StepsKind : int { STEPS_IOTA = 0, STEPS_I32 = 1, STEPS_I64 = 2, STEPS_F32 = 3, STEPS_F64 = 4 };
enum OutKind : int { OUT_F64 = 0, OUT_F32 = 1 };

struct EvalArgs {
    int ndim = 1;
    int64_t shape[kMaxDims] = {};
    int64_t size = 0;
    int steps_kind = STEPS_IOTA;
    const void* steps = nullptr;
    int64_t step_strides[kMaxDims] = {};  // element strides
    double start = 0.0;
    const int64_t* op_strides = nullptr;  // (n_ops, ndim) element strides
    void* out = nullptr;
    int out_kind = OUT_F64;
    bool out_overlaps_steps = false;
};

// Validates the instruction stream; returns "" when fine, else the reason.
inline std::string validate_program(const ProgramView& p) {
    if (p.n_reg < 1) return "n_registers must be >= 1";
    if (p.result < 0 || p.result >= p.n_reg) return "result_register out of range";
    for (int64_t k = 0; k < p.n_ops; ++k)
        if (p.offset[k] < 0 || p.offset[k] > p.n_data) return "operand_offset[" + std::to_string(k) + "] out of range";
    for (int64_t i = 0; i < p.n_ins; ++i) {
        const int64_t* r = p.code + i * kWidth;
        const std::string at = "instruction " + std::to_string(i) + ": ";
        const int nops = opcode_operands(r[0]);
        if (nops < 0) return at + "unknown opcode " + std::to_string(r[0]);
        if (r[1] < 1 || r[1] >= p.n_reg) return at + "dst register out of range (register 0 holds the steps)";
        for (int f = 2; f <= 4; ++f)
            if (r[f] < 0 || r[f] >= p.n_reg) return at + "source register out of range";
        for (int k = 0; k < nops; ++k)
            if (r[kFieldOps + k] < 0 || r[kFieldOps + k] >= p.n_ops) return at + "operand index out of range";
        if (r[0] == op::MULTI_STEP || r[0] == op::PIECEWISE_CONSTANT || r[0] == op::PIECEWISE_LINEAR) {
            const int64_t off = r[6], k = r[7];
            int64_t need = k;
            if (r[0] == op::PIECEWISE_CONSTANT) need = 2 * k + 1;
            if (r[0] == op::PIECEWISE_LINEAR) need = 2 * k;
            if (off < 0 || k < 0 || (r[0] == op::PIECEWISE_LINEAR && k < 1) || need > p.n_tables - off)
                return at + "table out of range";
        }
        const int64_t mode = r[5];
        int64_t max_mode = 0;
        if (r[0] == op::EXPONENTIAL || r[0] == op::INVERSE_TIME) max_mode = 1;
        if (r[0] == op::WARMUP_STABLE_DECAY || r[0] == op::ONE_CYCLE) max_mode = 3;
        if (r[0] == op::CYCLIC) max_mode = 2;
        if (mode < 0 || mode > max_mode) return at + "mode out of range";
    }
    return "";
}

}  // namespace fastlr
