#!/bin/bash
# Decision latency on a hot standby next to its primary (docs/scaling.md):
# a B1-like workload — ecl.check of
#     trust.r >= 0.5 && has_credential(caller, "kyc")
# for every row of a table, with a given number of distinct callers — timed
# with EXPLAIN ANALYZE (server side, median of several runs) on both nodes
# of a primary + streaming standby pair made by test/t/030_hot_standby.pl.
# Prints figures; they never fail anything.
#
#   bench/replica_latency.sh                  20,000 rows, 1,000 callers
#   ROWS=200000 CALLERS=10000 bench/replica_latency.sh     (docs/performance.md B1 size)
#   REPEATS=9 ...                              more runs per node
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ECL_REPLICA_BENCH_ROWS=${ROWS:-20000}
export ECL_REPLICA_BENCH_CALLERS=${CALLERS:-1000}
export ECL_REPLICA_BENCH_REPEATS=${REPEATS:-5}
# the test's diag line is the figure; its own checks run as well
PROVE_FLAGS=-v "$ROOT/test/tap.sh" "$ROOT/test/t/030_hot_standby.pl" 2>&1 |
	grep -E '^# B1-like|^not ok|^Result' || true
