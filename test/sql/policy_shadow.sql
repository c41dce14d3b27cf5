--
-- Shadow evaluation (docs/lifecycle.md, "Shadow evaluation"):
-- ecl.set_shadow / ecl.promote_shadow / ecl.drop_shadow, with real roles
-- and SQLSTATEs; the candidate runs beside the policy on every entry point,
-- the policy answers; the candidate's gas, mana and rate-limit charge are
-- not the caller's, its errors never reach the caller, its writes and
-- events are not kept; comparisons counted exactly in
-- ecl.stat_eclvm_policies (shadow_runs, shadow_disagreements); a plan that
-- translated the policy is replanned when a candidate is set; promote
-- goes through registration (ecl.policy_versions); the statistics of a
-- policy accumulate across versions.
--
\set VERBOSITY terse

INSERT INTO ecl.realms (realm_id) VALUES ('sh-realm');
CREATE ROLE regress_sh_admin IN ROLE ecl_admin;
CREATE ROLE regress_sh_exec IN ROLE ecl_executor;
CREATE ROLE regress_sh_nobody;
GRANT USAGE ON SCHEMA ecl TO regress_sh_nobody;

SELECT ecl.register_policy('sh_amount', $ecl$
policy sh_amount {
    require amount < 100, "amount too high"
    return true
}
$ecl$, 'transaction', 'sh-realm') IS NOT NULL AS registered;

-- --------------------------------------------------------- privileges
SET ROLE regress_sh_exec;
SELECT ecl.set_shadow('sh_amount', 'policy p { return true }');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.promote_shadow('sh_amount');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_shadow('sh_amount');
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_sh_nobody;
SELECT ecl.set_shadow('sh_amount', 'policy p { return true }');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- ------------------------------------------------------------- errors
SET ROLE regress_sh_admin;
SELECT ecl.set_shadow('sh_nothing', 'policy p { return true }');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.set_shadow('sh_amount', 'policy p { return }');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.set_shadow('sh_amount', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.set_shadow(NULL, 'policy p { return true }');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.promote_shadow('sh_amount');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.promote_shadow('sh_nothing');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_shadow('sh_nothing');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_shadow('sh_amount') AS dropped_none;
-- nothing was stored by the failed calls
SELECT shadow_source IS NULL AS no_candidate FROM ecl.policies WHERE name = 'sh_amount';
BEGIN READ ONLY;
SELECT ecl.set_shadow('sh_amount', 'policy p { return true }');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- ------------------------------------ a candidate: the policy answers
SELECT ecl.set_shadow('sh_amount', $ecl$
policy sh_amount {
    require amount < 50, "amount too high"
    return true
}
$ecl$) AS candidate_hash \gset
SELECT version, shadow_source LIKE '%< 50%' AS candidate_stored,
	   shadow_hash = :'candidate_hash'::bytea AS hash_returned,
	   shadow_set_by = session_user AS set_by_session_user
  FROM ecl.policies WHERE name = 'sh_amount';
RESET ROLE;
SELECT ecl.stat_reset();

-- amounts 10, 70, 120 on each entry point: 10 agrees (both pass), 70
-- disagrees (the candidate denies), 120 agrees (both deny)
SELECT a AS amount,
	   ecl.check('sh_amount', 'did:regress:sh', 'sh-realm', jsonb_build_object('amount', a)) AS check_answers
  FROM unnest(ARRAY[10, 70, 120]) a ORDER BY a;
SELECT a AS amount, (ecl.run_policy('sh_amount', 'did:regress:sh', 'sh-realm',
	   jsonb_build_object('amount', a))).passed AS run_policy_answers
  FROM unnest(ARRAY[10, 70, 120]) a ORDER BY a;
SELECT (ecl.enforce('sh_amount', 'did:regress:sh', 'sh-realm', '{"amount": 70}')).passed AS enforce_answers;
SET ecl.allow_anonymous = on;
SELECT ecl.allowed('sh_amount', 'sh-realm', '{"amount": 70}') AS allowed_answers;
RESET ecl.allow_anonymous;
-- an engine's handler is a policy too (named engine:key)
SELECT ecl.register_handler('api', 'sh', 'return true', 'sh-realm') IS NOT NULL AS handler_registered;
SET ROLE regress_sh_admin;
SELECT ecl.set_shadow('api:sh', 'return false') IS NOT NULL AS handler_candidate;
RESET ROLE;
SELECT passed FROM ecl.run_api('sh', 'did:regress:sh', 'sh-realm',
	'{"method": "GET", "path": "/", "params": {}, "body": null}');
SELECT calls, shadow_runs, shadow_disagreements FROM ecl.stat_eclvm_policies WHERE policy = 'api:sh';
SELECT ecl.drop_handler('api', 'sh') AS handler_dropped;
-- ecl.simulate is not traffic: no candidate runs
SELECT (ecl.simulate('sh_amount', 'did:regress:sh', 'sh-realm', '{"amount": 70}', '{}')).passed AS simulated;
-- 3 + 3 + 1 + 1 comparisons, 1 + 1 + 1 + 1 disagreements; the runs of the
-- candidate are not calls
SELECT calls, passed, denied, errors, shadow_runs, shadow_disagreements
  FROM ecl.stat_eclvm_policies WHERE policy = 'sh_amount';

-- ------------------------------------------- the statement memo of runs
-- a policy that calls the host: ecl.check answers repeats of one statement
-- from the memo of runs; the candidate runs on every row all the same
SELECT ecl.register_policy('sh_memo', $ecl$
policy sh_memo {
    require trust.r >= 0, "no trust"
    return amount < 100
}
$ecl$, 'custom', 'sh-realm') IS NOT NULL AS registered;
SELECT ecl.set_shadow('sh_memo', $ecl$
policy sh_memo {
    require trust.r >= 0, "no trust"
    return amount < 50
}
$ecl$) IS NOT NULL AS candidate_set;
-- 40 rows, 4 distinct inputs (10, 60, 110, 160): 10 of them with 60
-- disagree, and one LOG line says so for the whole statement
SET client_min_messages = log;
SELECT count(*) FILTER (WHERE ecl.check('sh_memo', 'did:regress:sh', 'sh-realm',
		jsonb_build_object('amount', 10 + 50 * (g % 4)))) AS passed_rows
  FROM generate_series(1, 40) g;
RESET client_min_messages;
SELECT calls, shadow_runs, shadow_disagreements
  FROM ecl.stat_eclvm_policies WHERE policy = 'sh_memo';

-- --------------------------------------- the candidate is not charged
-- gas: a run reports the policy's gas, with or without a costly candidate
SELECT ecl.register_policy('sh_cost', 'policy sh_cost { return amount < 100 }',
	'custom', 'sh-realm') IS NOT NULL AS registered;
SELECT gas_used AS gas_alone FROM ecl.run_policy('sh_cost', 'did:regress:sh-payer', 'sh-realm', '{"amount": 1}') \gset
SELECT ecl.set_shadow('sh_cost', $ecl$
policy sh_cost {
    let total = 0
    for x in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] {
        total = total + x * amount
    }
    require trust.r >= 0 && has_credential(caller, "kyc") == false, "costly"
    return total >= 0
}
$ecl$) IS NOT NULL AS costly_candidate;
SELECT gas_used = :gas_alone AS same_gas, mana_used AS mana
  FROM ecl.run_policy('sh_cost', 'did:regress:sh-payer', 'sh-realm', '{"amount": 1}') \gset
