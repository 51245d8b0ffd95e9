#!/usr/bin/env bash
# The sanitizer job: build the C++ core with AddressSanitizer + UndefinedBehaviorSanitizer and run the
# C++ backend's tests under it (CI hypothesis profile). Any sanitizer report fails the job.
#
#   bash .ci/sanitize.sh            (from the repository root; standalone)
#
# The sanitized build never touches the normal one: CMakeLists.txt puts a plain CMake build's module
# next to the Python sources of the *source* directory, so the sources (CMakeLists.txt, csrc/, fastlr/
# without its built modules, tests/) are copied to build/asan/src and configured from there; the
# sanitized fastlr/_core*.so lands in that copy, and the tests run against it (PYTHONPATH), never
# against the checkout's fastlr/. build/ is git-ignored; the copy is kept for incremental rebuilds.
#
# Environment: PYTHON (default: python), SANITIZE_PYTEST_ARGS (extra pytest arguments),
# SANITIZE_TESTS (default: the agreement, hostile, properties, big-steps and concurrency tests).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python}"
WORK="$ROOT/build/asan"
SRC="$WORK/src"
BUILD="$WORK/build"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

if [[ ! -f CMakeLists.txt ]]; then
  echo "sanitize.sh: no CMakeLists.txt in $ROOT (the C++ core is not there yet)" >&2
  exit 2
fi

SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

echo "== copying the sources to $SRC"
mkdir -p "$SRC" "$BUILD"
rm -rf "$SRC/fastlr" "$SRC/tests"
cp -p CMakeLists.txt "$SRC/"
[[ -f pyproject.toml ]] && cp -p pyproject.toml "$SRC/"
# csrc: keep timestamps so that the build is incremental
mkdir -p "$SRC/csrc"
cp -a csrc/. "$SRC/csrc/"
mkdir -p "$SRC/fastlr"
( cd fastlr && find . -type f \( -name '*.py' -o -name '*.pyi' -o -name '*.json' -o -name 'py.typed' \) \
    -not -path '*/__pycache__/*' -exec cp -p --parents {} "$SRC/fastlr/" \; )
cp -a tests "$SRC/tests"
find "$SRC" -name '__pycache__' -type d -prune -exec rm -rf {} +
rm -f "$SRC"/fastlr/_core*.so

echo "== configuring and building the sanitized core"
PYBIND11_DIR="$("$PYTHON" -m pybind11 --cmakedir)"
cmake -S "$SRC" -B "$BUILD" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPython_EXECUTABLE="$(command -v "$PYTHON")" \
  -Dpybind11_DIR="$PYBIND11_DIR" \
  -DCMAKE_CXX_FLAGS="$SAN_FLAGS" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF >"$WORK/configure.log" 2>&1 \
  || { cat "$WORK/configure.log" >&2; exit 1; }
cmake --build "$BUILD" -j"$JOBS" >"$WORK/build.log" 2>&1 || { tail -50 "$WORK/build.log" >&2; exit 1; }

CORE="$(ls "$SRC"/fastlr/_core*.so 2>/dev/null | head -1 || true)"
if [[ -z "$CORE" ]]; then
  # a CMakeLists.txt that keeps the module in the build directory
  CORE="$(find "$BUILD" -name '_core*.so' | head -1)"
  [[ -n "$CORE" ]] && cp "$CORE" "$SRC/fastlr/"
  CORE="$(ls "$SRC"/fastlr/_core*.so 2>/dev/null | head -1 || true)"
fi
[[ -n "$CORE" ]] || { echo "sanitize.sh: the build produced no _core*.so" >&2; exit 1; }
if [[ "$(nm -D "$CORE" 2>/dev/null | grep -c '__asan_' || true)" == 0 ]]; then
  echo "sanitize.sh: $CORE is not instrumented with ASan" >&2
  exit 1
fi
echo "   sanitized core: $CORE"

LIBASAN="$(g++ -print-file-name=libasan.so)"
LIBUBSAN="$(g++ -print-file-name=libubsan.so)"
[[ -f "$LIBASAN" ]] || { echo "sanitize.sh: libasan.so not found ($LIBASAN)" >&2; exit 1; }

LIBSTDCXX="$(g++ -print-file-name=libstdc++.so)"
# libasan first (it must be the first DSO); libstdc++ right after it, so that ASan's __cxa_throw
# interceptor finds the real one at start-up (python itself does not link libstdc++; without it
# the first C++ exception aborts with "CHECK failed: ... real___cxa_throw"). libubsan comes in as a
# dependency of the sanitized core.
export LD_PRELOAD="$LIBASAN:$LIBSTDCXX"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1:${ASAN_OPTIONS_EXTRA:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export PYTHONPATH="$SRC${PYTHONPATH:+:$PYTHONPATH}"
export FASTLR_TEST_BACKENDS=cpp
export FASTLR_BACKEND=cpp
export CI=1
export HYPOTHESIS_PROFILE=ci
LOG="$WORK/asan-report"
export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$LOG"
export UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$LOG"
rm -f "$LOG".*

# An editable install (scikit-build-core's import hook) resolves ``fastlr`` to the checkout whatever
# PYTHONPATH says; then the sanitized module is swapped into the checkout for the run and the normal
# one is put back on exit.
RUN_DIR="$SRC"
if ! (cd "$SRC" && "$PYTHON" -c "import fastlr._core as c, sys; sys.exit(0 if c.__file__.startswith('$SRC') else 1)" \
      2>/dev/null); then
  RUN_DIR="$ROOT"
  NORMAL="$(ls "$ROOT"/fastlr/_core*.so 2>/dev/null | head -1 || true)"
  if [[ -n "$NORMAL" ]]; then
    cp -p "$NORMAL" "$WORK/normal_core.so"
    trap 'cp -p "$WORK/normal_core.so" "$NORMAL"' EXIT
  fi
  cp "$CORE" "$ROOT/fastlr/$(basename "$CORE")"
  echo "   editable install: the sanitized core is swapped into $ROOT/fastlr for the run"
fi

echo "== checking that the sanitized core is the one imported"
(cd "$RUN_DIR" && "$PYTHON" -c "
import fastlr, fastlr._core as c, subprocess
assert 'cpp' in fastlr.backends(), fastlr.backends()
symbols = subprocess.run(['nm', '-D', c.__file__], capture_output=True, text=True).stdout
assert '__asan_' in symbols, c.__file__ + ' is not the sanitized core'
print('   fastlr from', fastlr.__file__, '| core', c.__file__)
")

default_tests=()
for f in test_agreement.py test_hostile.py test_properties.py test_big_steps.py test_concurrency.py test_inplace.py; do
  [[ -f "$RUN_DIR/tests/$f" ]] && default_tests+=("tests/$f")
done
read -r -a tests <<<"${SANITIZE_TESTS:-${default_tests[*]}}"

echo "== running ${tests[*]} (backend cpp) under ASan+UBSan"
status=0
(cd "$RUN_DIR" && timeout "${SANITIZE_TIMEOUT:-1200}" "$PYTHON" -m pytest -q -x -p no:cacheprovider -W ignore \
    -o addopts="" "${tests[@]}" ${SANITIZE_PYTEST_ARGS:-}) || status=$?

if compgen -G "$LOG.*" >/dev/null; then
  echo "== sanitizer reports:" >&2
  cat "$LOG".* >&2
  exit 1
fi
if [[ $status -ne 0 ]]; then
  echo "sanitize.sh: the tests failed under the sanitizers (exit $status)" >&2
  exit "$status"
fi
echo "== sanitize: OK (no ASan/UBSan reports)"
