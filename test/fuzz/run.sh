#!/bin/bash
# Build and run the libFuzzer harnesses of the ECL core (make fuzz).
#
#   test/fuzz/run.sh              every harness for FUZZ_SECONDS (default 600) each
#   test/fuzz/run.sh --smoke      replay the regression inputs and the seed
#                                 corpora, then FUZZ_SMOKE_SECONDS (default 3)
#                                 of fuzzing per harness (test/meta/fuzz_smoke.sh)
#   FUZZ_HARNESSES="fuzz_json fuzz_compile" test/fuzz/run.sh   a subset
#
# Harnesses (clang -fsanitize=fuzzer,address,undefined):
#   fuzz_compile   ECL source -> lexer, parser, compiler; what compiles is
#                  loaded, run on the fixture host and checked
#   fuzz_bytecode  arbitrary bytes -> loader/verifier -> VM
#   fuzz_program   compiled programs mutated as programs (custom mutator)
#   fuzz_json      JSON text -> ecl_json_parse / ecl_json_write round trip
#
# Seeds come from the project (gen_seeds.py: test/sql/*.sql, docs/*.md, the demo);
# the bytecode seeds are those sources compiled.  The growing corpus lives in
# test/fuzz/build/corpus/<harness> and is reused by the next run.  Inputs that
# once crashed are kept in test/fuzz/regressions/<harness>/ and replayed by
# every run (and so by make test).  A new crash is written to
# test/fuzz/build/crashes/<harness>/ and makes this script fail.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ=$ROOT/test/fuzz
BUILD=$FUZZ/build
MODE=full
[ "${1:-}" = "--smoke" ] && MODE=smoke
HARNESSES=${FUZZ_HARNESSES:-fuzz_compile fuzz_bytecode fuzz_program fuzz_json}
SECONDS_EACH=${FUZZ_SECONDS:-600}
[ "$MODE" = smoke ] && SECONDS_EACH=${FUZZ_SMOKE_SECONDS:-3}

if ! command -v clang >/dev/null 2>&1; then
	echo "clang not found (apt-get install clang): cannot build the fuzzers"
	exit 1
fi

# (a lock: a smoke run may build while a long run is starting)
mkdir -p "$BUILD"
flock "$BUILD/.build-lock" make -s -C "$FUZZ" -j2 >"$BUILD/make.log" 2>&1 || { cat "$BUILD/make.log"; exit 1; }

# a smoke run keeps its seeds, logs and crashes apart, so that it can run
# while a long fuzzing run uses the same build
OUT=$BUILD
[ "$MODE" = smoke ] && OUT=$BUILD/smoke

# ------------------------------------------------------------------ seeds
SEEDS=$OUT/seeds
rm -rf "$SEEDS"
python3 "$FUZZ/gen_seeds.py" "$SEEDS" || exit 1
mkdir -p "$SEEDS/bytecode"
FUZZ_SAVE_BYTECODE="$SEEDS/bytecode" "$BUILD/fuzz_compile" -runs=0 "$SEEDS/source" \
	>"$OUT/seed-bytecode.log" 2>&1 || { tail -n 40 "$OUT/seed-bytecode.log"; exit 1; }
echo "seeds: $(ls "$SEEDS/bytecode" | wc -l) compiled programs"

seed_dir() {
	case "$1" in
		fuzz_compile) echo "$SEEDS/source" ;;
		fuzz_bytecode | fuzz_program) echo "$SEEDS/bytecode" ;;
		fuzz_json) echo "$SEEDS/json" ;;
	esac
}

max_len() {
	case "$1" in
		fuzz_program) echo 16384 ;;
		fuzz_bytecode) echo 8192 ;;
		*) echo 4096 ;;
	esac
}

failed=0
total_execs=0
printf '\n%-14s %12s %8s %8s %8s %8s %s\n' harness executions exec/s cov ft corpus result
for h in $HARNESSES; do
	corpus=$BUILD/corpus/$h
	crashes=$OUT/crashes/$h
	log=$OUT/logs/$h.log
	mkdir -p "$corpus" "$crashes" "$OUT/logs"
	regress=()
	[ -d "$FUZZ/regressions/$h" ] && regress=("$FUZZ/regressions/$h")
	opts=(-max_total_time="$SECONDS_EACH" -max_len="$(max_len "$h")" -timeout=10
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/"
		-dict="$SEEDS/ecl.dict")
	if [ "$MODE" = smoke ]; then
		# a fixed seed and a throw-away corpus: the same inputs every time
		corpus=$(mktemp -d)
		opts+=(-seed=1)
	fi
	# the first directory receives new inputs; the others are only read
	"$BUILD/$h" "${opts[@]}" "$corpus" "$(seed_dir "$h")" "${regress[@]}" >"$log" 2>&1
	rc=$?
	execs=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}' | tail -n 1)
	persec=$(grep -E '^stat::average_exec_per_sec:' "$log" | awk '{print $2}' | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -n 1)
	cov=$(echo "$last" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
	ft=$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
	ncorp=$(echo "$last" | sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p')
	result=ok
	if [ $rc -ne 0 ]; then
		result="CRASH (exit $rc, log $log)"
		failed=$((failed + 1))
	fi
	[ "$MODE" = smoke ] && rm -rf "$corpus"
	total_execs=$((total_execs + ${execs:-0}))
	printf '%-14s %12s %8s %8s %8s %8s %s\n' "$h" "${execs:-?}" "${persec:-?}" \
		"${cov:-?}" "${ft:-?}" "${ncorp:-?}" "$result"
	if [ $rc -ne 0 ]; then
		grep -E 'ERROR|invariant|SUMMARY|artifact' "$log" | head -n 8 | sed 's/^/    /'
	fi
done
echo "total executions: $total_execs"
if [ $failed -ne 0 ]; then
	echo "$failed harness(es) crashed; inputs are in $OUT/crashes/<harness>/"
	echo "(minimise with -minimize_crash=1, fix, and keep the input in test/fuzz/regressions/<harness>/)"
	exit 1
fi
exit 0