SELECT :'same_gas' AS same_gas;
-- rate limit: the candidate costs more mana than the policy (two host
-- calls); the caller's account pays the policy's runs only: a run_policy
-- and an ecl.check statement pay :mana each, and regeneration only lowers
-- what the account lacks.  Charged for the candidate too, it would lack
-- at least 2 * :mana + 2 * the candidate's mana.
SELECT ecl.register_policy('sh_cost_alone', shadow_source, 'custom', 'sh-realm') IS NOT NULL AS candidate_alone
  FROM ecl.policies WHERE name = 'sh_cost';
SELECT mana_used AS candidate_mana
  FROM ecl.run_policy('sh_cost_alone', 'did:regress:sh-payer', 'sh-realm', '{"amount": 1}') \gset
SELECT :candidate_mana > :mana AS candidate_costs_more;
SET ecl.rate_limit = on;
SELECT ecl.rate_limit_reset('did:regress:sh-payer') >= 0 AS reset;
SELECT (ecl.run_policy('sh_cost', 'did:regress:sh-payer', 'sh-realm', '{"amount": 1}')).passed AS run_passed,
	   ecl.check('sh_cost', 'did:regress:sh-payer', 'sh-realm', '{"amount": 2}') AS check_passed;
SELECT max_mana - mana BETWEEN 0 AND 2 * :mana AS only_the_policy_paid
  FROM ecl.rate_limit_accounts() WHERE did = 'did:regress:sh-payer';
RESET ecl.rate_limit;
-- budgets: under a gas limit the policy fits and the candidate does not;
-- the caller gets the policy's answer, the candidate's failure is counted
SET ecl.gas_limit = 60;
SELECT passed, value FROM ecl.run_policy('sh_cost', 'did:regress:sh-payer', 'sh-realm', '{"amount": 1}');
RESET ecl.gas_limit;
SELECT calls, errors, shadow_runs, shadow_disagreements
  FROM ecl.stat_eclvm_policies WHERE policy = 'sh_cost';

