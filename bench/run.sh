#!/bin/bash
# bench/run.sh — the docs/performance.md benchmarks (`make bench`).
#
# Builds and installs the extension, starts a throw-away cluster with
# shared_preload_libraries = 'ecl', loads fixed data, runs every workload in
# ECL and its peers side by side in one session (warm-up, then BENCH_REPS
# interleaved repetitions, median), and prints one table.  The table is also
# written to bench/results/latest.md; the previous one is kept as
# bench/results/previous.md.  Timing never fails anything: the exit status
# is non-zero only when something could not run at all.
#
# Settings (environment):
#   BENCH_REPS=5            timed repetitions per workload and peer
#   BENCH_ONLY="B1 B2 ..."  run a subset (default: B1 B2 B3 B4 B5 B6)
#   BENCH_B3_SECONDS=4      length of each pgbench run (B3 makes sixteen)
#   BENCH_NO_INSTALL=1      skip make install (use what is installed)
#   BENCH_ONLY=R            R1, R2 and B2r (bench/planner.sh: policies the
#                           planner translates, against hand-written SQL)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BENCH_ROOT="$ROOT"
export BENCH_REPS="${BENCH_REPS:-5}"
export BENCH_ONLY="${BENCH_ONLY:-B1 B2 B3 B4 B5 B6 R}"
export BENCH_B3_SECONDS="${BENCH_B3_SECONDS:-4}"
RESULTS="$ROOT/bench/results"

if [ -z "${BENCH_NO_INSTALL:-}" ]; then
	echo "== building and installing the extension"
	make -C "$ROOT" -s -j"$(nproc)" >/dev/null
	make -C "$ROOT" -s install >/dev/null
fi

for tool in pg_virtualenv psql pgbench; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found (run make deps)" >&2; exit 1; }
done
if ! ls "$(pg_config --sharedir)/extension/pllua.control" >/dev/null 2>&1; then
	echo "bench: PL/Lua is missing (apt-get install postgresql-15-pllua)" >&2
	exit 1
fi

mkdir -p "$RESULTS"
export BENCH_OUT="$RESULTS/latest.md.new"
rm -f "$BENCH_OUT"

# A port nobody listens on (other throw-away clusters may be starting at
# the same moment, so a failed start is retried on another port).
free_port() {
	local port
	for _ in $(seq 50); do
		port=$((5500 + RANDOM % 1000))
		if ! ss -ltn 2>/dev/null | grep -q ":$port "; then
			echo "$port"
			return
		fi
	done
	echo 5599
}

# The throw-away cluster: the extension preloaded, memory enough to keep the
# data cached, no synchronous commit (data loading is not what is measured),
# JIT off so that no peer pays or saves compilation time at random.
export BENCH_STARTED="$RESULTS/.started.$$"
for attempt in 1 2 3; do
	rm -f "$BENCH_STARTED"
	status=0
	pg_virtualenv -t -c "-p $(free_port)" \
		-o "shared_preload_libraries=ecl" \
		-o "shared_buffers=256MB" \
		-o "work_mem=64MB" \
		-o "maintenance_work_mem=256MB" \
		-o "synchronous_commit=off" \
		-o "max_connections=40" \
		-o "jit=off" \
		"$ROOT/bench/lib/in_cluster.sh" || status=$?
	[ -f "$BENCH_STARTED" ] && break
	echo "bench: the cluster did not start (attempt $attempt), retrying" >&2
	sleep 2
done
rm -f "$BENCH_STARTED"
[ "$status" = 0 ] || { echo "bench: failed (status $status)" >&2; exit "$status"; }

case " $BENCH_ONLY " in
	*" R "*) "$ROOT/bench/planner.sh" ;;
esac

if [ -s "$BENCH_OUT" ]; then
	[ -f "$RESULTS/latest.md" ] && mv "$RESULTS/latest.md" "$RESULTS/previous.md"
	mv "$BENCH_OUT" "$RESULTS/latest.md"
	echo
	echo "table written to bench/results/latest.md (previous run: bench/results/previous.md)"
fi
