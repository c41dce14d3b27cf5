#!/bin/bash
# emit sends pg_notify('ecl_events', json) (docs/sql-api.md, "The table host"): a listener receives one
# notification per event of a run that passed and committed, none for a
# denied run or a rolled-back transaction; a payload too large for NOTIFY is
# left out of the notification (it is in ecl.events).  psql prints the
# sender's PID in each notification line, so this is a shell test that
# strips it rather than a pg_regress suite.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh.  ECL_EXTENSION
# names the extension to create (default ecl).
set -eu

EXT=${ECL_EXTENSION:-ecl}
DB=ecl_notify_test
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"

actual=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" 2>&1 <<SQL | sed -E 's/ received from server process with PID [0-9]+\././'
CREATE EXTENSION $EXT;
INSERT INTO ecl.realms (realm_id) VALUES ('n-realm');
SELECT ecl.register_policy('notify_ok',
	'policy notify_ok { require n < 100, "too big"; emit "ping", {n: n}; emit "pong"; return true }') IS NOT NULL;
SELECT ecl.register_policy('notify_big',
	'policy notify_big { emit "big", {blob: blob}; return true }') IS NOT NULL;
LISTEN ecl_events;
SELECT 'passed run';
SELECT passed FROM ecl.run_policy('notify_ok', 'did:example:caller', 'n-realm', '{"n": 1}');
SELECT 'denied run';
SELECT passed FROM ecl.run_policy('notify_ok', 'did:example:caller', 'n-realm', '{"n": 500}');
SELECT 'rolled back';
BEGIN;
SELECT passed FROM ecl.run_policy('notify_ok', NULL, NULL, '{"n": 2}');
ROLLBACK;
SELECT 'committed transaction';
BEGIN;
SELECT passed FROM ecl.run_policy('notify_ok', NULL, NULL, '{"n": 3}');
COMMIT;
SELECT 'big payload';
SELECT passed FROM ecl.run_policy('notify_big', NULL, 'n-realm', jsonb_build_object('blob', repeat('x', 9000)));
SELECT 'events table';
SELECT id, event, octet_length(payload::text) FROM ecl.events ORDER BY id;
SQL
)

# ids: the denied run stops before its emits; the rolled-back transaction
# used ids 3 and 4 (sequences do not roll back).
expected=$(cat <<'EOF'
t
t
passed run
t
Asynchronous notification "ecl_events" with payload "{"id":1,"realm":"n-realm","policy":"notify_ok","caller":"did:example:caller","event":"ping","payload":{"n": 1}}".
Asynchronous notification "ecl_events" with payload "{"id":2,"realm":"n-realm","policy":"notify_ok","caller":"did:example:caller","event":"pong","payload":null}".
denied run
f
rolled back
t
committed transaction
t
Asynchronous notification "ecl_events" with payload "{"id":5,"realm":null,"policy":"notify_ok","caller":null,"event":"ping","payload":{"n": 3}}".
Asynchronous notification "ecl_events" with payload "{"id":6,"realm":null,"policy":"notify_ok","caller":null,"event":"pong","payload":null}".
big payload
t
Asynchronous notification "ecl_events" with payload "{"id":7,"realm":"n-realm","policy":"notify_big","caller":null,"event":"big","payload":null,"payload_omitted":true}".
events table
1|ping|8
2|pong|4
5|ping|8
6|pong|4
7|big|9012
EOF
)

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB"

if [ "$actual" = "$expected" ]; then
	echo "ok - notifications match"
	exit 0
fi
echo "not ok - notifications differ:"
diff <(echo "$expected") <(echo "$actual") || true
exit 1
