// fastlr._core.Program: holds the program arrays (no copies), validates them once, evaluates.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <vector>

#include "fastlr/program.hpp"
#include "fastlr/runtime.hpp"

namespace py = pybind11;

namespace {

bool is_dtype(const py::array& a, char kind, py::ssize_t itemsize) {
    const py::dtype dt = a.dtype();
    return dt.kind() == kind && dt.itemsize() == itemsize && (dt.byteorder() == '=' || dt.byteorder() == '|' ||
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                                                              dt.byteorder() == '<');
#else
                                                              dt.byteorder() == '>');
#endif
}

bool c_contig(const py::array& a) { return (a.flags() & py::array::c_style) != 0; }

// A 1-D (or 2-D) int64 array given as any sequence; copied only if it is not one already.
py::array_t<int64_t> as_i64(const py::handle& h, const char* name) {
    auto a = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(h);
    if (!a) throw py::type_error(std::string(name) + " must be an int64 array");
    return a;
}

class PyProgram {
public:
    PyProgram(py::array code, py::array operand_data, py::array operand_offset, py::array tables,
              int64_t n_registers, int64_t result_register) {
        if (!is_dtype(code, 'i', 8) || code.ndim() != 2 || code.shape(1) != fastlr::kWidth || !c_contig(code))
            throw py::type_error("code must be a C-contiguous int64 array of shape (n, 16)");
        if (!is_dtype(operand_data, 'f', 8) || operand_data.ndim() != 1 || !c_contig(operand_data))
            throw py::type_error("operand_data must be a contiguous 1-D float64 array");
        if (!is_dtype(operand_offset, 'i', 8) || operand_offset.ndim() != 1 || !c_contig(operand_offset))
            throw py::type_error("operand_offset must be a contiguous 1-D int64 array");
        if (!is_dtype(tables, 'f', 8) || tables.ndim() != 1 || !c_contig(tables))
            throw py::type_error("tables must be a contiguous 1-D float64 array");
        code_ = code;
        data_ = operand_data;
        offset_ = operand_offset;
        tables_ = tables;
        v_.code = static_cast<const int64_t*>(code.data());
        v_.n_ins = code.shape(0);
        v_.data = static_cast<const double*>(operand_data.data());
        v_.n_data = operand_data.shape(0);
        v_.offset = static_cast<const int64_t*>(operand_offset.data());
        v_.n_ops = operand_offset.shape(0);
        v_.tables = static_cast<const double*>(tables.data());
        v_.n_tables = tables.shape(0);
        v_.n_reg = n_registers;
        v_.result = result_register;
        const std::string err = fastlr::validate_program(v_);
        if (!err.empty()) throw py::value_error("invalid program: " + err);
        fastlr::derive_program(v_, derived_);
    }

