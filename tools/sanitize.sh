#!/usr/bin/env bash
# Builds the extension with AddressSanitizer + UndefinedBehaviorSanitizer and
# runs the kernel and random-number tests against it. Any sanitizer report
# fails the run (halt_on_error, and UBSan is built with -fno-sanitize-recover).
# Usage: tools/sanitize.sh [pytest args...]   (default: the kernel/RNG tests)
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/asan
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTOPTIM_SANITIZE=ON \
  -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" >/dev/null
cmake --build "$build"

# A copy of the package with the sanitized extension, so the working tree's
# own build is left alone.
pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
cp -r python/fastoptim "$pkg/"
rm -f "$pkg"/fastoptim/_core*.so
cp "$build"/_core*.so "$pkg/fastoptim/"

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(tests/test_kernels.py tests/test_errors.py tests/test_nonfinite.py tests/test_config.py)
  for t in tests/test_random.py tests/test_init.py tests/test_threads.py tests/test_safety.py; do
    [ -f "$t" ] && tests+=("$t")
  done
fi

# Python itself is not instrumented: preload the runtimes. Leak checking is
# off because CPython keeps interned objects alive at exit by design.
asan=$(g++ -print-file-name=libasan.so)
ubsan=$(g++ -print-file-name=libubsan.so)
export LD_PRELOAD="$asan:$ubsan"
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_odr_violation=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export PYTHONPATH="$pkg"
export FASTOPTIM_SANITIZED=1
python -c "import fastoptim._core as c, sys; print('sanitized _core from', c.__file__); assert c.__file__.startswith('$pkg')"
python -m pytest -q -p no:cacheprovider "${tests[@]}"
