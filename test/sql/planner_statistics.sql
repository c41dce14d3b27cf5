-- planner_statistics — a translated evaluation is not a VM run: the
-- statistics count it per statement execution (translated_executions in
-- ecl.stat_eclvm_policies) and count nothing as a run that did not happen.
\set VERBOSITY terse
CREATE TABLE ps_rows (id int PRIMARY KEY, amount int, owner text);
INSERT INTO ps_rows SELECT g, (g * 5) % 1000, 'did:key:ps' || (g % 10) FROM generate_series(1, 200) g;
SELECT ecl.register_policy('ps_amount', 'policy ps_amount { return amount * 2 + 1 > 500 && amount < 900 }');
SELECT ecl.register_policy('ps_realm', 'policy ps_realm { return amount > 100 }', 'custom', NULL);

CREATE FUNCTION ps_stat(p text, OUT calls bigint, OUT translated bigint, OUT realm text)
RETURNS SETOF record LANGUAGE sql AS $$
	SELECT calls, translated_executions, realm_id FROM ecl.stat_eclvm_policies
	 WHERE datname = current_database() AND policy = p ORDER BY realm_id NULLS FIRST $$;
CREATE FUNCTION ps_runs() RETURNS bigint LANGUAGE sql AS $$
	SELECT policies_executed FROM ecl.stat_eclvm WHERE datname = current_database() $$;
CREATE TEMP TABLE ps_before AS SELECT ps_runs() AS runs;

-- translated: three executions of a statement over 200 rows
SELECT count(*) FROM ps_rows WHERE ecl.check('ps_amount', NULL, NULL, jsonb_build_object('amount', amount));
SELECT count(*) FROM ps_rows WHERE ecl.check('ps_amount', NULL, NULL, jsonb_build_object('amount', amount));
PREPARE ps_q AS SELECT count(*) FROM ps_rows WHERE ecl.check('ps_amount', NULL, NULL, jsonb_build_object('amount', amount));
EXECUTE ps_q;
SELECT * FROM ps_stat('ps_amount');
-- no VM run was counted anywhere
SELECT ps_runs() - runs AS vm_runs_counted FROM ps_before;

-- in the VM: 200 runs, translated_executions unchanged
SET ecl.translate = off;
SELECT count(*) FROM ps_rows WHERE ecl.check('ps_amount', NULL, NULL, jsonb_build_object('amount', amount));
RESET ecl.translate;
SELECT * FROM ps_stat('ps_amount');
SELECT ps_runs() - runs AS vm_runs_counted FROM ps_before;

-- the realm: a constant one is the row's realm, as for runs
SELECT count(*) FROM ps_rows WHERE ecl.check('ps_realm', NULL, 'r9', jsonb_build_object('amount', amount));
SELECT count(*) FROM ps_rows WHERE ecl.check('ps_realm', NULL, NULL, jsonb_build_object('amount', amount));
SELECT * FROM ps_stat('ps_realm');

-- ecl.allowed with ecl.allow_anonymous and a policy that never reads the
-- caller: still gated (EXECUTE) and counted
SET ecl.allow_anonymous = on;
SELECT count(*) FROM ps_rows WHERE ecl.allowed('ps_amount', NULL, jsonb_build_object('amount', amount));
RESET ecl.allow_anonymous;
SELECT * FROM ps_stat('ps_amount');

DEALLOCATE ps_q;
SELECT ecl.drop_policy('ps_amount'), ecl.drop_policy('ps_realm');
DROP TABLE ps_rows;
DROP FUNCTION ps_stat(text), ps_runs();
