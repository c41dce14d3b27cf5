#!/bin/bash
# make test hook for the fuzzers (test/fuzz): builds the four libFuzzer
# harnesses, replays the regression inputs and the seed corpora, and fuzzes
# each harness for a few seconds with a fixed seed (FUZZ_SMOKE_SECONDS,
# default 3).  Needs clang; the long runs are `make fuzz`.
set -eu
ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "$ROOT/test/fuzz/run.sh" --smoke
