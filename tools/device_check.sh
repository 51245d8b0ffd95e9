#!/usr/bin/env bash
# One run on a machine of another CPU (and a GPU, where there is one): build fastlr against the
# machine's own numpy, run the README's test suite there, the agreement tests with numpy's AVX-512
# paths off and with the libm jitter, then the GPU checks. Everything it prints also goes to $OUT.
#
#   OUT=/some/dir bash tools/device_check.sh [pytest workers, default: the CPU count]
#
# Packages the machine lacks and cannot fetch (no network) may be carried as wheels in .device-wheels/.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/fastlr-device}"
mkdir -p "$OUT"
WORKERS="${1:-$(nproc)}"
status=0

section() { echo; echo "== $*"; }

{
section "machine"
nproc; lscpu | grep -E "Model name|Flags" | cut -c1-200
python -c "import numpy as np; np.show_runtime()" 2>&1 | grep -A3 simd_extensions

section "packages"
for wheel in .device-wheels/*.whl; do
  [[ -f "$wheel" ]] || continue
  name="$(basename "$wheel" | cut -d- -f1)"
  python -c "import importlib, sys; importlib.import_module({'py_cpuinfo': 'cpuinfo', 'pytest_benchmark': 'pytest_benchmark'}.get('$name', '$name'))" 2>/dev/null \
    || python -m pip install -q --no-index --no-deps "$wheel"
done
python -m pip list 2>/dev/null | grep -iE "^(numpy|numba|torch|jax|jaxlib|optax|transformers|hypothesis|pytest|pytest-xdist|mpmath|cupy|dask|array-api|scikit-build-core|pybind11) " || true

section "build"
start=$SECONDS
python -m pip install -q --no-build-isolation --no-deps -e . > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "built in $((SECONDS - start)) s"
python -c "import fastlr; fastlr.show_config()"

if [[ -f bench/gpu_check.py ]] && python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  section "GPU checks"
  timeout "${GPU_TIMEOUT:-240}" python bench/gpu_check.py || status=1
fi

xdist=()
python -c "import xdist" 2>/dev/null && xdist=(-n "$WORKERS")

section "the README's test suite (CI profile)"
start=$SECONDS
# JAX on the CPU for the oracle tests: one GPU shared by many pytest workers would run out of memory
CI=true JAX_PLATFORMS=cpu timeout "${SUITE_TIMEOUT:-300}" python -m pytest -q -p no:cacheprovider "${xdist[@]}" \
  -W ignore::DeprecationWarning --junitxml="$OUT/suite.xml" 2>&1 | tail -40 || status=1
echo "suite: $((SECONDS - start)) s"

agreement=(tests/test_exact.py tests/test_properties.py tests/test_agreement.py tests/test_big_steps.py
           tests/test_core_direct.py tests/test_numba_direct.py)
avx512="$(python -c "
try:
    from numpy._core import _multiarray_umath as u
except ImportError:
    from numpy.core import _multiarray_umath as u
print(' '.join(f for f in u.__cpu_dispatch__ if 'AVX512' in f or f == 'X86_V4'))")"
if [[ -z "${SKIP_AGREEMENT:-}" ]]; then
section "agreement tests, NPY_DISABLE_CPU_FEATURES='$avx512'"
CI=true NPY_DISABLE_CPU_FEATURES="$avx512" timeout 120 python -m pytest -q -p no:cacheprovider "${xdist[@]}" \
  "${agreement[@]}" 2>&1 | tail -8 || status=1
section "agreement tests, FASTLR_TEST_LIBM_JITTER=1"
CI=true FASTLR_TEST_LIBM_JITTER=1 timeout 120 python -m pytest -q -p no:cacheprovider "${xdist[@]}" \
  "${agreement[@]}" 2>&1 | tail -8 || status=1
fi

if [[ -z "${SKIP_REPORT:-}" ]]; then
  section "accuracy against exact math (ulps of the peak)"
  (cd tests && timeout 120 python exact.py) || status=1
fi

echo "device check exit status: $status"
exit "$status"
} 2>&1 | tee "$OUT/device_check.log"
exit "${PIPESTATUS[0]}"
