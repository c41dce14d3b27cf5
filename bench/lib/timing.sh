# bench/lib/timing.sh — write psql scripts that time queries (sourced).
#
# Every timed query is its own top-level statement (its own transaction in
# psql's autocommit), so the table host's per-statement memo starts empty
# for each repetition, exactly as it would for an application's query.  The
# clock is read by two statements around it (one round trip on a local
# socket, well below the resolution that matters here).  The query must
# return one row with one column named n (e.g. a count): it is stored with
# the time so that the report can check that every peer computed the same.

# emit_timed BENCH PEER REP "SQL returning one column n"   (appends to stdout)
emit_timed() {
	local bench="$1" peer="$2" rep="$3" sql="$4"
	cat <<EOF
SELECT pg_catalog.clock_timestamp() AS t0 \gset
$sql \gset
INSERT INTO bench.timings (bench, peer, rep, ms, n)
VALUES ('$bench', '$peer', $rep,
        extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'::timestamptz) * 1000,
        :'n');
EOF
}

# Untimed SQL to run right after a peer's timed query, by peer name: work a
# peer leaves to background processes (the decision log's writer) must be
# done before the next peer is timed, or it lands on that one.
declare -gA BENCH_AFTER=()

# emit_rounds BENCH REPS PEER1 SQL1 PEER2 SQL2 ...
# Rep 0 is the warm-up (recorded, not counted).  Peers run interleaved, and
# the order rotates from one repetition to the next, so slow drifts of a
# shared machine spread over all peers instead of landing on one.
emit_rounds() {
	local bench="$1" reps="$2"
	shift 2
	local -a peers=() sqls=()
	while [ $# -gt 0 ]; do
		peers+=("$1")
		sqls+=("$2")
		shift 2
	done
	local n=${#peers[@]} rep k idx
	for ((rep = 0; rep <= reps; rep++)); do
		echo "\\echo '   $bench repetition $rep of $reps'"
		for ((k = 0; k < n; k++)); do
			idx=$(((k + rep) % n))
			emit_timed "$bench" "${peers[$idx]}" "$rep" "${sqls[$idx]}"
			if [ -n "${BENCH_AFTER[${peers[$idx]}]+set}" ]; then
				echo "${BENCH_AFTER[${peers[$idx]}]};"
			fi
		done
	done
}
