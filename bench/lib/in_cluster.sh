#!/bin/bash
# bench/lib/in_cluster.sh — runs inside pg_virtualenv (PGHOST, PGPORT, ...
# point at the throw-away cluster).  Called by bench/run.sh.
set -euo pipefail

ROOT="$BENCH_ROOT"
SQL="$ROOT/bench/sql"
WORK="$(mktemp -d /tmp/ecl-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=timing.sh
. "$ROOT/bench/lib/timing.sh"

touch "$BENCH_STARTED"
export PGDATABASE=ecl_bench
createdb ecl_bench
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -o /dev/null)   # \echo still reaches stdout

selected() { [[ " $BENCH_ONLY " == *" $1 "* ]]; }

echo "== setting up (PostgreSQL $(psql -XAtc 'SHOW server_version'), $(nproc) cores)"
"${PSQL[@]}" -f "$SQL/00_setup.sql"

if selected B1 || selected B3; then
	echo "== B1/B3 data: 10,000 identities, trust, Ed25519-signed credentials, 200,000 rows"
	start=$SECONDS
	"${PSQL[@]}" -f "$SQL/10_identity_data.sql"
	echo "   loaded in $((SECONDS - start)) s:" \
		"$(psql -XAtc "SELECT format('%s identities, %s trust rows, %s credentials (%s signed)',
			(SELECT count(*) FROM ecl.identities), (SELECT count(*) FROM ecl.trust),
			(SELECT count(*) FROM ecl.credentials),
			(SELECT count(*) FROM ecl.credentials WHERE signature IS NOT NULL))")"
fi

# ------------------------------------------------------------ B1 and B2
B2_INPUT="SELECT doc FROM bench.b2_input"
# the brief's floor: the same documents built per row, then one C call
B2B_INPUT="SELECT jsonb_build_object('amount', (g * 37) % 1000, 'fee', g % 10,
 'balance', (g * 13) % 2000, 'cap', 500 + g % 500, 'score', (g * 7) % 100,
 'age', g % 80, 'risk', (g * 11) % 100, 'n', g % 150) AS doc
 FROM generate_series(1, 200000) g OFFSET 0"
B2_SOURCE='let total = amount + fee
let ratio = total / cap
let headroom = balance - total
let s = score * 0.6 + (100 - risk) * 0.4
return total > 0 && ratio <= 1 && headroom >= 0 && s >= 50 &&
    age >= 18 && n < 100 && amount * 3 - fee * 2 != 11'

