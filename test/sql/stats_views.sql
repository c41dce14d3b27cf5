--
-- ECLVM statistics views (docs/sql-api.md, "Statistics"), their privileges (docs/security.md), reset, the
-- get_metric names and the per-DID mana accounts (docs/sql-api.md, "Registered policies").  Statistics of
-- two databases apart: test/shell/stats_two_databases.sh.  Needs
-- shared_preload_libraries = 'ecl'.  Starts with ecl.stat_reset(), so the
-- output does not depend on suites that ran before.
--
-- Runs are recorded through test-only C entry points of the library (the
-- install script does not declare them) so that every figure below is
-- known exactly; ecl.run_policy feeds the same ecl_stats_record_run().
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ecl;
RESET client_min_messages;

CREATE FUNCTION pg_temp.record_run(policy text, kind text, realm text,
        status text, gas bigint, mana bigint, duration_us bigint, events bigint)
    RETURNS void AS '$libdir/ecl_test_hooks', 'ecl_test_stats_record_run' LANGUAGE C;
CREATE FUNCTION pg_temp.record_compile(ok boolean)
    RETURNS void AS '$libdir/ecl_test_hooks', 'ecl_test_stats_record_compile' LANGUAGE C;
CREATE FUNCTION pg_temp.record_crossing(realm text, allowed boolean)
    RETURNS void AS '$libdir/ecl_test_hooks', 'ecl_test_stats_record_crossing' LANGUAGE C;
CREATE FUNCTION pg_temp.metric(name text, realm text)
    RETURNS float8 AS '$libdir/ecl_test_hooks', 'ecl_test_stats_metric' LANGUAGE C;
CREATE FUNCTION pg_temp.charge(did text, reliability float8, mana bigint,
        OUT paid boolean, OUT retry_after float8)
    AS '$libdir/ecl_test_hooks', 'ecl_test_rate_limit_charge' LANGUAGE C;

-- the shapes
\d ecl.stat_eclvm
\d ecl.stat_eclvm_by_type
\d ecl.stat_eclvm_realms
\d ecl.stat_eclvm_policies

-- after a reset: zeros, NULL rates, every kind listed, no rows; the rows
-- are this database's (datname)
SELECT ecl.stat_reset();
SELECT datname = current_database() AS this_database,
       stats_reset > now() - interval '1 hour' AND stats_reset <= clock_timestamp()
       AS reset_just_now
  FROM ecl.stat_eclvm;
\x on
SELECT policies_compiled, policy_compile_errors, policies_executed, policies_passed,
       policies_denied, policy_runtime_errors, out_of_gas_aborts, mana_rate_limited,
       total_gas_consumed, total_mana_consumed, crossing_evaluations, crossings_allowed,
       crossings_denied, events_emitted, avg_evaluation_time_us, policy_success_rate,
       crossing_allow_rate
  FROM ecl.stat_eclvm;   -- all but stats_reset, which is checked above
\x off
SELECT * FROM ecl.stat_eclvm_by_type;
SELECT count(*) AS realm_rows FROM ecl.stat_eclvm_realms;
SELECT count(*) AS policy_rows FROM ecl.stat_eclvm_policies;

-- a known set of runs
SELECT pg_temp.record_compile(true), pg_temp.record_compile(true),
       pg_temp.record_compile(false);
SELECT pg_temp.record_run('transfer_guard', 'transaction', 'bank', 'passed', 120, 30, 100, 1);
SELECT pg_temp.record_run('transfer_guard', 'transaction', 'bank', 'passed', 80, 10, 300, 0);
SELECT pg_temp.record_run('transfer_guard', 'transaction', 'bank', 'denied', 40, 10, 20, 0);
SELECT pg_temp.record_run('transfer_guard', 'transaction', 'shop', 'error', 5, 10, 7, 0);
SELECT pg_temp.record_run('bank_entry', 'crossing', 'bank', 'passed', 300, 60, 50, 2);
SELECT pg_temp.record_run('bank_entry', 'crossing', 'bank', 'out_of_gas', 1000, 10, 400, 0);
SELECT pg_temp.record_run('api:GET /x', 'api', 'shop', 'rate_limited', 0, 0, 3, 0);
SELECT pg_temp.record_run(NULL, NULL, NULL, 'passed', 10, 10, 20, 0);         -- ad hoc ecl.eval
SELECT pg_temp.record_run('odd_kind', 'no-such-kind', '', 'denied', 1, 10, 10, 0);
SELECT pg_temp.record_crossing('bank', true), pg_temp.record_crossing('bank', true),
       pg_temp.record_crossing('bank', false);

