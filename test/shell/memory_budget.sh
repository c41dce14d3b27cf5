#!/bin/bash
# Memory is a budget like gas (ecl.memory_limit): a bare-name string field
# of 32 MB read 150 times in a loop, by an unprivileged role under the
# default budgets.  Each read used to convert the field from jsonb again
# (150 copies: 3.5 GB of backend memory).  Now the run must either finish
# or fail with EC008 — never run until a timeout — and the backend's peak
# memory (VmHWM, read from /proc for the pid of the very session that ran
# it) must stay under 512 MB.  (The issue's one-line source lost its line
# breaks; ECL needs a newline or ';' between statements.)
#
# Runs inside the throw-away cluster of test/run-all-tests.sh.  ECL_EXTENSION
# names the extension to create (default ecl).
set -eu

EXT=${ECL_EXTENSION:-ecl}
DB=ecl_memory_test
LIMIT_KB=$((512 * 1024))
OUT=$(mktemp -d)
chmod 777 "$OUT"
trap 'rm -rf "$OUT"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
	-c "DROP ROLE IF EXISTS ecl_mem_user" -c "CREATE ROLE ecl_mem_user LOGIN PASSWORD 'ecl_mem_pw'"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION $EXT"

# One session: its pid, the reproduction (the exit status and SQLSTATE are
# kept, not fatal), then its VmHWM while the session is still open.  A
# statement_timeout far above the run's expected time turns a runaway run
# into 57014, which fails the test below.
set +e
PGPASSWORD=ecl_mem_pw psql -X -At -U ecl_mem_user -d "$DB" >"$OUT/session" 2>&1 <<SQL
\set VERBOSITY sqlstate
SET statement_timeout = '120s';
SELECT pg_backend_pid() AS pid \gset
\setenv ECL_PID :pid
SELECT 'result ' || (ecl.eval(E'let n = 0\\nfor i in rounds { n = n + str_len(v) }\\nreturn n', jsonb_build_object('v', repeat('w', 32*1024*1024), 'rounds', (SELECT jsonb_agg(g) FROM generate_series(1,150) g))))::text;
\! grep VmHWM /proc/\$ECL_PID/status > $OUT/hwm
SQL
set -e

cat "$OUT/session"
if ! [ -s "$OUT/hwm" ]; then
	echo "FAIL: could not read the backend's VmHWM"
	exit 1
fi
hwm_kb=$(awk '{print $2}' "$OUT/hwm")
echo "backend VmHWM: ${hwm_kb} kB (limit ${LIMIT_KB} kB)"

status=0
if grep -q '^result 5033164800$' "$OUT/session"; then
	echo "the run completed with the right sum"
elif grep -q 'EC008' "$OUT/session"; then
	echo "the run ended with EC008"
else
	echo "FAIL: the run neither completed nor ended with EC008"
	status=1
fi
if [ "$hwm_kb" -ge "$LIMIT_KB" ]; then
	echo "FAIL: the backend's peak memory ${hwm_kb} kB is not under ${LIMIT_KB} kB"
	status=1
fi

psql -X -q -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE ecl_mem_user"
exit $status
