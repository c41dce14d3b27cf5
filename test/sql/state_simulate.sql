--
-- ecl.simulate (docs/host-and-state.md): a registered policy on the state-only host.
-- What each host function answers from a hand-written state, read-your-
-- writes and the change records, denials keep nothing, the time of the
-- state, malformed states (22023 naming the JSON path), a saved snapshot
-- replays its moment, and simulate writes nothing, notifies nothing and
-- counts nothing.  Also ecl.test_policy and the privileges.
--
\set VERBOSITY terse

INSERT INTO ecl.realms (realm_id) VALUES ('ss-realm');
SELECT ecl.register_policy('ss_reader', $$policy ss_reader {
    return [trust, resolve_did(caller), get_balance(caller), has_credential(caller, "kyc"),
            has_credential(caller, "old"), get_metric("policies_executed"),
            get_metric("realm.passed"), get_metric("unknown"), store_get("cfg", "limit")]
}$$, 'custom', 'ss-realm') IS NOT NULL AS reader;
SELECT ecl.register_policy('ss_writer', $$policy ss_writer {
    log("simulating " + amount)
    let before = store_count("cfg")
    store_put("cfg", "limit", amount)
    store_put("prefs", "last", amount, true)
    let n = store_append_list("cfg", "history", amount)
    let gone = store_delete("cfg", "old")
    let gone_again = store_delete("cfg", "old")
    emit "changed", {amount: amount}
    require amount <= 100, "amount over 100"
    return {before: before, after: store_count("cfg"), limit: store_get("cfg", "limit"),
            last: store_get("prefs", "last", true), personal: store_count("prefs", true),
            n: n, gone: gone, gone_again: gone_again, keys: store_list_keys("cfg")}
}$$, 'transaction', 'ss-realm') IS NOT NULL AS writer;
SELECT ecl.register_policy('ss_time', 'policy ss_time { return get_timestamp() }')
	IS NOT NULL AS time_policy;

CREATE TEMP TABLE ss_state (name text PRIMARY KEY, state jsonb);
INSERT INTO ss_state VALUES ('world', $${
  "version": 1, "realm": "ss-realm", "timestamp": 1700000000.25,
  "identities": {"did:regress:ss-a": {"registered": true, "revoked": false},
                 "did:regress:ss-r": {"registered": true, "revoked": true},
                 "did:regress:ss-g": {}},
  "trust": {"did:regress:ss-a": {"realm": [0.5, 0.5, 0.5, 0.5, 0.5, 0.25],
                                 "global": [1, 1, 1, 1, 1, 1]},
            "did:regress:ss-g": {"realm": null, "global": [0.125, 0, 0, 0, 0, 1]}},
  "credentials": {"did:regress:ss-a": {"kyc": true, "old": false}},
  "balances": {"did:regress:ss-a": 42.5, "did:regress:ss-g": -1},
  "store": {"shared": {"cfg": {"limit": 7, "old": "x", "b": 1, "A": 2}},
            "personal": {"did:regress:ss-a": {"prefs": {"theme": "dark"}}}},
  "metrics": {"policies_executed": 12345, "realm.passed": 3}
}$$);

-- ------------------------------------------------------- lookups by caller
-- a: realm vector; g: global only (and registered by default); r: revoked;
-- nobody: nothing; NULL: no caller
SELECT c AS caller, (ecl.simulate('ss_reader', d, 'ss-realm', '{}', s.state)).value
  FROM ss_state s,
	   (VALUES ('a', 'did:regress:ss-a'), ('g', 'did:regress:ss-g'), ('r', 'did:regress:ss-r'),
			   ('nobody', 'did:regress:ss-nobody'), ('none', NULL)) AS callers(c, d)
 WHERE s.name = 'world' ORDER BY 1;
-- the empty world: deny by default
SELECT (ecl.simulate('ss_reader', 'did:regress:ss-a', 'ss-realm', '{}', '{}')).value AS empty_world;
-- the realm defaults to the policy's, as in run_policy
SELECT (ecl.simulate('ss_reader', 'did:regress:ss-a', NULL, '{}', state)).value -> 0 AS policy_realm
  FROM ss_state WHERE name = 'world';

