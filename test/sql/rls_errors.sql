--
-- ecl.rls_errors (default raise): with deny, a runtime error of the policy
-- in ecl.check / ecl.allowed hides the row instead of ending the statement;
-- the run counts as an error (not a denial) and one WARNING per statement
-- and policy names the error.  A refused rate-limit charge, query cancel and
-- statement_timeout still raise.
--
\set VERBOSITY terse

INSERT INTO ecl.identities (did) VALUES ('did:regress:rle-erin');
INSERT INTO ecl.realms (realm_id) VALUES ('rle-realm');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:rle-erin', 'rle-realm', 0, 0, 0, 0, 0, 0);
-- passes when 10 / d > 1; d = 0 divides by zero, a missing d is a type error
SELECT ecl.register_policy('rle_ratio', $$
policy rle_ratio {
	return 10 / d > 1 + trust.r
}
$$, 'custom', 'rle-realm') IS NOT NULL AS registered;

CREATE TABLE rle_items (id int PRIMARY KEY, d int);
INSERT INTO rle_items VALUES (1, 1), (2, 0), (3, 5), (4, 10), (5, NULL), (6, 0), (7, 2);
ALTER TABLE rle_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY rle_read ON rle_items FOR SELECT
	USING (ecl.allowed('rle_ratio', 'rle-realm', jsonb_strip_nulls(jsonb_build_object('d', d))));
CREATE ROLE regress_rle_erin;
SELECT ecl.bind_role('regress_rle_erin', 'did:regress:rle-erin');
GRANT SELECT ON rle_items TO regress_rle_erin;

SHOW ecl.rls_errors;
SET ecl.rls_errors = ignore;

SELECT ecl.stat_reset();
SET ROLE regress_rle_erin;
-- raise (the default): the first failing row ends the statement
SELECT array_agg(id ORDER BY id) AS visible FROM rle_items;
\echo :LAST_ERROR_SQLSTATE

-- deny, set by the role itself: the failing rows (2, 5, 6) are hidden,
-- row 4 is denied, and one WARNING names the first error
SET ecl.rls_errors = deny;
SELECT array_agg(id ORDER BY id) AS visible FROM rle_items;
RESET ROLE;
-- every row a run: 3 passed, 1 denied, and the 3 failing runs (the two
-- identical ones included) are errors; plus the 2 runs of the raising
-- statement (row 1 passed, row 2 failed): 9 runs, 4 passed, 1 denied, 4 errors
SELECT calls, passed, denied, errors
  FROM ecl.stat_eclvm_policies WHERE policy = 'rle_ratio';
SELECT policies_executed, policies_passed, policies_denied, policy_runtime_errors
  FROM ecl.stat_eclvm;

-- one WARNING per statement: the next statement warns again
SET ROLE regress_rle_erin;
SELECT count(*) AS visible FROM rle_items WHERE id >= 5;
-- and per policy: a second failing policy in the same statement has its own
RESET ROLE;
SELECT ecl.register_policy('rle_field', 'policy rle_field { return missing_field > 0 }',
	'custom', 'rle-realm') IS NOT NULL AS registered;
SET ROLE regress_rle_erin;
SELECT array_agg(id ORDER BY id) AS visible FROM rle_items
 WHERE ecl.allowed('rle_field', 'rle-realm') OR id IN (2, 7);
RESET ROLE;

-- out of gas and ecl.timeout_ms are errors of the run like the others
SET ecl.rls_errors = deny;
SELECT ecl.register_policy('rle_loop', $$
policy rle_loop {
	let n = 0
	for a in xs { for b in xs { for c in xs { n = n + 1 } } }
	return n > 0
}
$$, 'custom', 'rle-realm') IS NOT NULL AS registered;
SELECT (SELECT jsonb_build_object('xs', jsonb_agg(g)) FROM generate_series(1, 1000) g) AS big \gset
SELECT ecl.stat_reset();
SET ecl.gas_limit = 1000;
SELECT count(*) FILTER (WHERE ecl.check('rle_loop', 'did:regress:rle-erin', 'rle-realm', :'big')) AS passed,
	   count(*) AS calls
  FROM generate_series(1, 3);
RESET ecl.gas_limit;
SET ecl.gas_limit = 2000000000;
SET ecl.timeout_ms = 50;
-- (where the clock stops it varies: only the warning's SQLSTATE is shown)
\set VERBOSITY sqlstate
SELECT ecl.check('rle_loop', 'did:regress:rle-erin', 'rle-realm', :'big') AS passed;
\set VERBOSITY terse
RESET ecl.timeout_ms;
RESET ecl.gas_limit;
SELECT calls, passed, denied, errors FROM ecl.stat_eclvm_policies WHERE policy = 'rle_loop';
SELECT out_of_gas_aborts, policy_runtime_errors FROM ecl.stat_eclvm;

-- statement_timeout (and query cancel) still ends the statement under deny:
-- a run with all the gas it could want and no ECL timeout
SET ecl.gas_limit = 2000000000;
SET ecl.timeout_ms = 0;
SET statement_timeout = '300ms';
SELECT ecl.check('rle_loop', 'did:regress:rle-erin', 'rle-realm', :'big') AS passed;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
RESET ecl.timeout_ms;
RESET ecl.gas_limit;
-- counted as an error of the run
SELECT calls, errors FROM ecl.stat_eclvm_policies WHERE policy = 'rle_loop';

-- the run's own mana budget (ecl.mana_limit) is an error of the run: hidden
SELECT ecl.register_policy('rle_costly', 'policy rle_costly { for s in schemas { let h = has_credential(caller, s) } return true }',
	'custom', 'rle-realm') IS NOT NULL AS registered;
SELECT (SELECT jsonb_build_object('schemas', jsonb_agg('s' || g)) FROM generate_series(1, 240) g) AS costly \gset
SELECT ecl.check('rle_costly', 'did:regress:rle-erin', 'rle-realm', :'costly') AS passed;
-- but a refused rate-limit charge is not hidden: EC003 with the reason
-- (12010 mana is more than an account of reliability 0 holds)
SET ecl.rate_limit = on;
SET ecl.mana_limit = 20000;
SELECT ecl.check('rle_costly', 'did:regress:rle-erin', 'rle-realm', :'costly') AS passed;
\echo :LAST_ERROR_SQLSTATE
RESET ecl.mana_limit;
RESET ecl.rate_limit;
RESET ecl.rls_errors;

-- ------------------------------------------------------------------ clean up
SELECT ecl.rate_limit_reset('did:regress:rle-erin') >= 0 AS reset;
DROP TABLE rle_items;
SELECT ecl.unbind_role('regress_rle_erin');
DROP ROLE regress_rle_erin;
SELECT ecl.drop_policy(p) FROM unnest(ARRAY['rle_ratio', 'rle_field', 'rle_loop', 'rle_costly']) p;
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:rle-%';
DELETE FROM ecl.realms WHERE realm_id = 'rle-realm';
