--
-- Running registered policies (docs/sql-api.md, "Registered policies"): ecl.run_policy and its result,
-- budgets, ecl.check, ecl.allowed (caller from the role's DID), ecl.enforce
-- (EC001), runtime errors naming the policy and position, and the
-- statistics each run reports under the policy's kind.
--
\set VERBOSITY terse
-- This suite counts the VM runs: keep every call in the VM (translated calls are
-- not runs; planner_translate covers them).
SET ecl.translate = off;

INSERT INTO ecl.identities (did) VALUES ('did:regress:run-alice'), ('did:regress:run-bob');
INSERT INTO ecl.realms (realm_id) VALUES ('run-realm');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:run-alice', 'run-realm', 0.8, 0.8, 0.8, 0.8, 0.8, 0.8),
	('did:regress:run-bob', '', 0.2, 0.2, 0.2, 0.2, 0.2, 0.2);

SELECT ecl.register_policy('run_transfer', $ecl$
policy run_transfer {
    log("transfer of " + amount + " by " + caller)
    require trust.r >= 0.5, "reliability too low"
    let limit = trust.r * 1000
    require amount <= limit, "amount exceeds trust-based limit"
    return {approved: amount, limit: limit}
}
$ecl$, 'transaction', 'run-realm') IS NOT NULL AS registered;

-- ------------------------------------------------------------- run_policy
SELECT passed, value, message, gas_used > 0 AS gas, mana_used >= 10 AS mana,
	   duration_us >= 0 AS timed, logs, events
  FROM ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 300}');
SELECT passed, value, message, logs
  FROM ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 900}');
SELECT passed, value, message
  FROM ecl.run_policy('run_transfer', 'did:regress:run-bob', 'run-realm', '{"amount": 1}');
-- the same run costs the same gas every time
SELECT count(DISTINCT gas_used) AS distinct_gas, count(DISTINCT mana_used) AS distinct_mana
  FROM generate_series(1, 5), LATERAL ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 300}');
-- result type
SELECT pg_typeof(ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 1}'));
-- NULL input means {}; a missing field is a runtime error naming it (EC006)
SELECT ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '[1, 2]');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.run_policy(NULL, 'did:regress:run-alice', 'run-realm');
\echo :LAST_ERROR_SQLSTATE

-- budgets: the argument overrides ecl.gas_limit / ecl.mana_limit
SELECT ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 300}', gas_limit => 20);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 300}', mana_limit => 20);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 300}', gas_limit => 0);
\echo :LAST_ERROR_SQLSTATE
SET ecl.gas_limit = 20;
SELECT ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 300}');
\echo :LAST_ERROR_SQLSTATE
SELECT passed FROM ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 300}', gas_limit => 100000);
RESET ecl.gas_limit;

