--
-- ecl.explain (docs/authoring.md, "Why was this denied?"): a traced
-- read-only run of a registered policy, one row per require, branch, host
-- call and return, with line, column and the gas of each step.
--
\set VERBOSITY terse

INSERT INTO ecl.identities (did) VALUES ('did:regress:ex-alice'), ('did:regress:ex-bob');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:ex-alice', '', 0.9, 0.9, 0.9, 0.9, 0.9, 0.9),
	('did:regress:ex-bob',   '', 0.2, 0.2, 0.2, 0.2, 0.2, 0.2);

SELECT ecl.register_policy('ex_transfer', $$
policy ex_transfer(amount: number, to: did) {
    require amount > 0, "amount must be positive"
    if amount > 100 {
        require trust_norm(load_trust(to)) > 0.5, "recipient not trusted for large amounts"
    }
    require amount <= 1000 && caller != to, "over the limit"
    return true
}
$$) IS NOT NULL AS registered;

-- denied: the failing require is named with its line
SELECT step, line, col, event, detail, gas
  FROM ecl.explain('ex_transfer', 'did:regress:ex-alice', NULL,
				   '{"amount": 500, "to": "did:regress:ex-bob"}');

-- passed: ends in return; the host call shows its argument and result
SELECT step, line, event, detail
  FROM ecl.explain('ex_transfer', 'did:regress:ex-bob', NULL,
				   '{"amount": 500, "to": "did:regress:ex-alice"}');

-- the gas column sums to the run's gas_used (the same run through run_policy)
SELECT (SELECT sum(gas) FROM ecl.explain('ex_transfer', 'did:regress:ex-bob', NULL,
										 '{"amount": 500, "to": "did:regress:ex-alice"}'))
	 = (ecl.run_policy('ex_transfer', 'did:regress:ex-bob', NULL,
					   '{"amount": 500, "to": "did:regress:ex-alice"}')).gas_used AS gas_sums;
SELECT (SELECT sum(gas) FROM ecl.explain('ex_transfer', 'did:regress:ex-alice', NULL,
										 '{"amount": 500, "to": "did:regress:ex-bob"}'))
	 = (ecl.run_policy('ex_transfer', 'did:regress:ex-alice', NULL,
					   '{"amount": 500, "to": "did:regress:ex-bob"}')).gas_used AS denied_gas_sums;

-- short-circuit: the right side of && not evaluated
SELECT event, detail FROM ecl.explain('ex_transfer', 'did:regress:ex-alice', NULL,
				   '{"amount": 5000, "to": "did:regress:ex-alice"}') WHERE event IN ('and', 'require');

-- an explain run counts like a check
SELECT coalesce(sum(calls), 0) AS calls_before FROM ecl.stat_eclvm_policies WHERE policy = 'ex_transfer' \gset
SELECT count(*) AS rows FROM ecl.explain('ex_transfer', 'did:regress:ex-bob', NULL,
				   '{"amount": 5, "to": "did:regress:ex-alice"}');
SELECT sum(calls) - :calls_before AS explain_counted FROM ecl.stat_eclvm_policies WHERE policy = 'ex_transfer';

-- a policy that writes is refused (read-only run), and errors still raise
SELECT ecl.register_policy('ex_writer', $$
policy ex_writer {
    store_put("s", "k", 1)
    return true
}
$$) IS NOT NULL AS registered;
SELECT * FROM ecl.explain('ex_writer', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.explain('ex_transfer', NULL, NULL, '{"amount": 1}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.explain('ex_nope', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE

-- privileges with real roles: executors and admins, not PUBLIC
CREATE ROLE regress_ex_exec IN ROLE ecl_executor;
CREATE ROLE regress_ex_guest;
SET ROLE regress_ex_exec;
SELECT count(*) > 0 AS executor_may FROM ecl.explain('ex_transfer', NULL, NULL, '{"amount": 1, "to": "did:regress:ex-bob"}');
SELECT count(*) AS executor_reads_inputs FROM ecl.policy_inputs('ex_transfer');
RESET ROLE;
SET ROLE regress_ex_guest;
SELECT * FROM ecl.explain('ex_transfer', NULL, NULL, '{"amount": 1, "to": "did:regress:ex-bob"}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.policy_inputs('ex_transfer');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE regress_ex_exec, regress_ex_guest;

SELECT ecl.drop_policy('ex_transfer'), ecl.drop_policy('ex_writer');
DELETE FROM ecl.trust WHERE did LIKE 'did:regress:ex-%';
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:ex-%';
