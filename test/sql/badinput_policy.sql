--
-- Bad input to the policy registry and the runner (docs/sql-api.md, "Registered policies"; docs/sql-api.md, "Errors"):
-- register_policy, drop_policy, run_policy, check, allowed, enforce with
-- NULLs, empty and huge names and sources, unknown names, wrong JSON shapes,
-- bad budgets and tampered stored bytecode; the statistics and mana
-- accounts' admin functions with odd arguments.  The statistics stay
-- consistent (every counted run is passed, denied or an error), nothing is
-- written by runs that fail, and the backend stays up.
--
\set VERBOSITY terse
-- This suite counts the VM runs: keep every call in the VM (translated calls are
-- not runs; planner_translate covers them).
SET ecl.translate = off;

CREATE FUNCTION pg_temp.try(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE q INTO r;
	RETURN 'ok: ' || coalesce(left(r, 60), 'NULL');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || left(SQLERRM, 140);
END
$$;

CREATE TEMP TABLE stats_before AS
	SELECT policies_executed, policies_passed, policies_denied,
		   policy_runtime_errors, out_of_gas_aborts, events_emitted
	  FROM ecl.stat_eclvm;
INSERT INTO ecl.realms (realm_id) VALUES ('bad-realm');

-- ------------------------------------------------------ register_policy
SELECT pg_temp.try($$SELECT ecl.register_policy(NULL, 'return true')$$) AS null_name;
SELECT pg_temp.try($$SELECT ecl.register_policy('', 'return true')$$) AS empty_name;
SELECT pg_temp.try($$SELECT ecl.register_policy('bad_p', NULL)$$) AS null_source;
SELECT pg_temp.try($$SELECT octet_length(ecl.register_policy('bad_p', ''))::text$$) AS empty_source;
SELECT pg_temp.try($$SELECT ecl.register_policy('bad_p', 'return true', NULL)$$) AS null_kind_is_custom;
SELECT kind FROM ecl.policies WHERE name = 'bad_p';
SELECT pg_temp.try($$SELECT ecl.register_policy('bad_p', 'return true', 'nonsense')$$) AS unknown_kind;
SELECT pg_temp.try($$SELECT ecl.register_policy('bad_p', 'return true', '')$$) AS empty_kind;
SELECT pg_temp.try($$SELECT ecl.register_policy('bad_p', 'return true', 'custom', '')$$) AS empty_realm;
SELECT pg_temp.try($$SELECT ecl.register_policy('bad_p', 'return true', 'custom', 'no-such-realm')$$) AS unknown_realm;
SELECT pg_temp.try($$SELECT ecl.register_policy('bad_p', 'return (')$$) AS syntax_error;
SELECT pg_temp.try($$SELECT ecl.register_policy('bad_p', 'return ' || repeat('(', 100000))$$) AS nesting_100k;
SELECT pg_temp.try($$SELECT ecl.register_policy('bad_two', 'policy a { return 1 } policy b { return 2 }')$$)
	AS two_policies_neither_named;
SELECT pg_temp.try($$SELECT octet_length(ecl.register_policy('b', 'policy a { return 1 } policy b { return 2 }'))::text$$)
	AS two_policies_one_named;
SELECT pg_temp.try($$SELECT octet_length(ecl.register_policy(repeat('n', 100000), 'return true'))::text$$)
	AS name_100k_chars;
SELECT pg_temp.try($$SELECT octet_length(ecl.register_policy('bad quote''; DROP TABLE ecl.store; --', 'return true'))::text$$)
	AS quote_in_name;
SELECT pg_temp.try($$SELECT octet_length(ecl.register_policy('bad_big',
	'return str_len("' || repeat('x', 1000000) || '")'))::text$$) AS one_mb_source;
SELECT pg_temp.try($$SELECT value::text FROM ecl.run_policy('bad_big', NULL, NULL)$$) AS one_mb_source_runs;
-- a failed registration leaves the earlier version in place
SELECT version, source FROM ecl.policies WHERE name = 'bad_p';
-- what the failures above left behind: nothing but the successful ones
SELECT left(name, 20) AS name, octet_length(source) AS source_bytes, version
  FROM ecl.policies WHERE name LIKE 'bad%' OR name IN ('b', repeat('n', 100000))
 ORDER BY name;

-- ------------------------------------------------------------ drop_policy
SELECT pg_temp.try($$SELECT ecl.drop_policy(NULL)$$) AS drop_null;
SELECT pg_temp.try($$SELECT ecl.drop_policy('')$$) AS drop_empty;
SELECT pg_temp.try($$SELECT ecl.drop_policy('no-such-policy')$$) AS drop_unknown;
SELECT pg_temp.try($$SELECT ecl.drop_policy(repeat('n', 100000))$$) AS drop_long_name;
SELECT pg_temp.try($$SELECT ecl.drop_policy('bad quote''; DROP TABLE ecl.store; --')$$) AS drop_quote;
SELECT pg_temp.try($$SELECT ecl.drop_policy('bad_big')$$) AS drop_big;

-- ------------------------------------------------------------- run_policy
SELECT ecl.register_policy('bad_guard', $ecl$
policy bad_guard {
    require amount > 0, "amount must be positive"
    store_put("bad_store", "last", amount)
    emit "bad_event", {amount: amount}
    return amount
}
$ecl$) IS NOT NULL AS registered;
SELECT pg_temp.try($$SELECT ecl.run_policy(NULL, 'did:x', 'bad-realm')$$) AS null_policy;
SELECT pg_temp.try($$SELECT ecl.run_policy('', 'did:x', 'bad-realm')$$) AS empty_policy;
SELECT pg_temp.try($$SELECT ecl.run_policy('no-such-policy', 'did:x', 'bad-realm')$$) AS unknown_policy;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_guard', 'did:x', 'bad-realm', NULL)$$) AS null_input_is_empty;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_guard', 'did:x', 'bad-realm', '[]')$$) AS array_input;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_guard', 'did:x', 'bad-realm', '"x"')$$) AS string_input;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_guard', 'did:x', 'bad-realm', '{"amount": "1"}')$$) AS string_amount;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_guard', 'did:x', 'bad-realm', '{"amount": 1}', 0)$$) AS zero_gas;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_guard', 'did:x', 'bad-realm', '{"amount": 1}', -1)$$) AS negative_gas;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_guard', 'did:x', 'bad-realm', '{"amount": 1}', 5)$$) AS tiny_gas;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_guard', 'did:x', 'bad-realm', '{"amount": 1}', NULL, 0)$$) AS zero_mana;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_guard', 'did:x', 'bad-realm', '{"amount": 1}', NULL, 20)$$) AS tiny_mana;
SELECT pg_temp.try($$SELECT (r.passed, r.value, r.gas_used)::text FROM ecl.run_policy('bad_guard', 'did:x', 'bad-realm',
	'{"amount": 1}', 9223372036854775807, 9223372036854775807) r$$) AS huge_budgets;