    void evaluate(py::object steps, py::object step_strides_o, double start, py::object out_o, py::object shape_o,
                  py::object op_strides_o) {
        fastlr::EvalArgs A;
        // shape
        auto shape = as_i64(shape_o, "shape");
        if (shape.ndim() != 1 || shape.shape(0) < 1 || shape.shape(0) > fastlr::kMaxDims)
            throw py::value_error("shape must be 1-D with 1..64 entries");
        const int nd = int(shape.shape(0));
        A.ndim = nd;
        int64_t size = 1;
        for (int d = 0; d < nd; ++d) {
            const int64_t e = shape.data()[d];
            if (e < 0) throw py::value_error("shape entries must be >= 0");
            A.shape[d] = e;
            if (e != 0 && size > INT64_MAX / e) throw py::value_error("shape too large");
            size *= e;
        }
        A.size = size;
        // out
        if (!py::isinstance<py::array>(out_o)) throw py::type_error("out must be a numpy array");
        py::array out = py::reinterpret_borrow<py::array>(out_o);
        if (is_dtype(out, 'f', 8)) A.out_kind = fastlr::OUT_F64;
        else if (is_dtype(out, 'f', 4)) A.out_kind = fastlr::OUT_F32;
        else throw py::type_error("out must be float32 or float64, got " + std::string(py::str(out.dtype())));
        if (!c_contig(out)) throw py::value_error("out must be C-contiguous");
        if (!out.writeable()) throw py::value_error("out must be writable");
        if (out.size() != size)
            throw py::value_error("out has " + std::to_string(out.size()) + " elements, shape needs " +
                                  std::to_string(size));
        A.out = out.mutable_data();
        // operand strides
        auto ops = as_i64(op_strides_o, "operand_strides");
        if (ops.ndim() != 2 || ops.shape(0) != v_.n_ops || ops.shape(1) != nd)
            throw py::value_error("operand_strides must have shape (n_operands, ndim) = (" +
                                  std::to_string(v_.n_ops) + ", " + std::to_string(nd) + ")");
        A.op_strides = ops.data();
        if (size > 0) {
            for (int64_t k = 0; k < v_.n_ops; ++k) {
                int64_t lo = v_.offset[k], hi = v_.offset[k];
                for (int d = 0; d < nd; ++d) {
                    const int64_t s = A.op_strides[k * nd + d], r = (A.shape[d] - 1) * s;
                    if (s != 0 && (A.shape[d] - 1) != 0 && std::abs(r) / std::abs(s) != A.shape[d] - 1)
                        throw py::value_error("operand strides overflow");
                    if (r < 0) lo += r; else hi += r;
                }
                if (lo < 0 || hi >= v_.n_data)
                    throw py::value_error("operand " + std::to_string(k) + " strides reach outside operand_data");
            }
        }
        // steps
        py::array sarr;
        py::array_t<int64_t> sstr;
        if (steps.is_none()) {
            A.steps_kind = fastlr::STEPS_IOTA;
            if (!std::isfinite(start)) throw py::value_error("start must be finite");
        } else {
            if (!py::isinstance<py::array>(steps)) throw py::type_error("steps must be a numpy array or None");
            sarr = py::reinterpret_borrow<py::array>(steps);
            if (is_dtype(sarr, 'i', 4)) A.steps_kind = fastlr::STEPS_I32;
            else if (is_dtype(sarr, 'i', 8)) A.steps_kind = fastlr::STEPS_I64;
            else if (is_dtype(sarr, 'f', 4)) A.steps_kind = fastlr::STEPS_F32;
            else if (is_dtype(sarr, 'f', 8)) A.steps_kind = fastlr::STEPS_F64;
            else throw py::type_error("steps must be int32, int64, float32 or float64, got " +
                                      std::string(py::str(sarr.dtype())));
            A.steps = sarr.data();
        }
        sstr = as_i64(step_strides_o, "step_strides");
        if (sstr.ndim() != 1 || sstr.shape(0) != nd)
            throw py::value_error("step_strides must have ndim = " + std::to_string(nd) + " entries");
        for (int d = 0; d < nd; ++d) A.step_strides[d] = sstr.data()[d];
        A.start = start;
        if (!steps.is_none() && size > 0) {
            // every element read must lie inside the steps array's own memory
            const int64_t isz = sarr.itemsize();
            int64_t mlo = 0, mhi = 0;
            for (py::ssize_t d = 0; d < sarr.ndim(); ++d) {
                if (sarr.shape(d) == 0) { mhi = -1; break; }
                const int64_t r = int64_t(sarr.shape(d) - 1) * int64_t(sarr.strides(d));
                if (r < 0) mlo += r; else mhi += r;
            }
            int64_t rlo = 0, rhi = 0;
            for (int d = 0; d < nd; ++d) {
                const int64_t s = A.step_strides[d];
                if (s != 0 && std::abs(s) > INT64_MAX / 16 / (A.shape[d] > 0 ? A.shape[d] : 1))
                    throw py::value_error("step_strides too large");
                const int64_t r = (A.shape[d] - 1) * s * isz;
                if (r < 0) rlo += r; else rhi += r;
            }
            if (mhi < 0 || rlo < mlo || rhi > mhi)
                throw py::value_error("step_strides reach outside the steps array");
            // does out overlap the steps memory? (then the kernels never write out early)
            const char* s0 = static_cast<const char*>(A.steps);
            const char* slo = s0 + mlo;
            const char* shi = s0 + mhi + isz;
            const char* o0 = static_cast<const char*>(A.out);
            const char* o1 = o0 + out.nbytes();
            A.out_overlaps_steps = !(o1 <= slo || shi <= o0);
        }
        if (size == 0) return;
        {
            py::gil_scoped_release nogil;
            fastlr::evaluate(v_, A);
        }
    }

    double scalar(double t) const {
        if (!derived_.all_scalar) throw py::value_error("scalar(): the program has array operands");
        return fastlr::evaluate_scalar(v_, t);
    }

    py::object code() const { return code_; }
    int64_t n_registers() const { return v_.n_reg; }
    int64_t result_register() const { return v_.result; }
    bool has_array_operands() const { return !derived_.all_scalar; }

private:
    py::array code_, data_, offset_, tables_;
    fastlr::ProgramView v_;
    fastlr::ProgramDerived derived_;
};

}  // namespace

void register_program(py::module_& m) {
    py::class_<PyProgram>(m, "Program", "A validated, immutable compiled schedule (docs/engine.md).")
        .def(py::init<py::array, py::array, py::array, py::array, int64_t, int64_t>(), py::arg("code"),
             py::arg("operand_data"), py::arg("operand_offset"), py::arg("tables"), py::arg("n_registers"),
             py::arg("result_register"))
        .def("evaluate", &PyProgram::evaluate, py::arg("steps"), py::arg("step_strides"), py::arg("start"),
             py::arg("out"), py::arg("shape"), py::arg("operand_strides"),
             "Evaluate into out (C-contiguous float32/float64 of prod(shape) elements); releases the GIL.")
        .def("scalar", &PyProgram::scalar, py::arg("t"), "Value at one step (no array operands).")
        .def_property_readonly("code", &PyProgram::code)
        .def_property_readonly("n_registers", &PyProgram::n_registers)
        .def_property_readonly("result_register", &PyProgram::result_register)
        .def_property_readonly("has_array_operands", &PyProgram::has_array_operands);
}
