-- planner_translate — what the planner support function of ecl.check and
-- ecl.allowed does: the SQL a policy becomes (ecl.policy_sql, EXPLAIN),
-- an index for `owner == caller` under RLS, the gates (no identity, no
-- EXECUTE), statistics, and replanning when the policy changes.
\set VERBOSITY terse

SELECT ecl.register_policy('pt_own', 'policy pt_own { return owner == caller }');
SELECT ecl.register_policy('pt_amount', 'policy pt_amount { return amount * 2 + 1 > 500 && amount < 900 }');
SELECT ecl.register_policy('pt_mixed',
	'policy pt_mixed { return owner == caller || (classification != "secret" && trust.r >= 0.6) }');
SELECT ecl.register_policy('pt_log', E'policy pt_log {\n  log("x")\n  return true\n}');

-- ------------------------------------------------------------ policy_sql
SELECT ecl.policy_sql('pt_own', '{owner}');
SELECT ecl.policy_sql('pt_amount', '{amount:int}');
SELECT ecl.policy_sql('pt_mixed', '{owner,classification}');
SELECT ecl.policy_sql('pt_own');			-- owner missing: EC006 when it runs
SELECT ecl.policy_sql('pt_log');			-- stays in the VM, and says why
SELECT ecl.policy_sql('pt_amount', '{amount:numeric}');
SELECT ecl.policy_sql('pt_nonexistent');

-- ------------------------------------------------------------------ RLS
CREATE TABLE pt_docs (id int PRIMARY KEY, owner text, classification text, amount int);
INSERT INTO pt_docs
SELECT g, 'did:example:u' || (g % 500),
	   CASE WHEN g % 3 = 0 THEN 'secret' ELSE 'public' END, g % 1000
  FROM generate_series(1, 20000) g;
CREATE INDEX ON pt_docs (owner);
ANALYZE pt_docs;
ALTER TABLE pt_docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY pt_docs_own ON pt_docs FOR SELECT
	USING (ecl.allowed('pt_own', NULL, jsonb_build_object('owner', owner)));
CREATE ROLE regress_pt_user;
CREATE ROLE regress_pt_nobody;
INSERT INTO ecl.identities (did) VALUES ('did:example:u7');
INSERT INTO ecl.trust (did, realm_id, r) VALUES ('did:example:u7', '', 0.7);
SELECT ecl.bind_role('regress_pt_user', 'did:example:u7');
GRANT SELECT ON pt_docs TO regress_pt_user, regress_pt_nobody;

SET ROLE regress_pt_user;
EXPLAIN (COSTS OFF) SELECT id FROM pt_docs;
SELECT count(*), min(owner), max(owner) FROM pt_docs;
RESET ROLE;
-- no identity, no access: the translated form says so too
SET ROLE regress_pt_nobody;
SELECT count(*) FROM pt_docs;
RESET ROLE;

-- R2's shape: trust read once (an InitPlan), the rest per row
SET ROLE regress_pt_user;
SELECT count(*) FROM pt_docs WHERE ecl.allowed('pt_mixed', NULL,
	jsonb_build_object('owner', owner, 'classification', classification));
RESET ROLE;
-- the same answers from the VM
SET ecl.translate = off;
SET ROLE regress_pt_user;
SELECT count(*), min(owner), max(owner) FROM pt_docs;
SELECT count(*) FROM pt_docs WHERE ecl.allowed('pt_mixed', NULL,
	jsonb_build_object('owner', owner, 'classification', classification));
RESET ROLE;
SET ROLE regress_pt_nobody;
SELECT count(*) FROM pt_docs;
RESET ROLE;
RESET ecl.translate;

-- ------------------------------------------------- statistics stay true
-- a translated evaluation is not a VM run: the policy's calls do not move
SELECT ecl.stat_reset();
SET ROLE regress_pt_user;
SELECT count(*) FROM pt_docs;
RESET ROLE;
SELECT coalesce(sum(calls), 0) AS vm_runs FROM ecl.stat_eclvm_policies WHERE policy = 'pt_own';
SET ecl.translate = off;
SET ROLE regress_pt_user;
SELECT count(*) FROM pt_docs;
RESET ROLE;
RESET ecl.translate;
SELECT sum(calls) > 0 AS vm_runs_counted FROM ecl.stat_eclvm_policies WHERE policy = 'pt_own';

-- --------------------------------------------------------------- gates
-- ecl.check needs EXECUTE, translated or not
SET ROLE regress_pt_nobody;
SELECT count(*) FROM pt_docs p0 WHERE ecl.check('pt_own', 'did:example:u7', NULL,
	jsonb_build_object('owner', 'did:example:u7'));
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- errors: same SQLSTATE as the VM, only for rows that reach them
SELECT ecl.check('pt_amount', 'x', NULL, jsonb_build_object('amount', NULL::int));
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.check('pt_amount', 'x', NULL, jsonb_build_object('other', 1));
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM pt_docs WHERE ecl.check('pt_amount', 'x', NULL, jsonb_build_object('amount', amount));

-- --------------------------------------------------- replanning
PREPARE pt_count AS
	SELECT count(*) FROM pt_docs WHERE ecl.check('pt_amount', 'x', NULL, jsonb_build_object('amount', amount));
-- generic plans, so that a cached plan is what runs
SET plan_cache_mode = force_generic_plan;
EXECUTE pt_count;
EXECUTE pt_count;
SELECT ecl.register_policy('pt_amount', 'policy pt_amount { return amount < 10 }');
EXECUTE pt_count;
SELECT ecl.drop_policy('pt_amount');
EXECUTE pt_count;
\echo :LAST_ERROR_SQLSTATE

CREATE FUNCTION pt_count_fn() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
	SELECT count(*) INTO n FROM pt_docs
	 WHERE ecl.check('pt_fn', 'x', NULL, jsonb_build_object('amount', amount));
	RETURN n;
END $$;
SELECT ecl.register_policy('pt_fn', 'policy pt_fn { return amount > 990 }');
SELECT pt_count_fn();
SELECT pt_count_fn();
SELECT ecl.register_policy('pt_fn', 'policy pt_fn { return amount > 995 }');
SELECT pt_count_fn();
-- a setting the translation reads replans too
SET ecl.gas_limit = 3;
SELECT pt_count_fn();
\echo :LAST_ERROR_SQLSTATE
RESET ecl.gas_limit;
SELECT pt_count_fn();
RESET plan_cache_mode;
DEALLOCATE pt_count;

DROP FUNCTION pt_count_fn();
DROP TABLE pt_docs;
SELECT ecl.unbind_role('regress_pt_user');
DROP ROLE regress_pt_user;
DROP ROLE regress_pt_nobody;
DELETE FROM ecl.trust WHERE did = 'did:example:u7';
DELETE FROM ecl.identities WHERE did = 'did:example:u7';
SELECT ecl.drop_policy(p) FROM unnest(ARRAY['pt_own', 'pt_mixed', 'pt_log', 'pt_fn']) p;
