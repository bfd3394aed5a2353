#!/usr/bin/env bash
# Developer build: compiles the extension into build/dev and copies it next
# to the sources, so `PYTHONPATH=python pytest` runs against the working tree.
# Serialized with flock so concurrent callers do not race on the build dir.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>build/.dev-build.lock 2>/dev/null || { mkdir -p build; exec 9>build/.dev-build.lock; }
flock 9
cfg=(-S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=Release
     -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" "$@")
[ -f build/dev/build.ninja ] && [ $# -eq 0 ] || cmake "${cfg[@]}" >/dev/null
cmake --build build/dev
# Copy then rename: overwriting the file in place would corrupt the mapping of
# any process that has the old module loaded.
for so in build/dev/_core*.so; do
  cp "$so" "python/fastoptim/.$(basename "$so").tmp"
  mv -f "python/fastoptim/.$(basename "$so").tmp" "python/fastoptim/$(basename "$so")"
done
