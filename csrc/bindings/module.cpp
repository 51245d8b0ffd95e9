// fastlr._core: the table of contents of the extension. Each area registers itself.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void register_program(py::module_& m);
void register_runtime(py::module_& m);
void register_plateau(py::module_& m);

PYBIND11_MODULE(_core, m) {
    m.doc() = "fastlr C++ core: the block interpreter of docs/engine.md (float64 compute, one pass).";
    register_program(m);
    register_runtime(m);
    register_plateau(m);
}
