#!/bin/bash
# Cross-session invalidation of the per-backend handler cache (engines.c,
# docs/engines.md): session A keeps a connection open with a cached handler while
# session B re-registers, drops, truncates or registers it inside an open
# transaction.  A must see each committed change from its next statement
# and never B's uncommitted ones; cached lookups must not read ecl.handlers.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh (PGHOST,
# PGPORT, PGUSER, PGDATABASE come from pg_virtualenv).
set -eu

EXT=${ECL_EXTENSION:-ecl}
DB=ecl_handler_cache_test
failures=0

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION $EXT"

# Two long-lived psql sessions reading from FIFOs; a marker ends each answer.
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

# ask <session> <sql>: the output of sql in that session, one line per row
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

expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}

run_ui="SELECT value FROM ecl.run_ui('panel', NULL, NULL, '{\"component\": \"panel\"}');"
handler_reads="SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables WHERE relid = 'ecl.handlers'::regclass;"
ask A '\set VERBOSITY sqlstate' >/dev/null
ask B '\set VERBOSITY sqlstate' >/dev/null

ask B "SELECT ecl.register_handler('ui', 'panel', 'return 1') IS NOT NULL;" >/dev/null
expect "A runs the handler" 1 "$(ask A "$run_ui")"

ask A "BEGIN;" >/dev/null
before=$(ask A "$handler_reads")
ask A "$run_ui" >/dev/null
ask A "$run_ui" >/dev/null
expect "cached runs do not read ecl.handlers" 0 "$(( $(ask A "$handler_reads") - before ))"
ask A "COMMIT;" >/dev/null

ask B "SELECT ecl.register_handler('ui', 'panel', 'return 2') IS NOT NULL;" >/dev/null
ask A "BEGIN;" >/dev/null
before=$(ask A "$handler_reads")
expect "A sees B's re-registration" 2 "$(ask A "$run_ui")"
expect "... reading ecl.handlers once for it" 1 "$(( $(ask A "$handler_reads") - before ))"
ask A "COMMIT;" >/dev/null

ask B "SELECT ecl.drop_handler('ui', 'panel');" >/dev/null
expect "A sees B's drop" "ERROR:  42704" "$(ask A "$run_ui")"

ask B "BEGIN; SELECT ecl.register_handler('ui', 'panel', 'return 3') IS NOT NULL;" >/dev/null
expect "B sees its own uncommitted handler" 3 "$(ask B "$run_ui")"
expect "A does not see B's uncommitted handler" "ERROR:  42704" "$(ask A "$run_ui")"
ask B "COMMIT;" >/dev/null
expect "A sees it once B commits" 3 "$(ask A "$run_ui")"

ask B "BEGIN; SELECT ecl.drop_handler('ui', 'panel');" >/dev/null
expect "A keeps the handler while B's drop is open" 3 "$(ask A "$run_ui")"
ask B "ROLLBACK;" >/dev/null
expect "A keeps the handler after B's rollback" 3 "$(ask A "$run_ui")"

ask B "SELECT ecl.drop_policy('ui:panel');" >/dev/null
expect "dropping the policy in B removes the handler for A" "ERROR:  42704" "$(ask A "$run_ui")"

ask B "SELECT ecl.register_handler('ui', 'panel', 'return 4') IS NOT NULL;" >/dev/null
expect "A sees the handler registered again" 4 "$(ask A "$run_ui")"
ask B "TRUNCATE ecl.handlers;" >/dev/null
expect "A sees a TRUNCATE of ecl.handlers" "ERROR:  42704" "$(ask A "$run_ui")"

exec {A_in}>&- {B_in}>&-
wait
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
