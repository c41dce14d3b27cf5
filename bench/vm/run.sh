#!/bin/bash
# bench/vm/run.sh — the ECL core without PostgreSQL (vm_bench.c): the array
# loop natively and as callgrind instruction counts (Ir) per iteration, then
# the dispatch comparison and the B2-shaped short runs.
#   VM_CFLAGS=...   extra compiler flags (e.g. PostgreSQL's own CFLAGS)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="$ROOT/bench/vm/build"
mkdir -p "$BUILD"
SRCS=$(ls "$ROOT"/src/core/*.c)
cc -O2 -g -std=gnu11 -DNDEBUG ${VM_CFLAGS:-} -I"$ROOT/include" -o "$BUILD/vm_bench" "$ROOT/bench/vm/vm_bench.c" $SRCS -lm
"$BUILD/vm_bench" items 1000000 5
if command -v valgrind >/dev/null; then
	# two sizes: the difference removes compile/load/setup costs
	for n in 10000 110000; do
		valgrind --tool=callgrind --callgrind-out-file="$BUILD/cg.$n" "$BUILD/vm_bench" items "$n" 1 >/dev/null 2>"$BUILD/cg.$n.log"
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$BUILD/cg.$n.log" >"$BUILD/ir.$n"
	done
	ir_small=$(cat "$BUILD/ir.10000")
	ir_large=$(cat "$BUILD/ir.110000")
	echo "callgrind: $(( (ir_large - ir_small) / 100000 )) machine instructions (Ir) per loop iteration" \
		"(($ir_large - $ir_small) / 100000)"
fi
[ "${1:-}" = "items" ] && exit 0
"$BUILD/vm_bench"
