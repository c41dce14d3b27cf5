#!/bin/bash
# make test hook: the core unit tests again, built with clang under
# AddressSanitizer and UndefinedBehaviorSanitizer (make -C test/unit
# SANITIZE=1; any report aborts the run).
set -eu
ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$(make -s -C "$ROOT/test/unit" SANITIZE=1 2>&1) || { echo "$out" | tail -n 60; exit 1; }
echo "$out" | grep -E '^(not ok|unit:)'
echo "$out" | grep -qE '^unit: [0-9]+ passed, 0 failed'
