--
-- The decision log: settings, the table and view, who may read and write
-- them, what a decision records (inputs or their digest, messages,
-- errors, versions), the levels and the sample rate, replay, trimming.
-- The background worker writes asynchronously: wait_logged polls.
--
\set VERBOSITY terse

CREATE FUNCTION pg_temp.wait_logged(n bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	c bigint;
BEGIN
	FOR i IN 1..300 LOOP
		SELECT count(*) INTO c FROM ecl.decision_log;
		EXIT WHEN c >= n;
		PERFORM pg_sleep(0.1);
	END LOOP;
	RETURN c;
END
$$;

-- The launcher counts a batch once its writer has committed it: the rows
-- can be visible a moment before the counter moves.
CREATE FUNCTION pg_temp.wait_counted(n bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	c bigint;
BEGIN
	FOR i IN 1..300 LOOP
		SELECT decisions_logged INTO c FROM ecl.stat_eclvm
		 WHERE datname = current_database();
		EXIT WHEN c >= n;
		PERFORM pg_sleep(0.1);
	END LOOP;
	RETURN c;
END
$$;

-- an error of ecl.replay, without the decision's id (it depends on the run)
CREATE FUNCTION pg_temp.replay_error(decision bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	hint text;
BEGIN
	PERFORM ecl.replay(decision);
	RETURN 'no error';
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || replace(SQLERRM, decision::text, 'N') || ' HINT: ' || hint;
END
$$;

-- ------------------------------------------------------------ settings
SHOW ecl.decision_log;
SHOW ecl.decision_log_inputs;
SET ecl.decision_log = 'everything';
SET ecl.decision_log_sample_rate = 1.5;
SET ecl.decision_log_sample_rate = -0.1;
SET ecl.decision_log_queue_size = 100;
SET ecl.decision_log_retention = '1h';
SELECT name, setting, unit, context, vartype, enumvals
  FROM pg_settings WHERE name LIKE 'ecl.decision\_log%' ORDER BY name;

-- a role that is not superuser cannot hide its own decisions
CREATE ROLE regress_dl_user;
CREATE ROLE regress_dl_admin IN ROLE ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.check(text, text, text, jsonb) TO regress_dl_user;
SET ROLE regress_dl_user;
SET ecl.decision_log = off;
SET ecl.decision_log_sample_rate = 0;
SET ecl.decision_log_inputs = off;
RESET ROLE;

-- ------------------------------------------------------------ shapes
SELECT column_name, data_type FROM information_schema.columns
 WHERE table_schema = 'ecl' AND table_name = 'decision_log' ORDER BY ordinal_position;
SELECT column_name, data_type FROM information_schema.columns
 WHERE table_schema = 'ecl' AND table_name = 'recent_decisions' ORDER BY ordinal_position;
SELECT count(*) AS not_a_config_table FROM pg_extension
 WHERE extname = 'ecl' AND 'ecl.decision_log'::regclass = ANY (extconfig);

-- ------------------------------------------------------------ privileges
SET ROLE regress_dl_user;
SELECT count(*) FROM ecl.decision_log;
SELECT * FROM ecl.replay(1);
SELECT ecl.trim_decision_log('1 day');
SELECT count(*) >= 0 AS reads_recent_decisions FROM ecl.recent_decisions;
SET ROLE regress_dl_admin;
SELECT count(*) >= 0 AS admin_reads_log FROM ecl.decision_log;
INSERT INTO ecl.decision_log (at, passed, gas, mana, duration_us) VALUES (now(), true, 0, 0, 0);
DELETE FROM ecl.decision_log;
UPDATE ecl.decision_log SET passed = true;
RESET ROLE;

-- ------------------------------------------------------------ decisions
SELECT ecl.register_policy('dl_even', $$
policy dl_even {
    require n % 2 == 0, "odd"
    return 10 / (n - 4)
}
$$) IS NOT NULL AS registered;

SET ecl.decision_log = 'all';
SET ecl.decision_log_inputs = on;
-- per row, in a WHERE clause: one record per run of the VM
SELECT g AS n FROM generate_series(1, 3) g
 WHERE ecl.check('dl_even', 'did:example:dl-alice', NULL, jsonb_build_object('n', g));
-- run_policy, passing, with a value; and an error: the statement fails,
-- the decision is logged all the same
SELECT passed, value FROM ecl.run_policy('dl_even', 'did:example:dl-bob', NULL, '{"n": 6}');
SELECT passed FROM ecl.run_policy('dl_even', 'did:example:dl-bob', NULL, '{"n": 4}');
-- a read-only transaction logs too
BEGIN READ ONLY;
SELECT ecl.check('dl_even', 'did:example:dl-carol', NULL, '{"n": 8}');
COMMIT;
-- as another role
SET ROLE regress_dl_user;
SELECT ecl.check('dl_even', 'did:example:dl-dave', NULL, '{"n": 9}');
RESET ROLE;
-- inputs off: the digest only
SET ecl.decision_log_inputs = off;
SELECT ecl.check('dl_even', 'did:example:dl-erin', NULL, '{"n": 10}');
SET ecl.decision_log_inputs = on;
-- an input over 512 bytes is logged as its digest
SELECT ecl.check('dl_even', 'did:example:dl-erin', NULL,
                 jsonb_build_object('n', 12, 'pad', repeat('x', 600)));

SELECT pg_temp.wait_logged(9);
SELECT role, caller, policy, version, input, passed, message, sqlstate,
       gas > 0 AS gas, mana, duration_us >= 0 AS timed,
       length(hash) AS hash_len, datname = current_database() AS this_db,
       shadow_disagreement
  FROM ecl.decision_log ORDER BY id;
-- the digest is SHA-256 of the input's text
SELECT count(*) AS digests_match FROM ecl.decision_log
 WHERE input IS NOT NULL
   AND input_digest = encode(sha256(convert_to(input::text, 'UTF8')), 'hex');
SELECT input_digest = encode(sha256(convert_to('{"n": 10}', 'UTF8')), 'hex') AS digest_of_n10
  FROM ecl.decision_log WHERE caller = 'did:example:dl-erin' AND input IS NULL
   AND passed AND gas > 0 ORDER BY id LIMIT 1;
SELECT hash = (SELECT encode(p.hash, 'hex') FROM ecl.policies p WHERE p.name = 'dl_even')
       AS hash_is_the_policys
  FROM ecl.decision_log ORDER BY id LIMIT 1;
SELECT pg_temp.wait_counted(9) >= 9 AS counted, decisions_dropped
  FROM ecl.stat_eclvm WHERE datname = current_database();

-- ------------------------------------------------------------ levels
SELECT ecl.trim_decision_log('0 seconds') AS trimmed;
SELECT count(*) FROM ecl.decision_log;
SET ecl.decision_log = 'errors';
SELECT ecl.check('dl_even', 'did:example:dl-levels', NULL, '{"n": 1}');
SELECT passed FROM ecl.run_policy('dl_even', 'did:example:dl-levels', NULL, '{"n": 4}');
SET ecl.decision_log = 'denied';
SELECT ecl.check('dl_even', 'did:example:dl-levels', NULL, '{"n": 3}');
SELECT ecl.check('dl_even', 'did:example:dl-levels', NULL, '{"n": 2}');
SET ecl.decision_log = 'all';
SET ecl.decision_log_sample_rate = 0;
SELECT ecl.check('dl_even', 'did:example:dl-levels', NULL, '{"n": 6}');
SELECT ecl.check('dl_even', 'did:example:dl-levels', NULL, '{"n": 5}');
SET ecl.decision_log_sample_rate = 1;
SELECT ecl.check('dl_even', 'did:example:dl-levels', NULL, '{"n": 8}');
SET ecl.decision_log = off;
SELECT ecl.check('dl_even', 'did:example:dl-levels', NULL, '{"n": 7}');
SELECT pg_temp.wait_logged(4);
SELECT pg_sleep(0.3);
SELECT input, passed, message, sqlstate FROM ecl.decision_log ORDER BY id;

-- ------------------------------------------------------------ replay
SELECT min(id) AS odd_id FROM ecl.decision_log WHERE input = '{"n": 3}' \gset
SELECT min(id) AS error_id FROM ecl.decision_log WHERE input = '{"n": 4}' \gset
-- the log is on while replaying: a replay is not a decision
SET ecl.decision_log = 'all';
SELECT policy, logged_version, version, logged_passed, passed, logged_message,
       message, logged_sqlstate, sqlstate, value, changed
  FROM ecl.replay(:odd_id);
-- the rule changes: odd numbers pass now, and 4 no longer divides by zero
SELECT ecl.register_policy('dl_even', $$
policy dl_even {
    require n > 0, "not positive"
    return n
}
$$) IS NOT NULL AS changed_policy;
SELECT policy, logged_version, version, logged_passed, passed, logged_message,
       message, logged_sqlstate, sqlstate, value, changed
  FROM ecl.replay(:odd_id);
SELECT logged_sqlstate, sqlstate, passed, changed FROM ecl.replay(:error_id);
SET ROLE regress_dl_admin;
SELECT passed, changed FROM ecl.replay(:odd_id);
RESET ROLE;
SELECT * FROM ecl.replay(-1);
-- a decision logged with its digest only cannot be replayed
SET ecl.decision_log_inputs = off;
SELECT ecl.check('dl_even', 'did:example:dl-digest', NULL, '{"n": 3}');
SET ecl.decision_log = off;
-- once this last decision is written, a logged replay would be too (FIFO)
SELECT pg_temp.wait_logged(5);
SELECT pg_sleep(0.3);
SELECT count(*) AS replays_not_logged FROM ecl.decision_log;
SELECT max(id) AS digest_id FROM ecl.decision_log \gset
SELECT pg_temp.replay_error(:digest_id);

-- ad hoc code (ecl.eval) is logged without a policy, and is not replayed
SET ecl.decision_log = 'all';
SET ecl.decision_log_inputs = on;
SELECT ecl.eval('require a > 1, "small"; return a', '{"a": 1}');
SET ecl.decision_log = off;
SELECT pg_temp.wait_logged(6);
SELECT policy, version, hash, input, passed, message FROM ecl.decision_log
 WHERE policy IS NULL;
SELECT pg_temp.replay_error(min(id)) FROM ecl.decision_log WHERE policy IS NULL;

-- ------------------------------------------------------------ clean up
RESET ecl.decision_log;
RESET ecl.decision_log_inputs;
RESET ecl.decision_log_sample_rate;
SELECT ecl.trim_decision_log('0 seconds') > 0 AS trimmed;
SELECT ecl.drop_policy('dl_even');
REVOKE EXECUTE ON FUNCTION ecl.check(text, text, text, jsonb) FROM regress_dl_user;
DROP ROLE regress_dl_user;
DROP ROLE regress_dl_admin;