-- ------------------------------- the candidate's errors stay its own
SELECT ecl.register_policy('sh_fail', 'policy sh_fail { return amount < 100 }',
	'custom', 'sh-realm') IS NOT NULL AS registered;
SELECT ecl.set_shadow('sh_fail', 'policy sh_fail { return missing_field < 100 }') IS NOT NULL AS failing_candidate;
SELECT passed, value FROM ecl.run_policy('sh_fail', NULL, 'sh-realm', '{"amount": 1}');
SELECT ecl.check('sh_fail', NULL, 'sh-realm', '{"amount": 200}') AS check_answers;
SELECT calls, errors, shadow_runs, shadow_disagreements
  FROM ecl.stat_eclvm_policies WHERE policy = 'sh_fail';

-- ------------------------------------- the candidate's writes are void
SELECT ecl.register_policy('sh_write', 'policy sh_write { return amount < 100 }',
	'custom', 'sh-realm') IS NOT NULL AS registered;
SELECT ecl.set_shadow('sh_write', $ecl$
policy sh_write {
    store_put("sh_store", "k", amount)
    emit "sh_event", {amount: amount}
    return amount < 100
}
$ecl$) IS NOT NULL AS writing_candidate;
SELECT passed, events FROM ecl.run_policy('sh_write', 'did:regress:sh', 'sh-realm', '{"amount": 5}');
SELECT (SELECT count(*) FROM ecl.store WHERE realm_id = 'sh-realm') AS store_rows,
	   (SELECT count(*) FROM ecl.events WHERE event = 'sh_event') AS event_rows;
-- in ecl.check the candidate runs read-only like the policy: its write
-- fails, and that is its outcome (a disagreement), not the caller's error
SELECT ecl.check('sh_write', 'did:regress:sh', 'sh-realm', '{"amount": 5}') AS check_answers;
SELECT calls, errors, shadow_runs, shadow_disagreements
  FROM ecl.stat_eclvm_policies WHERE policy = 'sh_write';

-- ------------------------------------------------- plans are replanned
SELECT ecl.register_policy('sh_plan', 'policy sh_plan { return amount < 100 }') IS NOT NULL AS registered;
CREATE TABLE sh_rows AS SELECT g AS amount FROM generate_series(1, 200) g;
PREPARE sh_q AS SELECT count(*) FROM sh_rows
	WHERE ecl.check('sh_plan', 'did:regress:sh', NULL, jsonb_build_object('amount', amount));
EXECUTE sh_q;
SELECT ecl.policy_sql('sh_plan', '{amount:int}') NOT LIKE '-- not translated%' AS translated;
SELECT coalesce(sum(calls), 0) AS vm_calls FROM ecl.stat_eclvm_policies WHERE policy = 'sh_plan';
SET ROLE regress_sh_admin;
SELECT ecl.set_shadow('sh_plan', 'policy sh_plan { return amount < 50 }') IS NOT NULL AS candidate_set;
RESET ROLE;
SELECT ecl.policy_sql('sh_plan', '{amount:int}') AS why_not_translated;
-- the prepared plan is rebuilt: every row now runs in the VM, with the candidate
EXECUTE sh_q;
SELECT calls, shadow_runs, shadow_disagreements FROM ecl.stat_eclvm_policies WHERE policy = 'sh_plan';
SET ROLE regress_sh_admin;
SELECT ecl.drop_shadow('sh_plan') AS dropped;
SELECT ecl.drop_shadow('sh_plan') AS dropped_again;
RESET ROLE;
EXECUTE sh_q;
SELECT ecl.policy_sql('sh_plan', '{amount:int}') NOT LIKE '-- not translated%' AS translated_again;
SELECT calls, shadow_runs, shadow_disagreements FROM ecl.stat_eclvm_policies WHERE policy = 'sh_plan';
DEALLOCATE sh_q;

-- --------------------------------------------------------------- promote
SET ROLE regress_sh_admin;
SELECT ecl.promote_shadow('sh_amount') = :'candidate_hash'::bytea AS promoted_hash;
SELECT version, hash = :'candidate_hash'::bytea AS candidate_is_current,
	   shadow_source IS NULL AND shadow_bytecode IS NULL AND shadow_hash IS NULL
	   AND shadow_set_by IS NULL AND shadow_set_at IS NULL AS candidate_cleared
  FROM ecl.policies WHERE name = 'sh_amount';
SELECT version, source LIKE '%< 50%' AS candidate_source, registered_by = session_user AS by_session_user
  FROM ecl.policy_versions WHERE name = 'sh_amount' ORDER BY version;