SELECT pg_temp.try($$SELECT (r.passed, r.value, r.message)::text FROM ecl.run_policy('bad_guard', 'did:x', 'bad-realm',
	'{"amount": -1}') r$$) AS denied;
SELECT pg_temp.try($$SELECT (r.passed, r.value)::text FROM ecl.run_policy('bad_guard', '', '', '{"amount": 2}') r$$)
	AS empty_caller_and_realm;
SELECT pg_temp.try($$SELECT (r.passed, r.value)::text FROM ecl.run_policy('bad_guard', NULL, NULL, '{"amount": 3}') r$$)
	AS null_caller_and_realm;
SELECT pg_temp.try($$SELECT (r.passed, r.value)::text FROM ecl.run_policy('bad_guard', repeat('d', 100000), 'bad-realm',
	'{"amount": 4}') r$$) AS caller_100k_chars;
SELECT pg_temp.try($$SELECT (r.passed, r.value)::text FROM ecl.run_policy('bad_guard', 'did:x', 'bad-realm',
	jsonb_build_object('amount', 5, 'junk', (SELECT jsonb_agg(i) FROM generate_series(1, 100000) i))) r$$)
	AS input_with_100k_array;
SELECT pg_temp.try($$SELECT (r.passed, r.value)::text FROM ecl.run_policy('bad_guard', 'did:x', 'bad-realm',
	('{"amount": 6, "deep": ' || repeat('[', 10000) || repeat(']', 10000) || '}')::jsonb) r$$)
	AS input_nested_10000;
SELECT pg_temp.try($$SELECT (r.passed, r.value)::text FROM ecl.run_policy('bad_guard', 'did:x', 'bad-realm',
	jsonb_build_object('amount', (SELECT jsonb_agg(i) FROM generate_series(1, 100000) i))) r$$)
	AS amount_is_100k_array;