{
	if selected B1; then
		cat "$SQL/20_b1_peers.sql"
		echo "\\echo '== B1: 200,000 rows, 10,000 callers, trust + credential per row'"
		BENCH_AFTER[ecl-log]="SELECT bench.decision_log_settled()"
		emit_rounds B1 "$BENCH_REPS" \
			ecl "SELECT count(*) AS n FROM bench.docs d WHERE ecl.check('b1', d.owner, 'bench')" \
			plpgsql "SELECT count(*) AS n FROM bench.docs d WHERE bench.b1_plpgsql(d.owner, 'bench')" \
			sql "SELECT count(*) AS n FROM bench.docs d WHERE bench.b1_sql(d.owner, 'bench')" \
			pllua "SELECT count(*) AS n FROM bench.docs d WHERE bench.b1_lua(d.owner, 'bench')" \
			join "SELECT count(*) AS n FROM bench.docs d JOIN bench.b1_eligible e ON e.did = d.owner" \
			ecl-log "SELECT bench.b1_decision_logged() AS n"
	fi
	if selected B2 || selected B5; then
		cat "$SQL/30_b2_peers.sql"
	fi
	if selected B2; then
		echo "\\echo '== B2: 200,000 calls, 8 input fields, ~20 operations'"
		emit_rounds B2 "$BENCH_REPS" \
			ecl "SELECT count(*) AS n FROM ($B2_INPUT) s WHERE ecl.check('b2', NULL, NULL, s.doc)" \
			ecl-eval "SELECT count(*) AS n FROM ($B2_INPUT) s WHERE ecl.eval(\$src\$$B2_SOURCE\$src\$, s.doc) = 'true'::jsonb" \
			plpgsql "SELECT count(*) AS n FROM ($B2_INPUT) s WHERE bench.b2_plpgsql(s.doc)" \
			sql "SELECT count(*) AS n FROM ($B2_INPUT) s WHERE bench.b2_sql(s.doc)" \
			pllua "SELECT count(*) AS n FROM ($B2_INPUT) s WHERE bench.b2_lua(s.doc)" \
			floor "SELECT count(*) AS n FROM ($B2_INPUT) s WHERE s.doc ? 'amount'" \
			scan-only "SELECT count(*) AS n FROM ($B2_INPUT) s"
		echo "\\echo '== B2b: the same, input built per row (jsonb_build_object)'"
		emit_rounds B2b "$BENCH_REPS" \
			ecl "SELECT count(*) AS n FROM ($B2B_INPUT) s WHERE ecl.check('b2', NULL, NULL, s.doc)" \
			plpgsql "SELECT count(*) AS n FROM ($B2B_INPUT) s WHERE bench.b2_plpgsql(s.doc)" \
			sql "SELECT count(*) AS n FROM ($B2B_INPUT) s WHERE bench.b2_sql(s.doc)" \
			pllua "SELECT count(*) AS n FROM ($B2B_INPUT) s WHERE bench.b2_lua(s.doc)" \
			floor "SELECT count(*) AS n FROM ($B2B_INPUT) s WHERE s.doc ? 'amount'"
	fi
} >"$WORK/timed.sql"
"${PSQL[@]}" -f "$WORK/timed.sql"

# ------------------------------------------------------------------ B3
# pgbench, 8 clients, ecl.run_policy with statistics on and off, sixteen
# short runs in the order (on off off on) x 4: drifts of a shared machine
# cancel out, and the median of eight per setting resists bursts of load.
# After each run the statistics must have grown by exactly the transactions
# pgbench counted (on) or not at all (off).
#
# Throughput on a machine shared with other work swings by tens of percent
# from run to run, far more than the effect measured, so the cost of the
# statistics is judged on the server's CPU time per transaction instead:
# the CPU of the exited backends, which the kernel adds to the postmaster's
# cutime + cstime (/proc/<postmaster>/stat) once it has reaped them.
# Work that other programs do on the machine is not in it.
POSTMASTER_PID=$(head -1 "$(psql -XAtc 'SHOW data_directory')/postmaster.pid")
children_cpu_ticks() {
	# fields after "pid (comm) ": state is 1st, cutime 14th, cstime 15th
	sed 's/^.*) //' "/proc/$POSTMASTER_PID/stat" | awk '{ print $14 + $15 }'
}
backends_gone() {
	local i
	for i in $(seq 100); do
		[ "$(psql -XAtc "SELECT count(*) FROM pg_stat_activity
			WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")" = 0 ] && break
		sleep 0.05
	done
	sleep 0.3
}
if selected B3; then
	"${PSQL[@]}" -f "$SQL/40_b3_policy.sql"
	echo "== B3: pgbench, 8 clients, 16 runs of ${BENCH_B3_SECONDS} s"
	exact=true
	tick_ms=$((1000 / $(getconf CLK_TCK)))
	for track in on off off on on off off on on off off on on off off on; do
		before=$(psql -XAtc "SELECT policies_executed FROM ecl.stat_eclvm WHERE datname = current_database()")
		backends_gone
		cpu_before=$(children_cpu_ticks)
		PGOPTIONS="-c ecl.track=$track" pgbench -n -c 8 -j 2 -T "$BENCH_B3_SECONDS" \
			-f "$SQL/b3_pgbench.sql" >"$WORK/pgbench.out" 2>&1 || {
			cat "$WORK/pgbench.out"
			exit 1
		}
		backends_gone
		cpu_after=$(children_cpu_ticks)
		after=$(psql -XAtc "SELECT policies_executed FROM ecl.stat_eclvm WHERE datname = current_database()")
		tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$WORK/pgbench.out")
		txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")
		failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")
		delta=$((after - before))
		want=$([ "$track" = on ] && echo "$txns" || echo 0)
		[ "$delta" = "$want" ] || exact=false
		cpu_us=$(((cpu_after - cpu_before) * tick_ms * 1000 / txns))
		echo "   ecl.track=$track: $tps tps, $txns transactions (${failed:-0} failed)," \
			"server CPU $cpu_us us/transaction, policies_executed +$delta (expected +$want)"
		psql -XAq -c "INSERT INTO bench.timings (bench, peer, rep, ms, n)
			VALUES ('B3', 'track=$track', 0, $tps, '$txns:$delta:$want'),
				   ('B3cpu', 'track=$track', 0, $(((cpu_after - cpu_before) * tick_ms)) * 1000.0 / $txns, NULL)"
	done
	psql -XAq -v exact="$exact" <<'EOF'
