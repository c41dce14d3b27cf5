--
-- Bad input to the gateway (docs/sql-api.md, "The crossing gateway"), the engine entry points (docs/engines.md) and the
-- state-only host (docs/host-and-state.md): validate_crossing, allow_crossing, join_realm,
-- register_handler, drop_handler, run_<engine>, snapshot, simulate and
-- test_policy with NULLs, empty and huge arguments, unknown names and wrong
-- JSON shapes.  Only the SQLSTATE is shown (or "ok" and the start of the
-- result): the messages belong to suites of their own.  The backend stays up.
--
\set VERBOSITY terse

CREATE FUNCTION pg_temp.state(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE q INTO r;
	RETURN 'ok: ' || coalesce(left(r, 50), 'NULL');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;

CREATE TEMP TABLE ids_before AS SELECT did FROM ecl.identities;
INSERT INTO ecl.identities (did) VALUES ('did:regress:bi-member');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega)
	VALUES ('did:regress:bi-member', '', 0.9, 0.9, 0.9, 0.9, 0.9, 0.9);
INSERT INTO ecl.realms (realm_id) VALUES ('bi-open');
SELECT ecl.register_policy('bi_entry_fails', 'policy bi_entry_fails { return 1 / zero }') IS NOT NULL
	AS registered;
INSERT INTO ecl.realms (realm_id, entry_policy) VALUES ('bi-faulty', 'bi_entry_fails');
INSERT INTO ecl.realms (realm_id, entry_policy) VALUES ('bi-dangling', 'bi_no_such_policy');
INSERT INTO ecl.realms (realm_id, required_rules) VALUES ('bi-rules', ARRAY['bi_no_such_rule']);
INSERT INTO ecl.realms (realm_id, required_credentials) VALUES ('bi-creds', ARRAY['', repeat('c', 10000)]);

-- ------------------------------------------------------------- gateway
SELECT pg_temp.state($$SELECT ecl.validate_crossing(NULL, 'a', 'bi-open')$$) AS null_did,
	   pg_temp.state($$SELECT ecl.validate_crossing('d', NULL, 'bi-open')$$) AS null_from,
	   pg_temp.state($$SELECT ecl.validate_crossing('d', 'a', NULL)$$) AS null_to;
SELECT pg_temp.state($$SELECT ecl.validate_crossing('d', 'a', 'bi-no-such-realm')$$) AS unknown_to,
	   pg_temp.state($$SELECT ecl.validate_crossing('d', 'a', '')$$) AS empty_to;
SELECT pg_temp.state($$SELECT allowed FROM ecl.validate_crossing('', '', 'bi-open')$$) AS empty_did,
	   pg_temp.state($$SELECT allowed FROM ecl.validate_crossing(repeat('d', 1000000), 'a', 'bi-open')$$) AS one_mb_did,
	   pg_temp.state($$SELECT allowed FROM ecl.validate_crossing('did:regress:bi-member', repeat('r', 100000), 'bi-open')$$)
		AS long_from;
SELECT pg_temp.state($$SELECT allowed FROM ecl.validate_crossing('did:regress:bi-member', 'a', 'bi-open')$$) AS member_open,
	   pg_temp.state($$SELECT allowed FROM ecl.validate_crossing('did:regress:bi-member', 'a', 'bi-faulty')$$) AS entry_policy_fails,
	   pg_temp.state($$SELECT allowed FROM ecl.validate_crossing('did:regress:bi-member', 'a', 'bi-dangling')$$) AS entry_policy_missing,
	   pg_temp.state($$SELECT allowed FROM ecl.validate_crossing('did:regress:bi-member', 'a', 'bi-rules')$$) AS rule_missing,
	   pg_temp.state($$SELECT allowed FROM ecl.validate_crossing('did:regress:bi-member', 'a', 'bi-creds')$$) AS odd_credentials;
SELECT pg_temp.state($$SELECT ecl.allow_crossing(NULL, NULL, NULL)$$) AS allow_nulls,
	   pg_temp.state($$SELECT ecl.allow_crossing('d', 'a', 'bi-no-such-realm')$$) AS allow_unknown,
	   pg_temp.state($$SELECT ecl.allow_crossing('did:regress:nobody', 'a', 'bi-open')$$) AS allow_unregistered,
	   pg_temp.state($$SELECT ecl.allow_crossing('did:regress:bi-member', 'a', 'bi-faulty')$$) AS allow_faulty;
SELECT pg_temp.state($$SELECT ecl.join_realm(NULL, 'a', 'bi-open')$$) AS join_null,
	   pg_temp.state($$SELECT ecl.join_realm('d', 'a', 'bi-no-such-realm')$$) AS join_unknown,
	   pg_temp.state($$SELECT ecl.join_realm('did:regress:nobody', 'a', 'bi-open')$$) AS join_unregistered,
	   pg_temp.state($$SELECT ecl.join_realm('did:regress:bi-member', repeat('r', 100000), 'bi-open') IS NOT NULL$$)
		AS join_long_from;
