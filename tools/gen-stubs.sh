#!/usr/bin/env bash
# Regenerates python/fastoptim/_core.pyi from the built extension with
# pybind11-stubgen (pip install pybind11-stubgen): the stubs are never
# hand-written, and tests/test_typing.py fails when the committed file
# differs from what this script produces. Build first (tools/dev-build.sh).
#
# Usage: tools/gen-stubs.sh [OUTDIR]   (default: python/fastoptim, in place)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-python/fastoptim}"
py="${PYTHON:-python}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The module's attributes depend on the environment it was imported in
# (FASTOPTIM_ISA, FASTOPTIM_NUM_THREADS); generate from a neutral one. The
# working tree's package is used when it has a built extension (dev builds),
# else the installed one.
pypath="${PYTHONPATH:-}"
suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
if [ -f "python/fastoptim/_core$suffix" ]; then
  pypath="$PWD/python${pypath:+:$pypath}"
fi
env -u FASTOPTIM_ISA -u FASTOPTIM_NUM_THREADS PYTHONPATH="$pypath" \
    "$py" -m pybind11_stubgen fastoptim._core --output-dir "$tmp" --exit-code >/dev/null
# Drop the values of module constants (`__version__: str = '0.1.0'` ->
# `__version__: str`): a stub states types, and the version moves on its own.
sed -E 's/^([A-Za-z_][A-Za-z0-9_]*: [A-Za-z_][A-Za-z0-9_.]*) = .*$/\1/' \
    "$tmp/fastoptim/_core.pyi" > "$tmp/_core.pyi"
mkdir -p "$out"
cp "$tmp/_core.pyi" "$out/_core.pyi"