-- ------------------------------------------------- writes: read your writes
SELECT r.passed, jsonb_pretty(r.value) AS value, r.message, r.logs, r.events
  FROM ss_state s, ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm',
								'{"amount": 50}', s.state) r
 WHERE s.name = 'world';
-- the change records, in the order made (the no-op delete is not one)
SELECT jsonb_pretty(r.writes) AS writes
  FROM ss_state s, ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm',
								'{"amount": 50}', s.state) r
 WHERE s.name = 'world';
-- a denied run keeps nothing: no writes, no events (its logs stay)
SELECT r.passed, r.value, r.message, r.logs, r.events, r.writes
  FROM ss_state s, ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm',
								'{"amount": 500}', s.state) r
 WHERE s.name = 'world';
-- a personal write needs a caller: the table host's error
SELECT passed FROM ecl.simulate('ss_writer', NULL, 'ss-realm', '{"amount": 1}', '{}');
-- nothing of it reached the tables
SELECT count(*) AS store_rows FROM ecl.store WHERE realm_id = 'ss-realm';
SELECT count(*) AS event_rows FROM ecl.events WHERE policy = 'ss_writer';

-- ------------------------------------------------------------------ time
SELECT (ecl.simulate('ss_time', NULL, 'ss-realm', '{}', state)).value AS state_time
  FROM ss_state WHERE name = 'world';
SELECT (ecl.simulate('ss_time', NULL, NULL, '{}', '{}')).value::float8
	   = extract(epoch FROM transaction_timestamp())::float8 AS transaction_time;
SELECT (ecl.simulate('ss_time', NULL, NULL, '{}', '{"timestamp": null}')).value::float8
	   = extract(epoch FROM transaction_timestamp())::float8 AS null_means_transaction_time;

-- ------------------------------------------------------- malformed states
CREATE FUNCTION pg_temp.try_state(state jsonb, realm text DEFAULT 'ss-realm') RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM ecl.simulate('ss_reader', 'did:regress:ss-a', realm, '{}', state);
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT s AS state, pg_temp.try_state(s::jsonb) AS result FROM (VALUES
	('[]'), ('"x"'), ('{"trsut": {}}'), ('{"version": 2}'), ('{"version": "1"}'),
	('{"realm": 5}'), ('{"timestamp": "now"}'), ('{"taken_at": 1e400}'),
	('{"identities": []}'), ('{"identities": {"did:x": true}}'),
	('{"identities": {"did:x": {"registered": "yes"}}}'),
	('{"identities": {"did:x": {"active": true}}}'),
	('{"trust": {"did:x": [1, 1, 1, 1, 1, 1]}}'),
	('{"trust": {"did:x": {"realm": [1, 1, 1]}}}'),
	('{"trust": {"did:x": {"realm": [0, 0, 0, 2, 0, 0]}}}'),
	('{"trust": {"did:x": {"global": [0, 0, 0, 0, 0, "1"]}}}'),
	('{"trust": {"did:x": {"global": [0, 0, 0, 0, 0, -0.5]}}}'),
	('{"trust": {"did:x": {"local": null}}}'),
	('{"credentials": {"did:x": {"kyc": 1}}}'),
	('{"credentials": {"did:\"q\"": []}}'),
	('{"balances": {"did:x": "10"}}'),
	('{"balances": {"did:x": 1e400}}'),
	('{"store": {"shared": {"cfg": []}}}'),
	('{"store": {"personal": {"did:x": {"prefs": 1}}}}'),
	('{"store": {"private": {}}}'),
	('{"metrics": {"m": "1"}}'),
	('{"realm": "other"}'),
	('{"realm": null}'),
	-- accepted: every section optional, nulls where the format allows them
	('{}'),
	('{"version": 1, "realm": "ss-realm", "metrics": {"m": null}, "trust": {"did:x": {"realm": null, "global": null}}}'),
	('{"store": {"shared": {"cfg": {"k": {"deep": [1, {"x": null}]}}}}}')
	) AS t(s);
SELECT pg_temp.try_state('{"realm": null}', NULL) AS no_realm_run_policy_realm;
SELECT ecl.simulate('ss_reader', 'did:regress:ss-a', 'ss-realm', '{}', NULL);
SELECT ecl.simulate(NULL, 'did:regress:ss-a', 'ss-realm', '{}', '{}');
SELECT ecl.simulate('ss_missing', 'did:regress:ss-a', 'ss-realm', '{}', '{}');
SELECT ecl.simulate('ss_reader', 'did:regress:ss-a', 'ss-realm', '[1]', '{}');
SELECT ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm', '{"amount": 1}', '{}', 10);
SELECT ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm', '{"amount": 1}', '{}', NULL, 20);