-- a stored value too deep for ECL fails the run; nothing is kept
SELECT pg_temp.try($$SELECT (r.passed, r.value)::text FROM ecl.run_policy('bad_guard', 'did:x', 'bad-realm',
	('{"amount": ' || repeat('{"a":', 300) || '1' || repeat('}', 300) || '}')::jsonb) r$$)
	AS amount_nested_300;
-- a caller, realm or event name too long for a NOTIFY payload: the run
-- passes, the notification carries only the event's id
SELECT ecl.register_policy('bad_long_event', 'emit "' || repeat('e', 10000) || '"; return true') IS NOT NULL
	AS registered;
SELECT pg_temp.try($$SELECT (r.passed, r.value)::text FROM ecl.run_policy('bad_long_event', 'did:x', 'bad-realm') r$$)
	AS event_name_10k_chars;
SELECT pg_temp.try($$SELECT (r.passed, r.value)::text FROM ecl.run_policy('bad_guard', 'did:x', repeat('r', 10000),
	'{"amount": 7}') r$$) AS realm_10k_chars;
SELECT octet_length(event) AS long_event_stored FROM ecl.events WHERE event LIKE 'eeee%';
-- a run that fails after a store write keeps nothing
SELECT ecl.register_policy('bad_partial', $ecl$
store_put("bad_store", "partial", 1)
emit "bad_event", {partial: true}
return 1 / zero
$ecl$) IS NOT NULL AS registered;
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_partial', 'did:x', 'bad-realm', '{"zero": 0}')$$) AS fails_after_writes;
SELECT count(*) AS partial_writes FROM ecl.store WHERE key = 'partial';
-- only the runs that passed wrote to the store and emitted events
SELECT left(realm_id, 12) AS realm, store_name, owner_did, key, value FROM ecl.store
 WHERE store_name = 'bad_store' ORDER BY realm_id, key;
SELECT left(realm_id, 12) AS realm, left(caller, 12) AS caller, event, payload FROM ecl.events
 WHERE event = 'bad_event' ORDER BY id;

-- ----------------------------------------------- check, allowed, enforce
SELECT ecl.register_policy('bad_ro', 'policy bad_ro { require amount > 0, "no"; return true }') IS NOT NULL AS registered;
SELECT pg_temp.try($$SELECT ecl.check(NULL, 'did:x', 'bad-realm')$$) AS check_null_policy;
SELECT pg_temp.try($$SELECT ecl.check('no-such-policy', 'did:x', 'bad-realm')$$) AS check_unknown;
SELECT pg_temp.try($$SELECT ecl.check('bad_ro', 'did:x', 'bad-realm', NULL)$$) AS check_null_input;
SELECT pg_temp.try($$SELECT ecl.check('bad_ro', 'did:x', 'bad-realm', '[1]')$$) AS check_array_input;
SELECT pg_temp.try($$SELECT ecl.check('bad_ro', NULL, NULL, '{"amount": 1}')$$) AS check_null_caller;
SELECT pg_temp.try($$SELECT ecl.check('bad_guard', 'did:x', 'bad-realm', '{"amount": 1}')$$) AS check_writer;
SELECT pg_temp.try($$SELECT ecl.allowed(NULL, 'bad-realm')$$) AS allowed_null_policy;
SELECT pg_temp.try($$SELECT ecl.allowed('no-such-policy', 'bad-realm')$$) AS allowed_unknown;
-- without a DID: denied without running, but bad input is still an error
SELECT pg_temp.try($$SELECT ecl.allowed('bad_ro', 'bad-realm', '{"amount": 1}')$$) AS allowed_without_did;
SELECT pg_temp.try($$SELECT ecl.allowed('bad_ro', 'bad-realm', 'true')$$) AS allowed_scalar_input;
-- with ecl.allow_anonymous the policy runs with a null caller
SET ecl.allow_anonymous = on;
SELECT pg_temp.try($$SELECT ecl.allowed('bad_ro', NULL, NULL)$$) AS allowed_null_input;
SELECT pg_temp.try($$SELECT ecl.allowed('bad_ro', 'bad-realm', '{"amount": 1}')$$) AS allowed_anonymous;
RESET ecl.allow_anonymous;
SELECT pg_temp.try($$SELECT ecl.enforce(NULL, 'did:x', 'bad-realm')$$) AS enforce_null_policy;
SELECT pg_temp.try($$SELECT ecl.enforce('no-such-policy', 'did:x', 'bad-realm')$$) AS enforce_unknown;
SELECT pg_temp.try($$SELECT ecl.enforce('bad_ro', 'did:x', 'bad-realm', '{}')$$) AS enforce_missing_field;
SELECT pg_temp.try($$SELECT ecl.enforce('bad_ro', 'did:x', 'bad-realm', '{"amount": 0}')$$) AS enforce_denied;
SELECT pg_temp.try($$SELECT ecl.enforce('bad_guard', 'did:x', 'bad-realm', '{"amount": 0}')$$) AS enforce_denied_writer;