\x on
SELECT policies_compiled, policy_compile_errors, policies_executed, policies_passed,
       policies_denied, policy_runtime_errors, out_of_gas_aborts, mana_rate_limited,
       total_gas_consumed, total_mana_consumed, crossing_evaluations, crossings_allowed,
       crossings_denied, events_emitted, avg_evaluation_time_us, policy_success_rate,
       crossing_allow_rate
  FROM ecl.stat_eclvm;   -- all but stats_reset, unchanged
\x off
SELECT * FROM ecl.stat_eclvm_by_type;
SELECT * FROM ecl.stat_eclvm_realms ORDER BY realm_id;
SELECT * FROM ecl.stat_eclvm_policies ORDER BY policy NULLS FIRST, realm_id;

-- get_metric(name) sees the same numbers; unknown names give NULL
SELECT name, pg_temp.metric(name, 'bank') AS in_bank, pg_temp.metric(name, NULL) AS no_realm
  FROM unnest(ARRAY['policies_compiled', 'policy_compile_errors', 'policies_executed',
                    'policies_passed', 'policies_denied', 'policy_runtime_errors',
                    'out_of_gas_aborts', 'mana_rate_limited', 'total_gas_consumed',
                    'total_mana_consumed', 'total_time_us', 'crossing_evaluations',
                    'crossings_allowed', 'crossings_denied', 'events_emitted',
                    'avg_evaluation_time_us', 'policy_success_rate', 'crossing_allow_rate',
                    'realm.policies_executed', 'realm.passed', 'realm.denied',
                    'realm.success_rate', 'realm.gas_consumed', 'realm.mana_consumed',
                    'realm.crossing_policies', 'realm.nope', 'nope', 'stats_reset']) AS name;
SELECT pg_temp.metric('realm.success_rate', 'never_seen') AS unseen_realm_rate;

-- ecl.track = off: nothing is recorded
SET ecl.track = off;
SELECT pg_temp.record_run('transfer_guard', 'transaction', 'bank', 'passed', 1, 1, 1, 0);
SELECT pg_temp.record_compile(true);
SELECT pg_temp.record_crossing('bank', true);
RESET ecl.track;
SELECT policies_compiled, policies_executed, crossing_evaluations FROM ecl.stat_eclvm;
SELECT calls FROM ecl.stat_eclvm_policies WHERE policy = 'transfer_guard' AND realm_id = 'bank';

-- privileges: ecl_admin and pg_read_all_stats read; only ecl_admin resets
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_ecl_stats_nobody;
DROP ROLE IF EXISTS regress_ecl_stats_reader;
DROP ROLE IF EXISTS regress_ecl_stats_admin;
RESET client_min_messages;
CREATE ROLE regress_ecl_stats_nobody;
CREATE ROLE regress_ecl_stats_reader IN ROLE pg_read_all_stats;
CREATE ROLE regress_ecl_stats_admin IN ROLE ecl_admin;

SET ROLE regress_ecl_stats_nobody;
SELECT policies_executed FROM ecl.stat_eclvm;
SELECT count(*) FROM ecl.stat_eclvm_by_type;
SELECT count(*) FROM ecl.stat_eclvm_realms;
SELECT count(*) FROM ecl.stat_eclvm_policies;
SELECT policies_executed FROM ecl.stat_eclvm_counters();
SELECT ecl.stat_reset();
SELECT count(*) FROM ecl.rate_limit_accounts();
SELECT ecl.rate_limit_reset();
RESET ROLE;

