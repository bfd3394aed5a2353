#!/usr/bin/env bash
# Builds tools/pool_stress.cpp with the thread pool under ThreadSanitizer and
# runs it; any data race report or lost/duplicated item fails the run.
# Usage: tools/tsan.sh [regions per caller thread, default 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
g++ -std=c++17 -O1 -g -fsanitize=thread -fno-omit-frame-pointer -pthread -Icpp \
  tools/pool_stress.cpp cpp/fastoptim/parallel.cpp -o "$out/pool_stress"
TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$out/pool_stress" "${1:-2000}"