-- ------------------------------------------------ tampered stored bytecode
-- (as the superuser: nobody else may write ecl.policies)
SELECT ecl.register_policy('bad_tamper', 'return 1') IS NOT NULL AS registered;
UPDATE ecl.policies SET bytecode = '\xdeadbeef' WHERE name = 'bad_tamper';
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_tamper', NULL, NULL)$$) AS garbage_bytecode;
UPDATE ecl.policies SET bytecode = substr(ecl.compile('return 1'), 1, 20) WHERE name = 'bad_tamper';
SELECT pg_temp.try($$SELECT ecl.check('bad_tamper', NULL, NULL)$$) AS truncated_bytecode;
UPDATE ecl.policies SET bytecode = ecl.compile('return 1'), hash = '\x00' WHERE name = 'bad_tamper';
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_tamper', NULL, NULL)$$) AS short_hash;
UPDATE ecl.policies SET bytecode = '', hash = '' WHERE name = 'bad_tamper';
SELECT pg_temp.try($$SELECT ecl.enforce('bad_tamper', NULL, NULL)$$) AS empty_bytecode_and_hash;
-- the bytecode of another policy under this one's hash
UPDATE ecl.policies SET bytecode = (SELECT bytecode FROM ecl.policies WHERE name = 'bad_ro'),
	hash = (SELECT hash FROM ecl.policies WHERE name = 'bad_p') WHERE name = 'bad_tamper';
SELECT pg_temp.try($$SELECT ecl.run_policy('bad_tamper', NULL, NULL)$$) AS swapped_bytecode;
SELECT ecl.register_policy('bad_tamper', 'return 2') IS NOT NULL AS registered_again;
SELECT pg_temp.try($$SELECT value::text FROM ecl.run_policy('bad_tamper', NULL, NULL)$$) AS repaired;

-- -------------------------------------- statistics and mana account admin
SELECT pg_temp.try($$SELECT ecl.rate_limit_reset(NULL)::text$$) AS reset_all_accounts;
SELECT pg_temp.try($$SELECT ecl.rate_limit_reset('')::text$$) AS reset_empty_did;
SELECT pg_temp.try($$SELECT ecl.rate_limit_reset(repeat('d', 100000))::text$$) AS reset_long_did;
SELECT pg_temp.try($$SELECT count(*)::text FROM ecl.rate_limit_accounts()$$) AS accounts_after_reset;
-- the cache invalidation trigger function is not callable on its own
SELECT pg_temp.try($$SELECT ecl.policies_changed()$$) AS trigger_called_directly;

-- every run counted above ended as passed, denied or error
SELECT e.policies_executed - b.policies_executed AS executed,
	   e.policies_passed - b.policies_passed AS passed,
	   e.policies_denied - b.policies_denied AS denied,
	   e.policy_runtime_errors - b.policy_runtime_errors AS errors,
	   e.out_of_gas_aborts - b.out_of_gas_aborts AS out_of_gas,
	   e.events_emitted - b.events_emitted AS events,
	   (e.policies_executed - b.policies_executed) =
	   (e.policies_passed - b.policies_passed) + (e.policies_denied - b.policies_denied)
		+ (e.policy_runtime_errors - b.policy_runtime_errors) AS consistent
  FROM ecl.stat_eclvm e, stats_before b;

-- clean up
SELECT ecl.drop_policy(name) FROM ecl.policies
 WHERE name LIKE 'bad%' OR name IN ('b', repeat('n', 100000)) ORDER BY name;
DELETE FROM ecl.store WHERE store_name = 'bad_store';
DELETE FROM ecl.events WHERE event = 'bad_event' OR event LIKE 'eeee%';
DELETE FROM ecl.realms WHERE realm_id = 'bad-realm';
DROP TABLE stats_before;

SELECT 1 AS backend_alive;
