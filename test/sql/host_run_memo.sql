--
-- The memo of whole read-only runs (runner.c): within one statement,
-- ecl.check / ecl.allowed with the same policy, caller, realm and input
-- answer from the run before.  What must hold: the answers are those of
-- real runs (keyed by caller, realm and input), every call is still counted
-- as a run with its gas and mana, a later command of the same statement
-- sees changed data, and under ecl.rate_limit the memo still answers
-- (ecl.check pays once per statement) while ecl.run_policy pays per call.
--
\set VERBOSITY terse

INSERT INTO ecl.identities (did) VALUES ('did:regress:rm-ann'), ('did:regress:rm-ben');
INSERT INTO ecl.realms (realm_id) VALUES ('rm-one'), ('rm-two');
-- ann passes in rm-one only; ben fails everywhere
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:rm-ann', 'rm-one', 0.9, 0, 0, 0, 0, 0),
	('did:regress:rm-ann', '',       0.1, 0, 0, 0, 0, 0),
	('did:regress:rm-ben', '',       0.2, 0, 0, 0, 0, 0);

SELECT ecl.register_policy('rm_policy',
	'policy rm_policy { return trust.r >= 0.5 && limit >= 10 }') IS NOT NULL AS registered;

-- 2 callers x 2 realms x 5 inputs, each combination 10 times, in one
-- statement: a memo keyed on less than (caller, realm, input) would give
-- one combination the answer of another.
SELECT caller, realm, n AS lim, count(*) FILTER (WHERE ecl.check('rm_policy', caller, realm,
	jsonb_build_object('limit', n))) AS passed
  FROM unnest(ARRAY['did:regress:rm-ann', 'did:regress:rm-ben']) AS caller,
	   unnest(ARRAY['rm-one', 'rm-two']) AS realm,
	   generate_series(8, 12) AS n,
	   generate_series(1, 10) AS rep
 GROUP BY caller, realm, n
 ORDER BY caller, realm, n;

-- every call is a run in the statistics, with the gas of a real run
SELECT gas_used AS gas_of_one_run
  FROM ecl.run_policy('rm_policy', 'did:regress:rm-ann', 'rm-one', '{"limit": 10}') \gset
SELECT calls AS calls_before, total_gas AS gas_before, passed AS passed_before
  FROM ecl.stat_eclvm_policies WHERE policy = 'rm_policy' AND realm_id = 'rm-one' \gset
SELECT count(*) FILTER (WHERE ecl.check('rm_policy', 'did:regress:rm-ann', 'rm-one', '{"limit": 10}')) AS passed
  FROM generate_series(1, 50);
SELECT calls - :calls_before AS calls_counted,
	   total_gas - :gas_before = 50 * :gas_of_one_run AS gas_of_50_runs,
	   passed - :passed_before AS passed_counted
  FROM ecl.stat_eclvm_policies WHERE policy = 'rm_policy' AND realm_id = 'rm-one';

-- ecl.allowed: the caller is the role's DID, memoized the same way
CREATE ROLE regress_rm_ann;
SELECT ecl.bind_role('regress_rm_ann', 'did:regress:rm-ann') IS NOT NULL AS bound;
GRANT ecl_executor TO regress_rm_ann;
SET ROLE regress_rm_ann;
SELECT count(*) FILTER (WHERE ecl.allowed('rm_policy', realm, '{"limit": 11}')) AS passed,
	   count(*) AS calls
  FROM generate_series(1, 10), unnest(ARRAY['rm-one', 'rm-two']) AS realm;
RESET ROLE;

-- a later command of the same statement sees data changed by an earlier one
CREATE FUNCTION pg_temp.check_lower_check() RETURNS boolean[]
LANGUAGE plpgsql AS $$
DECLARE
	before boolean := ecl.check('rm_policy', 'did:regress:rm-ann', 'rm-one', '{"limit": 10}');
BEGIN
	UPDATE ecl.trust SET r = 0.3 WHERE did = 'did:regress:rm-ann' AND realm_id = 'rm-one';
	RETURN ARRAY[before, ecl.check('rm_policy', 'did:regress:rm-ann', 'rm-one', '{"limit": 10}')];
END
$$;
BEGIN;
SELECT pg_temp.check_lower_check() AS before_and_after;
ROLLBACK;

-- a program that reads a metric is never memoized: the statistics move
-- with every run, so the parity of policies_executed alternates
SELECT ecl.register_policy('rm_metric',
	'policy rm_metric { return trust.r >= 0 && get_metric("policies_executed") % 2 == 0 }') IS NOT NULL AS registered;
SELECT count(*) FILTER (WHERE ecl.check('rm_metric', 'did:regress:rm-ann', 'rm-one')) AS passed,
	   count(*) AS calls
  FROM generate_series(1, 20);
SELECT ecl.drop_policy('rm_metric');

-- with ecl.rate_limit, ecl.check pays once per statement per (policy,
-- caller), so its repeats are answered from the memo as before: 20 checks
-- in one statement cost one run of mana, and only the first one runs (a
-- full run sends its log line at DEBUG1, a memo answer does not)
SELECT ecl.register_policy('rm_logged',
	'policy rm_logged { log("ran"); return trust.r >= 0.5 }') IS NOT NULL AS registered;
SELECT mana_used AS mana_of_one_run
  FROM ecl.run_policy('rm_logged', 'did:regress:rm-ben', 'rm-one') \gset
SET ecl.rate_limit = on;
SELECT ecl.rate_limit_reset('did:regress:rm-ben') >= 0 AS reset;
SELECT clock_timestamp() AS t0 \gset
SET client_min_messages = debug1;
SELECT count(*) FILTER (WHERE ecl.check('rm_logged', 'did:regress:rm-ben', 'rm-one')) AS passed,
	   count(*) AS calls
  FROM generate_series(1, 20);
RESET client_min_messages;
-- (it regenerates at 100 + 1000 r = 300 mana per second meanwhile)
SELECT max_mana - mana BETWEEN :mana_of_one_run - 300 * extract(epoch FROM clock_timestamp() - :'t0') - 1
	   AND :mana_of_one_run AS charged_one_run
  FROM ecl.rate_limit_accounts() WHERE did = 'did:regress:rm-ben';
-- ecl.run_policy still pays, and runs, per call
SELECT count(*) FILTER (WHERE (ecl.run_policy('rm_logged', 'did:regress:rm-ben', 'rm-one')).passed) AS passed
  FROM generate_series(1, 3);
SELECT max_mana - mana BETWEEN 4 * :mana_of_one_run - 300 * extract(epoch FROM clock_timestamp() - :'t0') - 1
	   AND 4 * :mana_of_one_run AS charged_four_runs
  FROM ecl.rate_limit_accounts() WHERE did = 'did:regress:rm-ben';
RESET ecl.rate_limit;
SELECT ecl.rate_limit_reset('did:regress:rm-ben') >= 0 AS reset;
SELECT ecl.drop_policy('rm_logged');

-- ------------------------------------------------------------------ clean up
SELECT ecl.drop_policy('rm_policy');
SELECT ecl.unbind_role('regress_rm_ann');
DROP ROLE regress_rm_ann;
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:rm-%';
DELETE FROM ecl.realms WHERE realm_id IN ('rm-one', 'rm-two');