SET ROLE regress_ecl_stats_reader;
SELECT policies_executed FROM ecl.stat_eclvm;
SELECT count(*) FROM ecl.stat_eclvm_by_type;
SELECT count(*) FROM ecl.stat_eclvm_realms;
SELECT count(*) FROM ecl.stat_eclvm_policies;
SELECT ecl.stat_reset();
SELECT ecl.rate_limit_reset();
RESET ROLE;

SET ROLE regress_ecl_stats_admin;
SELECT policies_executed FROM ecl.stat_eclvm;
SELECT count(*) FROM ecl.stat_eclvm_policies;
-- resetting every database is for superusers only (42501), and changes nothing
DO $$
BEGIN
	PERFORM ecl.stat_reset(true);
	RAISE NOTICE 'stat_reset(true) as ecl_admin: allowed';
EXCEPTION WHEN insufficient_privilege THEN
	RAISE NOTICE 'stat_reset(true) as ecl_admin: % %', SQLSTATE, SQLERRM;
END
$$;
SELECT policies_executed FROM ecl.stat_eclvm;
SELECT ecl.stat_reset(false);
SELECT policies_executed, policies_compiled, crossing_evaluations, policy_success_rate
  FROM ecl.stat_eclvm;
SELECT count(*) AS realm_rows FROM ecl.stat_eclvm_realms;
SELECT count(*) AS policy_rows FROM ecl.stat_eclvm_policies;
SELECT sum(executions) AS by_type_total FROM ecl.stat_eclvm_by_type;
RESET ROLE;
-- the old call without arguments and NULL reset the current database
SELECT pg_temp.record_run('after_reset', 'api', 'bank', 'passed', 1, 1, 1, 0);
SELECT ecl.stat_reset(NULL);
SELECT policies_executed FROM ecl.stat_eclvm WHERE datname = current_database();
SELECT pg_temp.record_run('after_reset', 'api', 'bank', 'passed', 1, 1, 1, 0);
SELECT ecl.stat_reset();
SELECT policies_executed FROM ecl.stat_eclvm WHERE datname = current_database();

DROP ROLE regress_ecl_stats_nobody;
DROP ROLE regress_ecl_stats_reader;
DROP ROLE regress_ecl_stats_admin;

-- per-DID mana accounts: R = 0 gives max 10000, regeneration 100/s
SELECT ecl.rate_limit_reset() >= 0 AS cleared;
SELECT paid, retry_after FROM pg_temp.charge('did:example:r0', 0, 10000);  -- a new account is full
SELECT paid, retry_after BETWEEN 40 AND 50 AS retry_about_50s
  FROM pg_temp.charge('did:example:r0', 0, 5000);                          -- empty: 5000 / 100 per s
SELECT paid, retry_after FROM pg_temp.charge('did:example:r0', 0, 20000);  -- above max: never
SELECT did, mana < 1000 AS nearly_empty, max_mana, regen_per_second
  FROM ecl.rate_limit_accounts() WHERE did = 'did:example:r0';
-- R = 1 gives max 1010000, regeneration 1100/s
SELECT paid FROM pg_temp.charge('did:example:r1', 1, 1000000);
SELECT paid, retry_after BETWEEN 5 AND 9.1 AS retry_about_9s
  FROM pg_temp.charge('did:example:r1', 1, 20000);                         -- (20000-10000) / 1100 = 9.09
SELECT max_mana, regen_per_second FROM ecl.rate_limit_accounts() WHERE did = 'did:example:r1';
-- reliability is clamped to [0, 1]
SELECT paid FROM pg_temp.charge('did:example:clamp', 7, 1010000);
SELECT paid FROM pg_temp.charge('did:example:neg', -3, 10001);
-- a reset account starts full again
SELECT ecl.rate_limit_reset('did:example:r0') AS removed,
       ecl.rate_limit_reset('did:example:unknown') AS removed_unknown;
SELECT paid FROM pg_temp.charge('did:example:r0', 0, 10000);
SELECT ecl.rate_limit_reset() AS removed_all;
SELECT count(*) FROM ecl.rate_limit_accounts();
