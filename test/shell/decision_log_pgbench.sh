#!/bin/bash
# The decision log under load (docs/lifecycle.md, "Decision log"):
#   1. pgbench, 8 clients: every decision is in ecl.decision_log exactly
#      once, with the outcome the call itself returned (each call records
#      its own result in a table of the test);
#   2. with the launcher stopped (SIGSTOP) and a queue of 16 records,
#      pgbench's calls still all return within statement_timeout, the
#      queue keeps 16 and every other decision is counted as dropped;
#      once the launcher runs again the 16 are written;
#   3. a batch the writer cannot insert (a trigger that raises) is counted
#      as dropped once and the next batch is written.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh (PG* from
# pg_virtualenv, PGUSER a superuser, shared_preload_libraries = ecl).
set -eu

DB=ecl_decisions
failures=0
launcher=
WORK=$(mktemp -d)

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}

cleanup() {
	[ -n "$launcher" ] && kill -CONT "$launcher" 2>/dev/null || true
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# wait_rows <n>: until ecl.decision_log has n rows (30 s at most)
wait_rows() {
	local i
	for i in $(seq 1 300); do
		[ "$(q "SELECT count(*) FROM ecl.decision_log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 0
}

# the launcher's pid: the child of the postmaster with its title
launcher_pid() {
	local pm
	pm=$(head -1 "$(q "SHOW data_directory")/postmaster.pid")
	pgrep -P "$pm" -f 'ecl decision log launcher'
}

psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
CREATE DATABASE $DB;
ALTER SYSTEM SET ecl.decision_log_flush_interval = '50ms';
SELECT pg_reload_conf() \gset
SQL
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL' >/dev/null
CREATE EXTENSION ecl;
SELECT ecl.register_policy('dl_bench', $$
policy dl_bench {
    require id % 3 != 0, "every third is denied"
    return true
}
$$);
CREATE SEQUENCE call_id;
CREATE TABLE calls (id bigint PRIMARY KEY, client int, passed boolean);
SQL
cat >"$WORK/dl_bench.sql" <<'SQL'
INSERT INTO calls (id, client, passed)
SELECT s, :client_id,
       ecl.check('dl_bench', 'did:example:client-' || :client_id, NULL,
                 jsonb_build_object('id', s, 'client', :client_id))
  FROM nextval('call_id') s;
SQL
export PGOPTIONS="-c ecl.decision_log=all -c ecl.decision_log_inputs=on -c statement_timeout=5s"

# ---- 1. every decision once, with the call's own outcome
pgbench -n -c 8 -j 2 -t 250 -f "$WORK/dl_bench.sql" "$DB" >/dev/null
calls=$(q "SELECT count(*) FROM calls")
expect "8 clients made 2000 calls" 2000 "$calls"
wait_rows "$calls"
sleep 0.3
expect "every call is logged" 2000 "$(q "SELECT count(*) FROM ecl.decision_log")"
expect "no call is logged twice" 2000 "$(q "SELECT count(DISTINCT (input->>'id')) FROM ecl.decision_log")"
expect "each logged outcome is the call's own" 0 "$(q "
	SELECT count(*) FROM calls c
	  LEFT JOIN ecl.decision_log d ON (d.input->>'id')::bigint = c.id
	 WHERE d.id IS NULL OR d.passed IS DISTINCT FROM c.passed
	    OR d.caller <> 'did:example:client-' || c.client
	    OR (NOT c.passed AND d.message IS DISTINCT FROM 'every third is denied')")"
expect "per client, as many decisions as calls" "" "$(q "
	SELECT string_agg(c.client::text, ',') FROM
	  (SELECT client, count(*) n FROM calls GROUP BY 1) c
	  FULL JOIN (SELECT (input->>'client')::int client, count(*) n
	               FROM ecl.decision_log GROUP BY 1) d USING (client)
	 WHERE c.n IS DISTINCT FROM d.n")"
expect "counted as logged, none dropped" "2000 0" "$(q "
	SELECT decisions_logged || ' ' || decisions_dropped FROM ecl.stat_eclvm
	 WHERE datname = current_database()")"

# ---- 2. a tiny queue, the launcher stopped: nothing waits, drops counted
psql -X -q -d postgres -c "ALTER SYSTEM SET ecl.decision_log_queue_size = 16"
pg_ctlcluster "$PGVERSION" regress restart
expect "the queue holds 16" 16 "$(q "SHOW ecl.decision_log_queue_size")"
q "TRUNCATE calls" >/dev/null
before=$(q "SELECT count(*) FROM ecl.decision_log")
launcher=$(launcher_pid)
expect "one launcher" 1 "$(echo "$launcher" | wc -w)"
kill -STOP "$launcher"
start=$(date +%s)
pgbench -n -c 8 -j 2 -t 50 -f "$WORK/dl_bench.sql" "$DB" >"$WORK/pgbench.out" 2>&1 || true
elapsed=$(( $(date +%s) - start ))
expect "all 400 calls returned while the launcher was stopped" 400 "$(q "SELECT count(*) FROM calls")"
expect "no call timed out" 0 "$(grep -c 'canceling statement' "$WORK/pgbench.out" || true)"
[ "$elapsed" -lt 30 ] && echo "ok - 400 calls in ${elapsed}s" || { echo "not ok - 400 calls took ${elapsed}s"; failures=$((failures + 1)); }
expect "the queue kept 16, 384 dropped and counted" "384" "$(q "
	SELECT decisions_dropped FROM ecl.stat_eclvm WHERE datname = current_database()")"
expect "ecl.recent_decisions shows the 16" 16 "$(q "SELECT count(*) FROM ecl.recent_decisions")"
kill -CONT "$launcher"
launcher=
wait_rows $((before + 16))
sleep 0.3
expect "the 16 are written once the launcher runs" $((before + 16)) "$(q "SELECT count(*) FROM ecl.decision_log")"
expect "logged + dropped = calls" 400 "$(q "
	SELECT (SELECT count(*) FROM ecl.decision_log) - $before + decisions_dropped
	  FROM ecl.stat_eclvm WHERE datname = current_database()")"

# ---- 3. a batch that cannot be written is dropped once; the next is written
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL' >/dev/null
CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.input->>'id' = '-1' THEN RAISE EXCEPTION 'poisoned batch'; END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER poison BEFORE INSERT ON ecl.decision_log FOR EACH ROW EXECUTE FUNCTION poison();
SQL
dropped=$(q "SELECT decisions_dropped FROM ecl.stat_eclvm WHERE datname = current_database()")
rows=$(q "SELECT count(*) FROM ecl.decision_log")
q "SELECT ecl.check('dl_bench', 'did:example:poison', NULL, '{\"id\": -1}')" >/dev/null
for i in $(seq 1 100); do
	[ "$(q "SELECT decisions_dropped FROM ecl.stat_eclvm WHERE datname = current_database()")" -gt "$dropped" ] && break
	sleep 0.1
done
q "SELECT ecl.check('dl_bench', 'did:example:after', NULL, '{\"id\": 1}')" >/dev/null
wait_rows $((rows + 1))
sleep 0.5
expect "the poisoned batch is dropped and counted once" $((dropped + 1)) "$(q "
	SELECT decisions_dropped FROM ecl.stat_eclvm WHERE datname = current_database()")"
expect "the next batch is written, the poisoned one never" "did:example:after" "$(q "
	SELECT string_agg(caller, ',') FROM ecl.decision_log WHERE id > (SELECT max(id) FROM ecl.decision_log) - 1
	   OR caller = 'did:example:poison'")"

[ "$failures" -eq 0 ] || { echo "$failures checks failed"; exit 1; }
echo "all decision log load checks passed"