-- ---------------------------------------- a saved snapshot replays its moment
INSERT INTO ecl.identities (did) VALUES ('did:regress:ss-live');
INSERT INTO ecl.trust (did, realm_id, r) VALUES ('did:regress:ss-live', 'ss-realm', 0.25);
CREATE TEMP TABLE ss_saved AS SELECT ecl.snapshot('ss-realm') AS s;
UPDATE ecl.trust SET r = 0.75 WHERE did = 'did:regress:ss-live';
SELECT (ecl.simulate('ss_reader', 'did:regress:ss-live', 'ss-realm', '{}', s)).value -> 0 -> 'r' AS saved,
	   (ecl.run_policy('ss_reader', 'did:regress:ss-live', 'ss-realm')).value -> 0 -> 'r' AS live,
	   (ecl.simulate('ss_time', NULL, 'ss-realm', '{}', s)).value = s -> 'timestamp' AS saved_time
  FROM ss_saved;

-- ------------------------------------- writes nothing, counts nothing, quiet
CREATE TEMP TABLE ss_counts AS
SELECT (SELECT count(*) FROM ecl.store) AS store_rows,
	   (SELECT count(*) FROM ecl.events) AS event_rows,
	   (SELECT row(s.*)::text FROM ecl.stat_eclvm s) AS eclvm,
	   (SELECT array_agg(row(t.*)::text ORDER BY t.policy_type) FROM ecl.stat_eclvm_by_type t) AS by_type,
	   (SELECT array_agg(row(r.*)::text ORDER BY r.realm_id) FROM ecl.stat_eclvm_realms r) AS realms,
	   (SELECT array_agg(row(p.*)::text ORDER BY p.policy, p.realm_id) FROM ecl.stat_eclvm_policies p) AS policies;
CREATE FUNCTION pg_temp.unchanged() RETURNS TABLE(store boolean, events boolean, eclvm boolean,
												 by_type boolean, realms boolean, policies boolean)
LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM ecl.store) = c.store_rows,
		   (SELECT count(*) FROM ecl.events) = c.event_rows,
		   (SELECT row(s.*)::text FROM ecl.stat_eclvm s) = c.eclvm,
		   (SELECT array_agg(row(t.*)::text ORDER BY t.policy_type) FROM ecl.stat_eclvm_by_type t)
			   IS NOT DISTINCT FROM c.by_type,
		   (SELECT array_agg(row(r.*)::text ORDER BY r.realm_id) FROM ecl.stat_eclvm_realms r)
			   IS NOT DISTINCT FROM c.realms,
		   (SELECT array_agg(row(p.*)::text ORDER BY p.policy, p.realm_id) FROM ecl.stat_eclvm_policies p)
			   IS NOT DISTINCT FROM c.policies
	  FROM ss_counts c
$$;
-- a listener would print a line for every notification that arrives
LISTEN ecl_events;
SELECT r.passed, jsonb_array_length(r.writes) AS writes, jsonb_array_length(r.events) AS events
  FROM ss_state s, ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm',
								'{"amount": 5}', s.state) r
 WHERE s.name = 'world';
