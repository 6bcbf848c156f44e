#!/bin/bash
# Runs the golden tool on one NAME.in and compares its output with
# NAME.expected; shows the difference on failure.
#   run_golden.sh GOLDEN_EXE NAME.in NAME.expected
# UPDATE_GOLDEN=1 writes the tool's output to NAME.actual next to the
# expected file (for review; never copy it over unchecked).
set -u
tool=$1 input=$2 expected=$3
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
"$tool" "$input" >"$actual" 2>&1
status=$?
if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
  cp "$actual" "${expected%.expected}.actual"
fi
if [ ! -f "$expected" ]; then
  echo "missing $expected; the tool printed:"
  cat "$actual"
  exit 1
fi
if ! diff -u "$expected" "$actual"; then
  echo "FAIL: $(basename "$input"): output differs from $(basename "$expected") (- expected, + actual); tool exit status $status"
  exit 1
fi
if [ $status -ne 0 ]; then
  echo "FAIL: $(basename "$input"): tool exit status $status"
  exit 1
fi
exit 0