WITH t AS (
	SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE peer = 'track=on') AS tps_on,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE peer = 'track=off') AS tps_off
	  FROM bench.timings WHERE bench = 'B3'),
c AS (
	SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE peer = 'track=on') AS us_on,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE peer = 'track=off') AS us_off
	  FROM bench.timings WHERE bench = 'B3cpu')
INSERT INTO bench.results (bench, peer, figure, ratio, target, met, note)
SELECT 'B3 pgbench', 'throughput, track on / off',
	   round(tps_on::numeric) || ' / ' || round(tps_off::numeric) || ' tps',
	   round((tps_on / tps_off)::numeric, 3) || ' of off',
	   'cost <= 5%', CASE WHEN tps_on >= 0.95 * tps_off THEN 'met' ELSE 'NOT met' END,
	   format('statistics cost %s%%; medians of eight runs each, order (on off off on) x 4',
			  round(((1 - tps_on / tps_off) * 100)::numeric, 1))
  FROM t
UNION ALL
SELECT 'B3 pgbench', 'server CPU per transaction, on / off',
	   round(us_on::numeric, 1) || ' / ' || round(us_off::numeric, 1) || ' us',
	   round((us_on / us_off)::numeric, 3) || ' of off', NULL, NULL,
	   'exited backends'' CPU (postmaster cutime + cstime) / transactions; medians'
  FROM c
UNION ALL
SELECT 'B3 pgbench', 'counters after each run',
	   format('%s of %s runs exact', count(*) FILTER (WHERE split_part(n, ':', 2) = split_part(n, ':', 3)),
			  count(*)),
	   NULL, 'exact', CASE WHEN :'exact' = 'true' THEN 'met' ELSE 'NOT met' END,
	   format('policies_executed grew by the %s transactions pgbench counted with track on, by 0 with it off',
			  sum(split_part(n, ':', 1)::bigint) FILTER (WHERE peer = 'track=on'))
  FROM bench.timings WHERE bench = 'B3';
EOF
fi

# ------------------------------------------------------------ B4 and B5
if selected B4; then
	echo "== B4: compiling a 1,000-line policy"
	"${PSQL[@]}" -f "$SQL/50_b4_compile.sql" >/dev/null
fi
if selected B5; then
	echo "== B5: 1,000,000 calls in one session"
	"${PSQL[@]}" -f "$SQL/60_b5_memory.sql" >/dev/null
fi

if selected B6; then
	echo "== B6: RLS read with the caller from a token vs a role binding"
	"${PSQL[@]}" -f "$SQL/70_b6_tokens.sql" >/dev/null
fi

# --------------------------------------------------------------- report
"${PSQL[@]}" -f "$SQL/90_report.sql"
{
	echo "# ecl benchmarks (docs/performance.md)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $(psql -XAtc 'SHOW server_version'), $(nproc) cores," \
		"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), repetitions: $BENCH_REPS (median), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	psql -XAt -c "SELECT line FROM bench.report ORDER BY ord"
} >"$BENCH_OUT"
echo
cat "$BENCH_OUT"
