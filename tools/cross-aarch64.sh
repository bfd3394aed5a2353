#!/usr/bin/env bash
# Compiles the pure C++ core (kernels, random fills, dispatch, pool) for
# aarch64 with Debian's cross compiler: proof that every x86 specific is
# guarded and the portable path builds (NEON is aarch64's baseline, so the
# loops vectorize there too). Compile-only: nothing here can run the result.
set -euo pipefail
cd "$(dirname "$0")/.."
cxx=aarch64-linux-gnu-g++
command -v "$cxx" >/dev/null || {
  apt-get update -qq && apt-get install -y -qq g++-aarch64-linux-gnu >/dev/null
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags=(-std=c++17 -O3 -fno-math-errno -ffp-contract=off -Wall -Wextra -Werror -Icpp)
for f in cpp/fastoptim/optim_isa.cpp cpp/fastoptim/probe_isa.cpp cpp/fastoptim/random/fill_isa.cpp; do
  "$cxx" "${flags[@]}" -DFASTOPTIM_ISA_NS=baseline -c "$f" -o "$out/$(basename "$f").o"
done
for f in cpp/fastoptim/dispatch.cpp cpp/fastoptim/parallel.cpp cpp/fastoptim/optim.cpp \
         cpp/fastoptim/probe.cpp cpp/fastoptim/random/fill.cpp; do
  "$cxx" "${flags[@]}" -c "$f" -o "$out/$(basename "$f").o"
done
vec=$(aarch64-linux-gnu-objdump -d "$out/optim_isa.cpp.o" | grep -c 'fsqrt[[:space:]]*v' || true)
echo "aarch64: core compiles; $vec vector sqrt instructions in the optimizer kernels"
[ "$vec" -gt 0 ]