-- a refused or failed join records nothing
SELECT realm_id, left(from_realm, 10) AS from_realm FROM ecl.realm_members
 WHERE did IN ('did:regress:bi-member', 'did:regress:nobody', 'd') ORDER BY realm_id;

-- --------------------------------------------------------------- handlers
SELECT pg_temp.state($$SELECT ecl.register_handler(NULL, 'k', 'return true')$$) AS null_engine,
	   pg_temp.state($$SELECT ecl.register_handler('', 'k', 'return true')$$) AS empty_engine,
	   pg_temp.state($$SELECT ecl.register_handler('API', 'k', 'return true')$$) AS upper_case_engine,
	   pg_temp.state($$SELECT ecl.register_handler('api', NULL, 'return true')$$) AS null_key,
	   pg_temp.state($$SELECT ecl.register_handler('api', '', 'return true')$$) AS empty_key,
	   pg_temp.state($$SELECT ecl.register_handler('api', 'bi', NULL)$$) AS null_source,
	   pg_temp.state($$SELECT ecl.register_handler('api', 'bi', 'return (')$$) AS syntax_error,
	   pg_temp.state($$SELECT ecl.register_handler('api', 'bi', 'return true', 'bi-no-such-realm')$$) AS unknown_realm;
SELECT pg_temp.state($$SELECT ecl.register_handler('api', repeat('k', 100000), 'return true') IS NOT NULL$$) AS key_100k,
	   pg_temp.state($$SELECT ecl.drop_handler('api', repeat('k', 100000))$$) AS drop_key_100k;
SELECT pg_temp.state($$SELECT ecl.drop_handler(NULL, NULL)$$) AS drop_nulls,
	   pg_temp.state($$SELECT ecl.drop_handler('api', 'bi-no-such-key')$$) AS drop_unknown,
	   pg_temp.state($$SELECT ecl.drop_handler('nonsense', 'k')$$) AS drop_unknown_engine;

SELECT ecl.register_handler('api', 'bi', 'return {status: 200}') IS NOT NULL AS api,
	   ecl.register_handler('ui', 'bi', 'return true') IS NOT NULL AS ui,
	   ecl.register_handler('datalogic', 'bi', 'return true') IS NOT NULL AS datalogic,
	   ecl.register_handler('governance', 'bi', 'return true') IS NOT NULL AS governance,
	   ecl.register_handler('controller', 'bi', 'return true') IS NOT NULL AS controller;
-- each engine: NULL key, unknown key, NULL/array/scalar input, an input of
-- the wrong shape, and a well-formed one
SELECT e AS engine,
	   pg_temp.state(format('SELECT ecl.run_%s(NULL, NULL, NULL)', e)) AS null_key,
	   pg_temp.state(format('SELECT ecl.run_%s(%L, NULL, NULL, %L)', e, 'bi-no-such-key', good)) AS unknown_key,
	   pg_temp.state(format('SELECT passed FROM ecl.run_%s(%L, NULL, NULL, NULL)', e, 'bi')) AS null_input,
	   pg_temp.state(format('SELECT passed FROM ecl.run_%s(%L, NULL, NULL, %L)', e, 'bi', '[]')) AS array_input,
	   pg_temp.state(format('SELECT passed FROM ecl.run_%s(%L, NULL, NULL, %L)', e, 'bi', '7')) AS scalar_input,
	   pg_temp.state(format('SELECT passed FROM ecl.run_%s(%L, NULL, NULL, %L)', e, 'bi', wrong)) AS wrong_shape,
	   pg_temp.state(format('SELECT passed FROM ecl.run_%s(%L, NULL, NULL, %L)', e, 'bi', good)) AS good_shape
  FROM (VALUES
	('api', '{"method": 1, "path": "/"}', '{"method": "GET", "path": "/", "params": {}, "body": null}'),
	('ui', '{"component": ["x"]}', '{"component": "x", "props": {}}'),
	('datalogic', '{"events": "x"}', '{"event": {"v": 1}}'),
	('governance', '{"proposal": 5}', '{"proposal": {"id": 1, "yes": 1, "no": 0, "total": 1, "status": "open"}, "voter": "d"}'),
	('controller', '{"permission": {}}', '{"permission": "docs.read", "resource": "doc"}')) AS t(e, wrong, good)
 ORDER BY e;
