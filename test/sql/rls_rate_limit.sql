--
-- Rate limiting under row-level security: with ecl.rate_limit on, ecl.allowed
-- and ecl.check pay once per statement per (policy, caller) — the mana of
-- the statement's costliest such run — not once per row, so an RLS scan of
-- 100,000 rows does not drain the caller's account; ecl.run_policy still
-- pays per call until the account refuses with EC003.
--
\set VERBOSITY terse

INSERT INTO ecl.identities (did) VALUES ('did:regress:rl-carol'), ('did:regress:rl-dave');
INSERT INTO ecl.realms (realm_id) VALUES ('rl-realm');
-- reliability 0: an account of 10000 mana that regenerates 100 per second
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:rl-carol', 'rl-realm', 0, 0, 0, 0, 0, 0),
	('did:regress:rl-dave', 'rl-realm', 0, 0, 0, 0, 0, 0);

-- a read policy whose every run costs the same mana (trust, then 28 host
-- calls), more than 1000: per-row charging would drain the account within
-- ten rows
SELECT ecl.register_policy('rl_read', $$
policy rl_read {
	let held = 0
	for s in ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10",
	          "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20",
	          "s21", "s22", "s23", "s24", "s25", "s26", "s27", "s28"] {
		if has_credential(caller, s) { held = held + 1 }
	}
	return level <= 1 + trust.r + held
}
$$, 'custom', 'rl-realm') IS NOT NULL AS registered;
SELECT mana_used AS cost
  FROM ecl.run_policy('rl_read', 'did:regress:rl-carol', 'rl-realm', '{"level": 0}') \gset
SELECT :cost > 1000 AS costs_over_1000;

-- 100,000 rows behind an RLS policy that calls ecl.allowed
CREATE TABLE rl_docs (id int PRIMARY KEY, level int NOT NULL);
INSERT INTO rl_docs SELECT g, g % 4 FROM generate_series(1, 100000) g;
ALTER TABLE rl_docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY rl_docs_read ON rl_docs FOR SELECT
	USING (ecl.allowed('rl_read', 'rl-realm', jsonb_build_object('level', level)));
CREATE POLICY rl_docs_update ON rl_docs FOR UPDATE
	USING (ecl.allowed('rl_read', 'rl-realm', jsonb_build_object('level', level)));
CREATE ROLE regress_rl_carol;
SELECT ecl.bind_role('regress_rl_carol', 'did:regress:rl-carol');
GRANT SELECT, UPDATE ON rl_docs TO regress_rl_carol;

SET ecl.rate_limit = on;
SELECT ecl.rate_limit_reset('did:regress:rl-carol') >= 0 AS reset;
SELECT ecl.stat_reset();
SELECT clock_timestamp() AS t0 \gset
SET ROLE regress_rl_carol;
-- five statements of 100,000 policy runs each (or more: an UPDATE checks
-- both policies, and writes as it goes): every one succeeds
SELECT count(*) AS visible FROM rl_docs;
SELECT count(*) AS visible FROM rl_docs;
SELECT count(*) AS visible FROM rl_docs;
WITH u AS (UPDATE rl_docs SET level = level WHERE id % 100 = 0 RETURNING id)
SELECT count(*) AS updated FROM u;
SELECT count(*) AS visible FROM rl_docs;
RESET ROLE;
-- Each of the five statements paid one run's mana.  The account regenerated
-- at most 100 mana per second since t0, and less than one run's mana in
-- the time these statements took, so the number of runs paid is exactly
-- the ceiling of what is missing over the cost of one.
SELECT ceil((max_mana - mana) / :cost) AS runs_paid,
	   (max_mana - mana) BETWEEN 5 * :cost - 100 * extract(epoch FROM clock_timestamp() - :'t0') - 1
	                         AND 5 * :cost AS five_runs_of_mana
  FROM ecl.rate_limit_accounts() WHERE did = 'did:regress:rl-carol';
