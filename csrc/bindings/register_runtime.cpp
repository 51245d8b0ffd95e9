// Runtime switches of the core: threads, kernel dispatch, build information.
#include <pybind11/pybind11.h>

#include "fastlr/runtime.hpp"
#include "fastlr/thread_pool.hpp"

namespace py = pybind11;

#ifndef FASTLR_VERSION
#define FASTLR_VERSION "0.0.0"
#endif
#ifndef FASTLR_CXX_FLAGS
#define FASTLR_CXX_FLAGS ""
#endif

void register_runtime(py::module_& m) {
    m.def("set_num_threads", [](int n) {
        if (n < 1) throw py::value_error("set_num_threads: n must be >= 1, got " + std::to_string(n));
        fastlr::set_num_threads(n);
    }, py::arg("n"), "Bound the threads used by evaluate (the caller counts as one).");
    m.def("get_num_threads", &fastlr::get_num_threads, "Threads used by evaluate above the size threshold.");
    m.def("set_portable", &fastlr::set_portable, py::arg("flag"),
          "Force the baseline x86-64 kernels (True) or use the best the CPU supports (False).");
    m.def("get_portable", &fastlr::get_portable);
    m.def("cpu_features", [] {
        py::dict d;
        d["avx2"] = fastlr::cpu_has_avx2();
#if defined(FASTLR_HAVE_AVX2)
        d["avx2_compiled"] = true;
#else
        d["avx2_compiled"] = false;
#endif
#if defined(FASTLR_HAVE_AVX2)
        // the AVX2 kernels fuse the multiply-adds of the cospi polynomial (math.hpp madd_)
        d["fma_used"] = std::string(fastlr::active_kernels().name) == "avx2";
#else
        d["fma_used"] = false;
#endif
        d["portable"] = fastlr::get_portable();
        d["kernel"] = fastlr::active_kernels().name;
        return d;
    }, "CPU features the core uses and the active kernel path ('avx2' or 'baseline').");
    m.def("build_info", [] {
        py::dict d;
        d["version"] = FASTLR_VERSION;
#if defined(__clang__)
        d["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
        d["compiler"] = std::string("gcc ") + __VERSION__;
#else
        d["compiler"] = "unknown";
#endif
        d["flags"] = FASTLR_CXX_FLAGS;
        d["block_size"] = fastlr::kBlockAlign;
        d["parallel_threshold"] = fastlr::parallel_threshold.load();
        d["spin_micros"] = fastlr::ThreadPool::spin_micros.load();
        return d;
    }, "Compiler, flags, version and tuning constants of the extension.");
    // tuning hooks for benchmarks (not part of the facade's contract)
    m.def("_set_parallel_threshold", [](int64_t n) { fastlr::parallel_threshold = n < 0 ? 0 : n; });
    m.def("_set_spin_micros", [](int64_t us) { fastlr::ThreadPool::spin_micros = us < 0 ? 0 : us; });
}