SELECT pg_temp.state($$SELECT passed FROM ecl.run_api('bi', NULL, NULL,
	jsonb_build_object('method', 'GET', 'path', '/', 'params', '{}'::jsonb,
					   'body', (SELECT jsonb_agg(i) FROM generate_series(1, 100000) i)))$$) AS api_body_100k,
	   pg_temp.state($$SELECT passed FROM ecl.run_datalogic('bi', NULL, NULL,
	jsonb_build_object('events', (SELECT jsonb_agg(jsonb_build_object('v', i)) FROM generate_series(1, 100000) i)))$$)
		AS datalogic_100k_events;

-- ------------------------------------------------------------ state host
SELECT ecl.register_policy('bi_state', 'policy bi_state { return trust.r }') IS NOT NULL AS registered;
SELECT pg_temp.state($$SELECT ecl.snapshot(NULL) IS NOT NULL$$) AS snapshot_null_realm,
	   pg_temp.state($$SELECT ecl.snapshot('bi-open', ARRAY[NULL]::text[]) IS NOT NULL$$) AS snapshot_null_did,
	   pg_temp.state($$SELECT ecl.snapshot('bi-open', '{}'::text[]) IS NOT NULL$$) AS snapshot_no_dids,
	   pg_temp.state($$SELECT ecl.snapshot('bi-open', array_fill('d'::text, ARRAY[100000])) IS NOT NULL$$)
		AS snapshot_100k_dids,
	   pg_temp.state($$SELECT ecl.snapshot(repeat('r', 100000)) IS NOT NULL$$) AS snapshot_long_realm;
SELECT pg_temp.state($$SELECT ecl.simulate(NULL, NULL, NULL, '{}', '{}')$$) AS sim_null_policy,
	   pg_temp.state($$SELECT ecl.simulate('bi-no-such-policy', NULL, NULL, '{}', '{}')$$) AS sim_unknown_policy,
	   pg_temp.state($$SELECT ecl.simulate('bi_state', NULL, NULL, '{}', NULL)$$) AS sim_null_state,
	   pg_temp.state($$SELECT ecl.simulate('bi_state', NULL, NULL, '[]', '{}')$$) AS sim_array_input,
	   pg_temp.state($$SELECT ecl.simulate('bi_state', NULL, NULL, '{}', '[]')$$) AS sim_array_state,
	   pg_temp.state($$SELECT ecl.simulate('bi_state', NULL, NULL, '{}', '"x"')$$) AS sim_string_state;
SELECT pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'r', '{}', '{"trust": 5}')$$) AS trust_not_object,
	   pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'r', '{}', '{"trust": {"d": 5}}')$$) AS trust_row_number,
	   pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'r', '{}', '{"trust": {"d": [1, 2]}}')$$) AS trust_row_short,
	   pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'r', '{}',
		'{"trust": {"d": {"r": "high"}}}')$$) AS trust_dimension_text,
	   pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'r', '{}',
		'{"trust": {"d": {"r": 7}}}')$$) AS trust_dimension_out_of_range,
	   pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'r', '{}', '{"store": []}')$$) AS store_not_object;
SELECT pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'r', '{}',
		('{"deep": ' || repeat('[', 10000) || repeat(']', 10000) || '}')::jsonb)$$) AS state_nested_10000,
	   pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'r', '{}',
		jsonb_build_object('junk', (SELECT jsonb_agg(i) FROM generate_series(1, 100000) i)))$$) AS state_with_100k_array,
	   pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'r', '{}', ecl.snapshot('bi-open'))$$)
		AS snapshot_of_other_realm,
	   pg_temp.state($$SELECT value FROM ecl.simulate('bi_state', 'd', 'bi-open', '{}', ecl.snapshot('bi-open'))$$)
		AS snapshot_of_run_realm;
SELECT pg_temp.state($$SELECT count(*) FROM ecl.test_policy('bi_state', NULL)$$) AS tests_null,
	   pg_temp.state($$SELECT count(*) FROM ecl.test_policy('bi_state', '{}')$$) AS tests_object,
	   pg_temp.state($$SELECT count(*) FROM ecl.test_policy('bi_state', '[1]')$$) AS tests_scalar_case,
	   pg_temp.state($$SELECT count(*) FROM ecl.test_policy('bi_state', '[{"nonsense": 1}]')$$) AS tests_unknown_field,
	   pg_temp.state($$SELECT count(*) FROM ecl.test_policy(NULL, '[{}]')$$) AS tests_null_policy;

-- clean up
SELECT ecl.drop_handler(e, 'bi') FROM unnest(ARRAY['api', 'ui', 'datalogic', 'governance', 'controller']) AS e;
SELECT ecl.drop_policy(name) FROM ecl.policies WHERE name LIKE 'bi\_%' ORDER BY name;
DELETE FROM ecl.realms WHERE realm_id LIKE 'bi-%';
DELETE FROM ecl.identities WHERE did NOT IN (SELECT did FROM ids_before);
DROP TABLE ids_before;

SELECT 1 AS backend_alive;
