--
-- emit and the transactional behaviour of a run's writes (docs/sql-api.md, "The table host"): events
-- go to ecl.events and the run's result; a denied or failed run leaves no
-- store row and no event; the writes commit or roll back with the calling
-- transaction; read-only runs (ecl.check, ecl.allowed) refuse policies that
-- write or emit (25006).  The pg_notify side is checked by
-- test/shell/events_notify.sh (psql prints the sender's PID).
--
\set VERBOSITY terse

INSERT INTO ecl.identities (did) VALUES ('did:regress:he-alice');
INSERT INTO ecl.realms (realm_id) VALUES ('he-realm');

SELECT ecl.register_policy('he_emit', $ecl$
policy he_emit {
    emit "plain"
    emit "with_payload", {amount: amount, who: caller, tags: ["x"]}
    emit "scalar", 42
    return true
}
$ecl$) IS NOT NULL AS registered;

SELECT passed, value, events FROM ecl.run_policy('he_emit', 'did:regress:he-alice', 'he-realm', '{"amount": 7}');
SELECT realm_id, policy, caller, event, payload
  FROM ecl.events WHERE policy = 'he_emit' ORDER BY id;
-- ids increase in emit order
SELECT array_agg(event ORDER BY id) AS in_order FROM ecl.events WHERE policy = 'he_emit';
-- no caller and no realm are stored as NULL
SELECT events FROM ecl.run_policy('he_emit', NULL, NULL, '{"amount": 1}');
SELECT count(*) AS rows, count(realm_id) AS with_realm, count(caller) AS with_caller
  FROM ecl.events WHERE policy = 'he_emit' AND (payload->>'amount')::int = 1;

-- ---------------------------------------------- a denied run keeps nothing
SELECT ecl.register_policy('he_write_then_decide', $ecl$
policy he_write_then_decide {
    store_put("ledger", key, amount)
    emit "ledger_written", {key: key}
    log("wrote " + key)
    require amount <= 100, "amount too large"
    return true
}
$ecl$) IS NOT NULL AS registered;

SELECT passed, message, logs, events
  FROM ecl.run_policy('he_write_then_decide', 'did:regress:he-alice', 'he-realm', '{"key": "big", "amount": 500}');
SELECT count(*) AS store_rows FROM ecl.store WHERE realm_id = 'he-realm' AND key = 'big';
SELECT count(*) AS event_rows FROM ecl.events WHERE policy = 'he_write_then_decide';

-- a passing run keeps both
SELECT passed, logs, events
  FROM ecl.run_policy('he_write_then_decide', 'did:regress:he-alice', 'he-realm', '{"key": "small", "amount": 50}');
SELECT key, value FROM ecl.store WHERE realm_id = 'he-realm' AND store_name = 'ledger';
SELECT event, payload FROM ecl.events WHERE policy = 'he_write_then_decide';

-- a falsy return is a denial too
SELECT ecl.register_policy('he_write_return_false', $ecl$
policy he_write_return_false { store_put("ledger", "falsy", 1); emit "never"; return 0 }
$ecl$) IS NOT NULL AS registered;
SELECT passed, value, events FROM ecl.run_policy('he_write_return_false', NULL, 'he-realm');
SELECT count(*) AS falsy_rows FROM ecl.store WHERE key = 'falsy';
SELECT count(*) AS never_events FROM ecl.events WHERE event = 'never';

-- enforce: the denial is an error (EC001) and nothing is kept
SELECT passed FROM ecl.enforce('he_write_then_decide', 'did:regress:he-alice', 'he-realm', '{"key": "enforced", "amount": 1000}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS enforced_rows FROM ecl.store WHERE key = 'enforced';

-- a runtime error after the writes: the error is raised, nothing is kept,
-- and a caller that catches it carries on with a clean state
SELECT ecl.register_policy('he_write_then_fail', $ecl$
policy he_write_then_fail { store_put("ledger", "failing", 1); emit "failing"; return 1 / divisor }
$ecl$) IS NOT NULL AS registered;
SELECT ecl.run_policy('he_write_then_fail', NULL, 'he-realm', '{"divisor": 0}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS failing_rows FROM ecl.store WHERE key = 'failing';
SELECT count(*) AS failing_events FROM ecl.events WHERE event = 'failing';
BEGIN;
SAVEPOINT s;
SELECT ecl.run_policy('he_write_then_fail', NULL, 'he-realm', '{"divisor": 0}');
ROLLBACK TO SAVEPOINT s;
SELECT (ecl.run_policy('he_write_then_fail', NULL, 'he-realm', '{"divisor": 4}')).value AS after_caught_error;
SELECT count(*) AS failing_rows_of_passing_run FROM ecl.store WHERE key = 'failing';
ROLLBACK;

-- an error in a PL/pgSQL block that catches it
DO $$
BEGIN
	PERFORM ecl.run_policy('he_write_then_fail', NULL, 'he-realm', '{"divisor": 0}');
EXCEPTION WHEN division_by_zero THEN
	RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
SELECT count(*) AS failing_rows_after_do FROM ecl.store WHERE key = 'failing';

-- errors that arrive by longjmp in the middle of a writing run (a statement
-- timeout, a stack overflow while converting a payload) are reported intact
-- and keep nothing; they used to leave the error report pointing into freed
-- memory and crash the backend (terse: the stack hint names a setting)
SET ecl.gas_limit = 2000000000;
SET ecl.timeout_ms = 600000;
SET statement_timeout = '100ms';
SELECT ecl.eval($ecl$store_put("ledger", "timed_out", 1)
let s = 0
for a in x { for b in x { for c in x { s = s + 1 } } }
return s$ecl$, (SELECT jsonb_build_object('x', jsonb_agg(g)) FROM generate_series(1, 400) g),
	NULL, 'he-realm');
RESET statement_timeout;
SELECT ecl.eval($ecl$let a = []
for i in x { a = [a] }
emit "too_deep", a$ecl$, (SELECT jsonb_build_object('x', jsonb_agg(g)) FROM generate_series(1, 200000) g),
	NULL, 'he-realm');
RESET ecl.timeout_ms;
RESET ecl.gas_limit;
SELECT (SELECT count(*) FROM ecl.store WHERE key = 'timed_out') AS timed_out_rows,
	(SELECT count(*) FROM ecl.events WHERE event = 'too_deep') AS too_deep_events;

-- ------------------------------------ writes follow the calling transaction
BEGIN;
SELECT passed FROM ecl.run_policy('he_write_then_decide', 'did:regress:he-alice', 'he-realm', '{"key": "rolled_back", "amount": 5}');
SELECT count(*) AS visible_inside FROM ecl.store WHERE key = 'rolled_back';
ROLLBACK;
SELECT count(*) AS after_rollback FROM ecl.store WHERE key = 'rolled_back';
SELECT count(*) AS events_after_rollback FROM ecl.events WHERE payload->>'key' = 'rolled_back';

BEGIN;
SELECT passed FROM ecl.run_policy('he_write_then_decide', 'did:regress:he-alice', 'he-realm', '{"key": "committed", "amount": 5}');
COMMIT;
SELECT count(*) AS after_commit FROM ecl.store WHERE key = 'committed';

-- several runs in one statement, some denied: only the passing ones write
SELECT k, (ecl.run_policy('he_write_then_decide', NULL, 'he-realm',
						  jsonb_build_object('key', k, 'amount', a))).passed
  FROM (VALUES ('m1', 10), ('m2', 1000), ('m3', 20)) AS v(k, a) ORDER BY k;
SELECT array_agg(key ORDER BY key) AS kept FROM ecl.store WHERE key IN ('m1', 'm2', 'm3');

-- --------------------------------------------------------------- read-only
-- a policy that writes or emits cannot run in ecl.check / ecl.allowed
SELECT ecl.check('he_emit', 'did:regress:he-alice', 'he-realm', '{"amount": 1}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.check('he_write_then_decide', NULL, 'he-realm', '{"key": "ro", "amount": 1}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.allowed('he_write_then_decide', 'he-realm', '{"key": "ro", "amount": 1}');
\echo :LAST_ERROR_SQLSTATE
-- store reads are fine
SELECT ecl.register_policy('he_read_only', $ecl$
policy he_read_only { return store_get("ledger", "small") == 50 && store_count("ledger") > 0 }
$ecl$) IS NOT NULL AS registered;
SELECT ecl.check('he_read_only', NULL, 'he-realm') AS reads_in_check;

-- ------------------------------------------------------------------ clean up
SELECT ecl.drop_policy(p) FROM unnest(ARRAY['he_emit', 'he_write_then_decide',
	'he_write_return_false', 'he_write_then_fail', 'he_read_only']) AS p;
DELETE FROM ecl.events WHERE policy LIKE 'he\_%';
DELETE FROM ecl.store WHERE realm_id = 'he-realm';
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:he-%';
DELETE FROM ecl.realms WHERE realm_id = 'he-realm';
