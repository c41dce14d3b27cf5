#!/bin/bash
# Shadow evaluation under load and across sessions (docs/lifecycle.md,
# "Shadow evaluation").
#
# 1. pgbench, 8 clients: the policy answers `amount < 100`, its candidate
#    says `amount < 50`.  Every call logs its random amount and the answer it
#    got in a table, so the exact number of comparisons (calls) and of
#    disagreements (amounts 50..99) is known from the data; the counters of
#    ecl.stat_eclvm_policies must equal them exactly, and every answer must
#    be the policy's, never the candidate's.  Two entry points share the
#    load: ecl.check and ecl.run_policy.
# 2. Two sessions: B sets, promotes and drops candidates while A keeps a
#    cached policy and a prepared plan; A's next statement runs with the
#    candidate (cached programs and plans are invalidated), and no longer
#    runs it once it is dropped.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh (PGHOST,
# PGPORT, PGUSER, PGDATABASE come from pg_virtualenv).  ECL_EXTENSION names
# the extension to create (default ecl).
set -eu

EXT=${ECL_EXTENSION:-ecl}
DB=ecl_shadow_test
failures=0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<SQL
CREATE EXTENSION $EXT;
CREATE TABLE answers (entry text, amount int, answered boolean);
SELECT ecl.register_policy('bench_limit', 'policy bench_limit { return amount < 100 }') IS NOT NULL;
SELECT ecl.set_shadow('bench_limit', 'policy bench_limit { return amount < 50 }') IS NOT NULL;
SELECT ecl.stat_reset();
SQL

# ------------------------------------------------------------- pgbench
cat >"$WORK/check.sql" <<'SQL'
\set amount random(0, 199)
INSERT INTO answers SELECT 'check', :amount,
	ecl.check('bench_limit', 'did:bench:caller', NULL, jsonb_build_object('amount', :amount));
SQL
cat >"$WORK/run.sql" <<'SQL'
\set amount random(0, 199)
INSERT INTO answers SELECT 'run_policy', :amount,
	(ecl.run_policy('bench_limit', 'did:bench:caller', NULL, jsonb_build_object('amount', :amount))).passed;
SQL
pgbench -n -c 8 -j 2 -t 300 -f "$WORK/check.sql" -f "$WORK/run.sql" "$DB" >"$WORK/pgbench.out" 2>&1 ||
	{ cat "$WORK/pgbench.out"; exit 1; }
expect "pgbench ran 2400 transactions" 2400 "$(q "SELECT count(*) FROM answers")"
expect "both entry points were used" 2 "$(q "SELECT count(DISTINCT entry) FROM answers")"
expect "every answer is the policy's (amount < 100), none the candidate's" 0 \
	"$(q "SELECT count(*) FROM answers WHERE answered IS DISTINCT FROM (amount < 100)")"
expect "some amounts fall between the two limits" t \
	"$(q "SELECT count(*) > 0 FROM answers WHERE amount BETWEEN 50 AND 99")"
expect "calls = shadow_runs = the logged calls" \
	"$(q "SELECT count(*) || ' ' || count(*) FROM answers")" \
	"$(q "SELECT calls || ' ' || shadow_runs FROM ecl.stat_eclvm_policies WHERE policy = 'bench_limit'")"
expect "shadow_disagreements = the logged amounts in 50..99, exactly" \
	"$(q "SELECT count(*) FROM answers WHERE amount BETWEEN 50 AND 99")" \
	"$(q "SELECT shadow_disagreements FROM ecl.stat_eclvm_policies WHERE policy = 'bench_limit'")"

# ------------------------------------------------------- two sessions
open_session() {
	mkfifo "$WORK/$1.in" "$WORK/$1.out"
	psql -X -q -At -d "$DB" <"$WORK/$1.in" >"$WORK/$1.out" 2>&1 &
}
open_session A
exec {A_in}>"$WORK/A.in" {A_out}<"$WORK/A.out"
askA() {
	local line result=""
	printf '%s\n\\echo __done__\n' "$1" >&"$A_in"
	while IFS= read -r -t 60 line <&"$A_out"; do
		[ "$line" = "__done__" ] && break
		result+="${result:+$'\n'}$line"
	done
	printf '%s' "$result"
}
shadow_runs() {
	q "SELECT coalesce(sum(shadow_runs), 0) || ' ' || coalesce(sum(shadow_disagreements), 0)
	     FROM ecl.stat_eclvm_policies WHERE policy = '$1'"
}

q "SELECT ecl.register_policy('two_limit', 'policy two_limit { return amount < 100 }') IS NOT NULL" >/dev/null
q "CREATE TABLE rows100 AS SELECT g AS amount FROM generate_series(0, 99) g" >/dev/null
askA "PREPARE scan AS SELECT count(*) FROM rows100 WHERE ecl.check('two_limit', 'did:bench:a', NULL, jsonb_build_object('amount', amount));" >/dev/null
expect "A: the prepared scan passes every row" 100 "$(askA "EXECUTE scan;")"
expect "A: ... translated to SQL, no runs in the VM" "0 0" "$(shadow_runs two_limit)"
expect "A: a run_policy caches the policy" t \
	"$(askA "SELECT (ecl.run_policy('two_limit', 'did:bench:a', NULL, '{\"amount\": 70}')).passed;")"

q "SELECT ecl.set_shadow('two_limit', 'policy two_limit { return amount < 50 }') IS NOT NULL" >/dev/null
expect "A: the cached policy runs with B's candidate at A's next statement" t \
	"$(askA "SELECT (ecl.run_policy('two_limit', 'did:bench:a', NULL, '{\"amount\": 70}')).passed;")"
expect "... counted as one disagreement" "1 1" "$(shadow_runs two_limit)"
expect "A: the prepared scan is replanned and still passes every row" 100 "$(askA "EXECUTE scan;")"
expect "... each row compared in the VM: 100 runs, 50 disagreements more" "101 51" "$(shadow_runs two_limit)"

q "SELECT ecl.drop_shadow('two_limit')" >/dev/null
expect "A: after B drops the candidate, the scan" 100 "$(askA "EXECUTE scan;")"
askA "SELECT (ecl.run_policy('two_limit', 'did:bench:a', NULL, '{\"amount\": 70}')).passed;" >/dev/null
expect "... and a run compare nothing more" "101 51" "$(shadow_runs two_limit)"

q "SELECT ecl.set_shadow('two_limit', 'policy two_limit { return amount < 50 }') IS NOT NULL" >/dev/null
q "SELECT ecl.promote_shadow('two_limit') IS NOT NULL" >/dev/null
expect "A: B's promoted candidate answers A's next run" f \
	"$(askA "SELECT (ecl.run_policy('two_limit', 'did:bench:a', NULL, '{\"amount\": 70}')).passed;")"
expect "A: and A's prepared scan" 50 "$(askA "EXECUTE scan;")"
expect "... version 2 in the history" "1 2" \
	"$(q "SELECT string_agg(version::text, ' ' ORDER BY version) FROM ecl.policy_versions WHERE name = 'two_limit'")"

exec {A_in}>&-
wait
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