-- a runtime fault is an error naming the policy, line and column
SELECT ecl.register_policy('run_fault', $ecl$
policy run_fault {
    let x = 1
    return x < "a"
}
$ecl$) IS NOT NULL AS registered;
SELECT ecl.run_policy('run_fault', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE

-- ------------------------------------------------------------------ check
SELECT ecl.check('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 300}') AS alice_300,
	   ecl.check('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 900}') AS alice_900,
	   ecl.check('run_transfer', 'did:regress:run-bob', 'run-realm', '{"amount": 1}') AS bob,
	   ecl.check('run_transfer', NULL, 'run-realm', '{"amount": 1}') AS nobody;
-- in a WHERE clause
CREATE TEMP TABLE run_payments (id int, payer text, amount numeric);
INSERT INTO run_payments VALUES (1, 'did:regress:run-alice', 100), (2, 'did:regress:run-alice', 5000),
	(3, 'did:regress:run-bob', 1), (4, 'did:regress:run-alice', 799);
SELECT id FROM run_payments
 WHERE ecl.check('run_transfer', payer, 'run-realm', jsonb_build_object('amount', amount))
 ORDER BY id;
-- errors propagate from check as from run_policy
SELECT ecl.check('run_fault', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------- enforce
SELECT passed, value FROM ecl.enforce('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 10}');
SELECT ecl.enforce('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 5000}');
\echo :LAST_ERROR_SQLSTATE
-- a falsy return has no require message
SELECT ecl.register_policy('run_false', 'return false') IS NOT NULL AS registered;
SELECT ecl.enforce('run_false', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------- allowed
CREATE ROLE regress_eclrun_user;
SELECT ecl.bind_role('regress_eclrun_user', 'did:regress:run-alice');
SELECT ecl.register_policy('run_whoami', 'return caller == who') IS NOT NULL AS registered;
SET ROLE regress_eclrun_user;
SELECT ecl.allowed('run_transfer', 'run-realm', '{"amount": 300}') AS allowed_300,
	   ecl.allowed('run_transfer', 'run-realm', '{"amount": 900}') AS allowed_900;
-- the caller is the role's DID
SELECT ecl.allowed('run_whoami', NULL, '{"who": "did:regress:run-alice"}') AS caller_is_alice,
	   ecl.allowed('run_whoami', NULL, '{"who": "did:regress:run-bob"}') AS caller_is_bob;
-- run_policy and check are not for everybody
SELECT ecl.check('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 1}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- a role without a binding runs with no caller: zero trust, denied
CREATE ROLE regress_eclrun_unbound;
SET ROLE regress_eclrun_unbound;
SELECT ecl.current_did() IS NULL AS unbound,
	   ecl.allowed('run_transfer', 'run-realm', '{"amount": 1}') AS allowed_unbound;
RESET ROLE;
-- rebinding takes effect from the next statement
SELECT ecl.bind_role('regress_eclrun_user', 'did:regress:run-bob');
SET ROLE regress_eclrun_user;
SELECT ecl.allowed('run_transfer', 'run-realm', '{"amount": 1}') AS allowed_as_bob;
RESET ROLE;

-- ------------------------------------------------------------- statistics
-- every run is counted under its policy and kind (transaction)
SELECT ecl.stat_reset();
SELECT passed FROM ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 1}');
SELECT passed FROM ecl.run_policy('run_transfer', 'did:regress:run-bob', 'run-realm', '{"amount": 1}');
SELECT ecl.check('run_transfer', 'did:regress:run-alice', 'run-realm', '{"amount": 1}');
SELECT ecl.run_policy('run_transfer', 'did:regress:run-alice', 'run-realm', '{}');
SELECT policy, kind, realm_id, calls, passed, denied, errors
  FROM ecl.stat_eclvm_policies WHERE policy = 'run_transfer';
SELECT executions, passed, denied, errors
  FROM ecl.stat_eclvm_by_type WHERE policy_type = 'transaction';

-- duration_us comes from the run clock (run_clock.c), which switches to the
-- CPU's time-stamp counter once the backend's first 50 ms of runs have
-- calibrated it: before and after that, a run's duration agrees with the
-- wall clock around it.
SELECT ecl.register_policy('run_spin',
	'policy run_spin { let s = 0; for a in xs { for b in xs { s = s + a * b } }; return s > 0 }') IS NOT NULL AS registered;
CREATE TEMP TABLE run_spin_input AS
	SELECT jsonb_build_object('xs', jsonb_agg(g)) AS input FROM generate_series(1, 1000) g;
CREATE FUNCTION pg_temp.timed_spin(rep int, OUT duration_us bigint, OUT wall_us float8)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
	r ecl.run_result;
BEGIN
	r := ecl.run_policy('run_spin', NULL, NULL, (SELECT input FROM run_spin_input), 100000000);
	duration_us := r.duration_us;
	wall_us := extract(epoch FROM clock_timestamp() - t0) * 1e6;
END
$$;
-- (6 of 8 must agree: a run can be descheduled for a while on a busy
-- machine, a wrong conversion puts every run off)
SELECT count(*) FILTER (WHERE d.duration_us BETWEEN 0.5 * d.wall_us AND d.wall_us + 1000) >= 6
	   AS agrees_with_wall_clock
  FROM generate_series(1, 8) rep, LATERAL pg_temp.timed_spin(rep) d;

-- short runs add up: 2000 runs of a policy that takes well under a
-- microsecond still sum to a positive total_time_us (the statistics keep
-- nanoseconds; whole microseconds per run would add 2000 zeros)
SELECT ecl.register_policy('run_quick', 'policy run_quick { return x > 1 }') IS NOT NULL AS registered;
SELECT count(*) FILTER (WHERE ecl.check('run_quick', NULL, NULL, jsonb_build_object('x', g))) AS passed
  FROM generate_series(1, 2000) g;
SELECT calls, total_time_us > 0 AS time_adds_up,
	   mean_time_us > 0 AND mean_time_us < 1000 AS mean_plausible
  FROM ecl.stat_eclvm_policies WHERE policy = 'run_quick';

-- ------------------------------------------------------------------ clean up
SELECT ecl.unbind_role('regress_eclrun_user');
DROP ROLE regress_eclrun_user;
DROP ROLE regress_eclrun_unbound;
SELECT ecl.drop_policy(p) FROM unnest(ARRAY['run_transfer', 'run_fault', 'run_false', 'run_whoami', 'run_spin', 'run_quick']) AS p;
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:run-%';
DELETE FROM ecl.realms WHERE realm_id = 'run-realm';
