#!/usr/bin/env bash
# valgrind memcheck over a short run of every optimizer and fill
# (tools/valgrind_smoke.py). CPython and NumPy produce reports of their own
# (interned objects, entropy buffers); this fails on any error record whose
# stack passes through fastoptim's extension.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(python -c 'import sys; print(sys.executable)')
log=$(mktemp)
trap 'rm -f "$log"' EXIT
PYTHONMALLOC=malloc valgrind --num-callers=50 --leak-check=no --log-file="$log" \
  "$py" tools/valgrind_smoke.py
ours=$(awk '/^==[0-9]+== [A-Z][a-z]/ {rec=$0; next} /_core\./ {print rec}' "$log" | sort -u)
summary=$(grep "ERROR SUMMARY" "$log")
echo "valgrind: $summary (all reports); records through fastoptim._core:"
if [ -n "$ours" ]; then
  echo "$ours"
  grep -A30 "$(echo "$ours" | head -1 | cut -c1-60)" "$log" | head -60
  exit 1
fi
echo "  none"
