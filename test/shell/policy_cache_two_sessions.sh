#!/bin/bash
# Cross-session invalidation of the per-backend policy cache (docs/sql-api.md, "Registered policies"):
# session A keeps a connection open with a cached policy while session B
# re-registers, drops or tampers with it; A must see each committed change
# from its next statement, must not see B's uncommitted changes, and keeps
# seeing the old version while B's change is rolled back.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh (PGHOST,
# PGPORT, PGUSER, PGDATABASE come from pg_virtualenv).  ECL_EXTENSION names
# the extension to create (default ecl).
set -eu

EXT=${ECL_EXTENSION:-ecl}
DB=ecl_cache_test
failures=0

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION $EXT"

# Two long-lived sessions, each a psql reading from a FIFO; every command
# is followed by a marker so that we know where its output ends.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
open_session() {
	mkfifo "$WORK/$1.in" "$WORK/$1.out"
	psql -X -q -At -d "$DB" <"$WORK/$1.in" >"$WORK/$1.out" 2>&1 &
}
open_session A
open_session B
exec {A_in}>"$WORK/A.in" {A_out}<"$WORK/A.out"
exec {B_in}>"$WORK/B.in" {B_out}<"$WORK/B.out"

# ask <session> <sql>: run sql in the session, print its output (one line per row)
ask() {
	local in out line result=""
	if [ "$1" = A ]; then in=$A_in; out=$A_out; else in=$B_in; out=$B_out; fi
	printf '%s\n\\echo __done__\n' "$2" >&"$in"
	while IFS= read -r -t 60 line <&"$out"; do
		[ "$line" = "__done__" ] && break
		result+="${result:+$'\n'}$line"
	done
	printf '%s' "$result"
}

# expect <description> <expected> <actual>
expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}

run_value="SELECT value FROM ecl.run_policy('cached', NULL, NULL);"
# \set VERBOSITY sqlstate: errors print as "ERROR:  <sqlstate>"
ask A '\set VERBOSITY sqlstate' >/dev/null
ask B '\set VERBOSITY sqlstate' >/dev/null

ask B "SELECT ecl.register_policy('cached', 'return 1') IS NOT NULL;" >/dev/null
expect "A runs version 1 and caches it" 1 "$(ask A "$run_value")"

# a hit does not read ecl.policies; an invalidation makes the next run read it once
policy_reads="SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables WHERE relid = 'ecl.policies'::regclass;"
ask A "BEGIN;" >/dev/null
before=$(ask A "$policy_reads")
ask A "$run_value" >/dev/null
ask A "$run_value" >/dev/null
expect "cached runs do not read ecl.policies" 0 "$(( $(ask A "$policy_reads") - before ))"
ask A "COMMIT;" >/dev/null

ask B "SELECT ecl.register_policy('cached', 'return 2') IS NOT NULL;" >/dev/null
ask A "BEGIN;" >/dev/null
before=$(ask A "$policy_reads")
expect "A sees B's committed re-registration at its next statement" 2 "$(ask A "$run_value")"
expect "... and reads ecl.policies once for it" 1 "$(( $(ask A "$policy_reads") - before ))"
expect "A's next run hits the cache again" 2 "$(ask A "$run_value")"
expect "... without reading ecl.policies" 1 "$(( $(ask A "$policy_reads") - before ))"
ask A "COMMIT;" >/dev/null

# B's change is invisible to A until B commits, and gone if B rolls back
ask B "BEGIN; SELECT ecl.register_policy('cached', 'return 3') IS NOT NULL;" >/dev/null
expect "B sees its own uncommitted version" 3 "$(ask B "$run_value")"
expect "A does not see B's uncommitted version" 2 "$(ask A "$run_value")"
ask B "ROLLBACK;" >/dev/null
expect "A keeps version 2 after B's rollback" 2 "$(ask A "$run_value")"
expect "B is back to version 2 after its rollback" 2 "$(ask B "$run_value")"

ask B "BEGIN; SELECT ecl.register_policy('cached', 'return 4') IS NOT NULL;" >/dev/null
expect "A still runs version 2 while B's transaction is open" 2 "$(ask A "$run_value")"
ask B "COMMIT;" >/dev/null
expect "A sees version 4 once B commits" 4 "$(ask A "$run_value")"

# A inside an open transaction: the next statement sees a commit
ask A "BEGIN;" >/dev/null
expect "A in a transaction runs version 4" 4 "$(ask A "$run_value")"
ask B "SELECT ecl.register_policy('cached', 'return 5') IS NOT NULL;" >/dev/null
expect "A's next statement in the same transaction sees version 5" 5 "$(ask A "$run_value")"
ask A "COMMIT;" >/dev/null

# policies behave like catalog entries: even a REPEATABLE READ transaction
# runs the newest committed version
ask A "BEGIN ISOLATION LEVEL REPEATABLE READ;" >/dev/null
expect "A (repeatable read) runs version 5" 5 "$(ask A "$run_value")"
ask B "SELECT ecl.register_policy('cached', 'return 6') IS NOT NULL;" >/dev/null
expect "A (repeatable read) runs version 6 after B's commit" 6 "$(ask A "$run_value")"
ask A "COMMIT;" >/dev/null

# a version bump is visible in the table as well
expect "version counted every committed registration" 5 \
	"$(ask A "SELECT version FROM ecl.policies WHERE name = 'cached';")"

# tampering by a superuser in B is detected by A (EC007)
ask B "UPDATE ecl.policies SET bytecode = ecl.compile('return 666') WHERE name = 'cached';" >/dev/null
expect "A refuses the tampered bytecode" "ERROR:  EC007" "$(ask A "$run_value")"
ask B "SELECT ecl.register_policy('cached', 'return 7') IS NOT NULL;" >/dev/null
expect "A runs the repaired policy" 7 "$(ask A "$run_value")"

# drop in B: A gets 42704; a new registration is picked up again
ask B "SELECT ecl.drop_policy('cached');" >/dev/null
expect "A sees the drop" "ERROR:  42704" "$(ask A "$run_value")"
ask B "SELECT ecl.register_policy('cached', 'return 8') IS NOT NULL;" >/dev/null
expect "A sees the policy registered again" 8 "$(ask A "$run_value")"

# ecl.check (read-only, STABLE) and RLS use the same cache
ask B "SELECT ecl.register_policy('cached', 'return amount > 10') IS NOT NULL;" >/dev/null
expect "A's check follows the new version" "f" \
	"$(ask A "SELECT ecl.check('cached', NULL, NULL, '{\"amount\": 5}');")"
ask B "SELECT ecl.register_policy('cached', 'return amount > 1') IS NOT NULL;" >/dev/null
expect "A's check follows the next version" "t" \
	"$(ask A "SELECT ecl.check('cached', NULL, NULL, '{\"amount\": 5}');")"

exec {A_in}>&- {B_in}>&-
wait
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