-- yet every row was a run in the statistics, and none was refused
SELECT calls, passed, denied, errors
  FROM ecl.stat_eclvm_policies WHERE policy = 'rl_read';
SELECT mana_rate_limited FROM ecl.stat_eclvm;

-- ecl.run_policy pays per call, even many calls in one statement, until the
-- account refuses with EC003 and says when to retry
CREATE FUNCTION pg_temp.drain(caller text, cost bigint) RETURNS TABLE
	(first_call_paid_one_run boolean, paid_calls int, refused_with text, says_retry_after boolean)
LANGUAGE plpgsql AS $$
DECLARE
	b0 float8;
	b1 float8;
	t timestamptz;
BEGIN
	paid_calls := 0;
	SELECT a.mana INTO b0 FROM ecl.rate_limit_accounts() a WHERE a.did = caller;
	t := clock_timestamp();
	PERFORM ecl.run_policy('rl_read', caller, 'rl-realm', '{"level": 0}');
	SELECT a.mana INTO b1 FROM ecl.rate_limit_accounts() a WHERE a.did = caller;
	first_call_paid_one_run := b0 - b1 BETWEEN cost - 100 * extract(epoch FROM clock_timestamp() - t) - 1 AND cost;
	paid_calls := 1;
	LOOP
		PERFORM ecl.run_policy('rl_read', caller, 'rl-realm', '{"level": 0}');
		paid_calls := paid_calls + 1;
		EXIT WHEN paid_calls > 20;
	END LOOP;
	RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
	refused_with := SQLSTATE;
	says_retry_after := SQLERRM ~ 'retry after [0-9.]+ seconds';
	RETURN NEXT;
END
$$;
-- the account holds 10000 - 5 runs and what regenerated since: 1 or 2
-- more calls are paid before the refusal
SELECT first_call_paid_one_run, paid_calls BETWEEN 1 AND 2 AS paid_until_empty, refused_with, says_retry_after
  FROM pg_temp.drain('did:regress:rl-carol', :cost);
-- and the refusal is counted
SELECT mana_rate_limited FROM ecl.stat_eclvm;

-- ecl.check pays the statement's costliest run, not the first, nor the sum:
-- runs needing 1, 3 and 2 credential lookups in this order
SELECT ecl.register_policy('rl_many', $$
policy rl_many {
	for s in schemas { let held = has_credential(caller, s) }
	return true
}
$$, 'custom', 'rl-realm') IS NOT NULL AS registered;
SELECT mana_used AS m3 FROM ecl.run_policy('rl_many', 'did:regress:rl-dave', 'rl-realm', '{"schemas": ["a", "b", "c"]}') \gset
SELECT ecl.rate_limit_reset('did:regress:rl-dave') >= 0 AS reset;
SELECT clock_timestamp() AS t1 \gset
SELECT bool_and(ecl.check('rl_many', 'did:regress:rl-dave', 'rl-realm', jsonb_build_object('schemas', s))) AS passed
  FROM (VALUES (1, '["a"]'::jsonb), (2, '["a", "b", "c"]'), (3, '["a", "b"]')) AS v(n, s);
SELECT (max_mana - mana) BETWEEN :m3 - 100 * extract(epoch FROM clock_timestamp() - :'t1') - 1 AND :m3
	   AS paid_the_costliest_run
  FROM ecl.rate_limit_accounts() WHERE did = 'did:regress:rl-dave';
RESET ecl.rate_limit;

-- ------------------------------------------------------------------ clean up
SELECT ecl.rate_limit_reset('did:regress:rl-carol') + ecl.rate_limit_reset('did:regress:rl-dave') >= 0 AS reset;
DROP TABLE rl_docs;
SELECT ecl.unbind_role('regress_rl_carol');
DROP ROLE regress_rl_carol;
SELECT ecl.drop_policy('rl_read'), ecl.drop_policy('rl_many');
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:rl-%';
DELETE FROM ecl.realms WHERE realm_id = 'rl-realm';
