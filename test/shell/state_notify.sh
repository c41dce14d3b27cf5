#!/bin/bash
# ecl.simulate sends no notification (docs/host-and-state.md): a session listening on
# ecl_events receives nothing from simulated runs that emit — on a snapshot,
# on a hand-written state, committed or not — and, as the control that the
# listener works, one notification per event from the same policy run with
# ecl.run_policy.  psql prints the sender's PID in each notification line,
# so this is a shell test that strips it rather than a pg_regress suite.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh.  ECL_EXTENSION
# names the extension to create (default ecl).
set -eu

EXT=${ECL_EXTENSION:-ecl}
DB=ecl_state_notify_test
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"

actual=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" 2>&1 <<SQL | sed -E 's/ received from server process with PID [0-9]+\././'
CREATE EXTENSION $EXT;
INSERT INTO ecl.realms (realm_id) VALUES ('sn-realm');
SELECT ecl.register_policy('sn_emit',
	'policy sn_emit { emit "ping", {n: n}; store_put("s", "k", n); return true }') IS NOT NULL;
LISTEN ecl_events;
SELECT 'simulate on a snapshot';
SELECT passed, jsonb_array_length(events) FROM ecl.simulate('sn_emit', 'did:example:c', 'sn-realm', '{"n": 1}', ecl.snapshot('sn-realm'));
SELECT 'simulate on a hand-written state';
SELECT passed, jsonb_array_length(events) FROM ecl.simulate('sn_emit', NULL, 'sn-realm', '{"n": 2}', '{}');
SELECT 'simulate in a committed transaction';
BEGIN;
SELECT passed FROM ecl.simulate('sn_emit', NULL, 'sn-realm', '{"n": 3}', '{}');
COMMIT;
SELECT 'run_policy (control)';
SELECT passed FROM ecl.run_policy('sn_emit', NULL, 'sn-realm', '{"n": 4}');
SELECT 'tables';
SELECT count(*) FROM ecl.events;
SELECT key, value FROM ecl.store;
SQL
)

expected=$(cat <<'EOF'
t
simulate on a snapshot
t|1
simulate on a hand-written state
t|1
simulate in a committed transaction
t
run_policy (control)
t
Asynchronous notification "ecl_events" with payload "{"id":1,"realm":"sn-realm","policy":"sn_emit","caller":null,"event":"ping","payload":{"n": 4}}".
tables
1
k|4
EOF
)

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"

if [ "$actual" = "$expected" ]; then
	echo "ok - simulate sends no notification; run_policy does"
	exit 0
fi
echo "not ok - notifications differ:"
diff <(echo "$expected") <(echo "$actual") || true
exit 1
