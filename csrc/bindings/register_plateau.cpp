// plateau(): the ReduceLROnPlateau scan of the core over numpy arrays (the facade has validated and
// broadcast them); the GIL is released while it runs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "fastlr/plateau.hpp"

namespace py = pybind11;

using F64 = py::array_t<double, py::array::c_style>;

void register_plateau(py::module_& m) {
    m.def(
        "plateau",
        [](const F64& metrics, const F64& lr, const F64& min_lr, F64 out, bool maximize, bool relative,
           double factor, double threshold, int64_t patience, int64_t cooldown, double eps) {
            if (metrics.ndim() != 2 || out.ndim() != 2 || lr.ndim() != 1 || min_lr.ndim() != 1)
                throw py::value_error("plateau: metrics and out must be 2-D (runs, epochs), lr and min_lr 1-D");
            const int64_t runs = metrics.shape(0), epochs = metrics.shape(1);
            if (out.shape(0) != runs || out.shape(1) != epochs || lr.shape(0) != runs || min_lr.shape(0) != runs)
                throw py::value_error("plateau: shapes do not match (runs, epochs)");
            if (!out.writeable()) throw py::value_error("plateau: out is read-only");
            fastlr::PlateauRule rule;
            rule.maximize = maximize;
            rule.relative = relative;
            rule.factor = factor;
            rule.threshold = threshold;
            rule.eps = eps;
            rule.patience = patience;
            rule.cooldown = cooldown;
            const double* mp = metrics.data();
            const double* lp = lr.data();
            const double* np_ = min_lr.data();
            double* op = out.mutable_data();
            py::gil_scoped_release release;
            fastlr::plateau(mp, runs, epochs, lp, np_, rule, op);
        },
        py::arg("metrics"), py::arg("lr"), py::arg("min_lr"), py::arg("out"), py::arg("maximize"),
        py::arg("relative"), py::arg("factor"), py::arg("threshold"), py::arg("patience"), py::arg("cooldown"),
        py::arg("eps"),
        "ReduceLROnPlateau over (runs, epochs) metrics: the learning rate after each epoch's step.");
}