SELECT ecl.promote_shadow('sh_amount');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- the promoted version answers now, with no candidate beside it
SELECT (ecl.run_policy('sh_amount', 'did:regress:sh', 'sh-realm', '{"amount": 70}')).passed AS v2_answers;
-- the policy's row keeps counting across versions: 8 calls of version 1
-- and 1 of version 2; the comparisons stopped with the promotion
SELECT calls, passed, denied, shadow_runs, shadow_disagreements
  FROM ecl.stat_eclvm_policies WHERE policy = 'sh_amount';
-- ... and each version's own row says which version did what
SELECT policy, version, hash = :'candidate_hash'::bytea AS candidate_hash,
	   calls, passed, denied, errors, shadow_runs, shadow_disagreements
  FROM ecl.stat_eclvm_policy_versions WHERE policy = 'sh_amount' ORDER BY version;
-- a rollback is a new version with the old hash: a row of its own, and the
-- policy's row goes on counting
SELECT ecl.rollback_policy('sh_amount', 1) IS NOT NULL AS rolled_back;
SELECT (ecl.run_policy('sh_amount', 'did:regress:sh', 'sh-realm', '{"amount": 70}')).passed AS v3_answers;
SELECT v.version, v.hash = p.hash AS same_hash_as_v1, v.calls, v.passed
  FROM ecl.stat_eclvm_policy_versions v,
	   (SELECT hash FROM ecl.policy_versions WHERE name = 'sh_amount' AND version = 1) p
 WHERE v.policy = 'sh_amount' ORDER BY v.version;
SELECT calls, passed, denied FROM ecl.stat_eclvm_policies WHERE policy = 'sh_amount';
-- ad hoc code has no version row
SELECT ecl.eval('return 1') AS ad_hoc;
SELECT count(*) AS ad_hoc_version_rows FROM ecl.stat_eclvm_policy_versions WHERE policy IS NULL;
-- a policy dropped with a candidate takes the candidate with it
SELECT ecl.drop_policy('sh_fail') AS dropped;
SELECT ecl.register_policy('sh_fail', 'policy sh_fail { return true }') IS NOT NULL AS registered_again;
SELECT shadow_source IS NULL AS no_candidate FROM ecl.policies WHERE name = 'sh_fail';

-- -------------------------------------------------------------- crossings
-- the gateway's entry policy runs through the same runner: its candidate
-- runs beside it, and the crossing is decided by the current version
INSERT INTO ecl.identities (did) VALUES ('did:regress:sh-x');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:sh-x', '', 0.8, 0.8, 0.8, 0.8, 0.8, 0.8);
SELECT ecl.register_policy('sh_entry',
	'policy sh_entry { require from_realm != "sh-banned", "banned origin" }',
	'crossing') IS NOT NULL AS registered;
INSERT INTO ecl.realms (realm_id, min_trust, required_rules, entry_policy)
	VALUES ('sh-gate', 0.5, '{}', 'sh_entry');
SELECT ecl.set_shadow('sh_entry',
	'policy sh_entry { require from_realm != "sh-home", "home origin" }') IS NOT NULL AS candidate_set;
-- current passes, candidate denies; current denies, candidate passes; both pass
SELECT allowed FROM ecl.validate_crossing('did:regress:sh-x', 'sh-home', 'sh-gate');
SELECT allowed FROM ecl.validate_crossing('did:regress:sh-x', 'sh-banned', 'sh-gate');
SELECT ecl.allow_crossing('did:regress:sh-x', 'sh-other', 'sh-gate') IS NOT NULL AS allowed;
SELECT sum(shadow_runs) AS shadow_runs, sum(shadow_disagreements) AS shadow_disagreements
  FROM ecl.stat_eclvm_policies WHERE policy = 'sh_entry';
DELETE FROM ecl.realms WHERE realm_id = 'sh-gate';
DELETE FROM ecl.identities WHERE did = 'did:regress:sh-x';

-- -------------------------------------------------------------- clean up
SELECT count(*) AS dropped FROM ecl.policies p, LATERAL ecl.drop_policy(p.name) d
 WHERE p.name LIKE 'sh\_%';
DELETE FROM ecl.policy_versions WHERE name LIKE 'sh\_%' OR name = 'api:sh';
DROP TABLE sh_rows;
DELETE FROM ecl.realms WHERE realm_id = 'sh-realm';
SELECT ecl.rate_limit_reset('did:regress:sh-payer') >= 0 AS reset;
REVOKE USAGE ON SCHEMA ecl FROM regress_sh_nobody;
DROP ROLE regress_sh_admin, regress_sh_exec, regress_sh_nobody;
