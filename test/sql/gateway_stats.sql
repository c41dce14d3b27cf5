--
-- What the crossing gateway reports to the ECLVM statistics (step 5 of
-- docs/sql-api.md, "The crossing gateway"; docs/sql-api.md, "Statistics"): exactly one crossing evaluation per validate_crossing /
-- allow_crossing / join_realm call that reached a decision, allowed or
-- denied (an evaluation cut short by a policy's runtime error counts as
-- denied); and, counted by the runner, one execution per policy run — the
-- entry policy under type "crossing" (whatever kind it was registered
-- with), rules under their own kind.  Needs shared_preload_libraries = 'ecl'.
--
\set VERBOSITY terse

INSERT INTO ecl.identities (did) VALUES
	('did:regress:gs-high'), ('did:regress:gs-low');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:gs-high', '', 0.8, 0.8, 0.8, 0.8, 0.8, 0.8),
	('did:regress:gs-low',  '', 0.1, 0.1, 0.1, 0.1, 0.1, 0.1);
-- registered as 'custom': the gateway still runs it as a crossing policy
SELECT ecl.register_policy('gs_entry',
	'policy gs_entry { require from_realm != "gs-banned", "banned origin" }',
	'custom') IS NOT NULL AS registered;
SELECT ecl.register_policy('gs_rule',
	'policy gs_rule { return trust.r > 0.5 }', 'membership') IS NOT NULL AS registered;
SELECT ecl.register_policy('gs_loop',
	'policy gs_loop { for x in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] { log("x") } }',
	'crossing') IS NOT NULL AS registered;
INSERT INTO ecl.realms (realm_id, min_trust, required_rules, entry_policy) VALUES
	('gs-plain', 0.5, '{}', NULL),
	('gs-entry', 0.5, '{}', 'gs_entry'),
	('gs-ruled', 0,   '{gs_rule}', NULL),
	('gs-loop',  0,   '{}', 'gs_loop');

SELECT ecl.stat_reset();

-- plain realm: allowed, denied (trust), denied (unregistered); no ECL runs
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-high', 'gs-home', 'gs-plain');
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-low', 'gs-home', 'gs-plain');
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-none', 'gs-home', 'gs-plain');
-- entry realm: the policy passes, denies, and does not run (trust too low)
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-high', 'gs-home', 'gs-entry');
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-high', 'gs-banned', 'gs-entry');
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-low', 'gs-home', 'gs-entry');
-- allow_crossing and join_realm are one evaluation each
SELECT ecl.allow_crossing('did:regress:gs-high', 'gs-banned', 'gs-entry');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.join_realm('did:regress:gs-high', 'gs-home', 'gs-entry') IS NOT NULL AS joined;
-- a rule: one membership run each, passing then denying
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-high', 'gs-home', 'gs-ruled');
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-low', 'gs-home', 'gs-ruled');
-- an entry policy that runs out of gas: an error run, a denied crossing
SET ecl.gas_limit = 100;
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-low', 'gs-home', 'gs-loop');
\echo :LAST_ERROR_SQLSTATE
RESET ecl.gas_limit;
-- no decision, nothing counted: unknown realm, NULL argument
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-high', 'gs-home', 'gs-nowhere');
\echo :LAST_ERROR_SQLSTATE
SELECT allowed FROM ecl.validate_crossing('did:regress:gs-high', NULL, 'gs-plain');
\echo :LAST_ERROR_SQLSTATE

-- 11 decisions: 4 allowed (plain, entry, join, ruled), 7 denied
-- 7 runs: gs_entry 4 (2 passed, 2 denied), gs_rule 2 (1 each), gs_loop 1 error
\x on
SELECT crossing_evaluations, crossings_allowed, crossings_denied,
	   round(crossing_allow_rate::numeric, 4) AS crossing_allow_rate,
	   policies_executed, policies_passed, policies_denied,
	   policy_runtime_errors, out_of_gas_aborts
  FROM ecl.stat_eclvm;
\x off
SELECT policy_type, executions, passed, denied, errors
  FROM ecl.stat_eclvm_by_type
 WHERE policy_type IN ('crossing', 'membership', 'custom')
 ORDER BY policy_type;
SELECT realm_id, policies_executed, passed, denied, crossing_policies
  FROM ecl.stat_eclvm_realms
 WHERE realm_id LIKE 'gs-%'
 ORDER BY realm_id;
SELECT policy, calls, passed, denied, errors
  FROM ecl.stat_eclvm_policies
 WHERE policy LIKE 'gs\_%'
 ORDER BY policy;

-- clean up
DELETE FROM ecl.realm_members WHERE realm_id LIKE 'gs-%';
DELETE FROM ecl.realms WHERE realm_id LIKE 'gs-%';
SELECT ecl.drop_policy(p) FROM unnest(ARRAY['gs_entry', 'gs_rule', 'gs_loop']) AS p;
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:gs-%';