SELECT (ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm', '{"amount": 5}', ecl.snapshot('ss-realm'))).passed
	AS on_snapshot;
SELECT (ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm', '{"amount": 500}', '{}')).passed
	AS denied;
SELECT ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm', '{"amount": "x"}', '{}');
UNLISTEN ecl_events;
SELECT * FROM pg_temp.unchanged();
-- in a read-only transaction too: the state host writes only to its list
BEGIN READ ONLY;
SELECT (ecl.simulate('ss_writer', 'did:regress:ss-a', 'ss-realm', '{"amount": 5}', '{}')).passed
	AS read_only_transaction;
COMMIT;
-- the control: one run_policy changes every one of these
SELECT (ecl.run_policy('ss_writer', 'did:regress:ss-a', 'ss-realm', '{"amount": 5}')).passed AS ran;
SELECT * FROM pg_temp.unchanged();

-- ------------------------------------------------------------ test_policy
SELECT * FROM ecl.test_policy('ss_writer', jsonb_build_array(
	jsonb_build_object('name', 'small', 'caller', 'did:regress:ss-a',
					   'input', jsonb_build_object('amount', 5),
					   'state', (SELECT state FROM ss_state WHERE name = 'world'),
					   'expect', jsonb_build_object('passed', true, 'message', NULL,
													'logs', jsonb_build_array('simulating 5'))),
	jsonb_build_object('caller', 'did:regress:ss-a', 'input', jsonb_build_object('amount', 500),
					   'expect', jsonb_build_object('passed', false, 'message', 'amount over 100',
													'writes', '[]'::jsonb, 'events', '[]'::jsonb)),
	jsonb_build_object('name', 'wrong expectations', 'caller', 'did:regress:ss-a',
					   'input', jsonb_build_object('amount', 500),
					   'expect', jsonb_build_object('passed', true, 'value', 1, 'message', 'nope')),
	jsonb_build_object('name', 'expected error', 'input', jsonb_build_object('amount', 1),
					   'expect', jsonb_build_object('error', '58000')),
	jsonb_build_object('name', 'unexpected error', 'input', jsonb_build_object('amount', 'x')),
	jsonb_build_object('name', 'error expected, none came', 'caller', 'did:regress:ss-a',
					   'input', jsonb_build_object('amount', 1),
					   'expect', jsonb_build_object('error', 'EC006')),
	jsonb_build_object('name', 'bad state', 'caller', 'did:regress:ss-a',
					   'input', jsonb_build_object('amount', 1),
					   'state', jsonb_build_object('trust', 1))));
SELECT * FROM ecl.test_policy('ss_writer', '{}');
SELECT * FROM ecl.test_policy('ss_writer', '[{"expect": {"valeu": 1}}]');
SELECT * FROM ecl.test_policy('ss_writer', '[{"inptu": {}}]');
SELECT * FROM ecl.test_policy('ss_writer', '[]');

-- subnormal numbers in a state read as the nearest double, as in jsonb
-- input and the table host (they were refused, so simulate differed)
SELECT (ecl.simulate('ss_reader', 'did:regress:ss-a', 'ss-realm', '{}',
		'{"balances": {"did:regress:ss-a": 5e-324},
		  "trust": {"did:regress:ss-a": {"realm": [5e-324, 0, 0, 0, 0, 0]}}}')).value
		-> 2 = '5e-324'::jsonb AS subnormal_balance,
	   ecl.eval('return a > 0', '{"a": 5e-324}') AS subnormal_input;

-- ------------------------------------------------------------ privileges
CREATE ROLE regress_ss_exec IN ROLE ecl_executor;
CREATE ROLE regress_ss_admin IN ROLE ecl_admin;
CREATE ROLE regress_ss_nobody;
SET ROLE regress_ss_exec;
SELECT (ecl.simulate('ss_reader', 'did:regress:ss-a', 'ss-realm', '{}', '{}')).passed AS executor_simulates,
	   (SELECT bool_and(ok) FROM ecl.test_policy('ss_reader', '[{"expect": {"passed": true}}]')) AS executor_tests;
RESET ROLE;
SET ROLE regress_ss_admin;
SELECT (ecl.simulate('ss_reader', 'did:regress:ss-a', 'ss-realm', '{}', '{}')).passed AS admin_simulates;
RESET ROLE;
SET ROLE regress_ss_nobody;
SELECT ecl.simulate('ss_reader', 'did:regress:ss-a', 'ss-realm', '{}', '{}');
SELECT * FROM ecl.test_policy('ss_reader', '[]');
RESET ROLE;
DROP ROLE regress_ss_exec, regress_ss_admin, regress_ss_nobody;

-- ------------------------------------------------------------------ cleanup
SELECT ecl.drop_policy(p) FROM unnest(ARRAY['ss_reader', 'ss_writer', 'ss_time']) p;
DELETE FROM ecl.store WHERE realm_id = 'ss-realm';
DELETE FROM ecl.events WHERE policy = 'ss_writer';
DELETE FROM ecl.identities WHERE did = 'did:regress:ss-live';
DELETE FROM ecl.realms WHERE realm_id = 'ss-realm';
