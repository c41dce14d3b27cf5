-- planner_caller_sets — ecl.check whose caller comes from the row, over a
-- constant realm, for policies that read only facts of the caller: past the
-- first rows the translation probes the set of callers the policy admits
-- (computed once, by ecl.policy_callers) instead of looking facts up per
-- row.  Every row's answer must be the VM's, whichever way it was reached:
-- the set, the per-row lookups of the first rows, the VM reading whole
-- answer sets at once (many callers in one statement) and the VM probing
-- one caller per statement.
\set VERBOSITY terse
SELECT setseed(0.42);

-- 300 callers with every fact the host tells apart, and callers without any
INSERT INTO ecl.realms (realm_id) VALUES ('cs1');
CREATE FUNCTION cs_did(i int) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT 'did:key:cs' || lpad(i::text, 3, '0') $$;
INSERT INTO ecl.identities (did, revoked)
	SELECT cs_did(i), i % 17 = 0 FROM generate_series(1, 300) i;
INSERT INTO ecl.trust (did, realm_id, r, i, c, omega)
	SELECT cs_did(i), '', ((i * 37) % 100) / 100.0, ((i * 11) % 100) / 100.0,
		   ((i * 7) % 10) / 10.0, (i % 2) / 2.0
	  FROM generate_series(1, 300) i WHERE i % 3 <> 0;
INSERT INTO ecl.trust (did, realm_id, r, i, c, omega)
	SELECT cs_did(i), 'cs1', ((i * 53) % 100) / 100.0, ((i * 29) % 100) / 100.0,
		   ((i * 3) % 10) / 10.0, 0
	  FROM generate_series(1, 300) i WHERE i % 5 = 0;
-- kyc: valid, expired, revoked, badly signed (the issuer exists, the
-- signature is not its own); aml for every sixth
INSERT INTO ecl.credentials (subject_did, schema, issuer_did, expires_at, revoked_at, signature)
	SELECT cs_did(i), 'kyc',
		   CASE WHEN i % 13 = 0 THEN cs_did(1) END,
		   CASE WHEN i % 7 = 0 THEN now() - interval '1 day' END,
		   CASE WHEN i % 11 = 0 THEN now() - interval '1 hour' END,
		   CASE WHEN i % 13 = 0 THEN decode(repeat('ab', 64), 'hex') END
	  FROM generate_series(1, 300) i WHERE i % 4 <> 0;
INSERT INTO ecl.credentials (subject_did, schema)
	SELECT cs_did(i), 'aml' FROM generate_series(1, 300) i WHERE i % 6 = 0;

CREATE TABLE cs_rows (id int PRIMARY KEY, caller text);
INSERT INTO cs_rows
SELECT g, CASE WHEN g % 23 = 0 THEN NULL
			   WHEN g % 19 = 0 THEN (ARRAY['', 'x', 'did:key:nobody'])[1 + g % 3]
			   ELSE cs_did(1 + (g * 7) % 300) END
  FROM generate_series(1, 1500) g;
ANALYZE cs_rows;

-- policies: a few written out, the rest generated from facts, constants,
-- comparisons, !, &&, || and ?: (nothing else of the call is read)
CREATE TABLE cs_policies (name text PRIMARY KEY, source text);
CREATE FUNCTION pg_temp.compiles(name text, source text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM ecl.compile(format(E'policy %s {\n%s\n}', name, source));
	RETURN true;
EXCEPTION WHEN OTHERS THEN
	RETURN false;
END $$;
INSERT INTO cs_policies VALUES
	('cs_b1', 'trust.r >= 0.5 && has_credential(caller, "kyc")'),
	('cs_none', '!has_credential(caller, "kyc")'),
	('cs_low', 'trust.r < 0.3'),
	('cs_either', 'trust.i > 0.2 || has_credential(caller, "aml")'),
	('cs_both', 'has_credential(caller, "kyc") && has_credential(caller, "aml") && trust.omega != 0'),
	('cs_ternary', 'trust.r > 0.5 ? has_credential(caller, "kyc") : trust.c >= 0.1'),
	('cs_realm', 'realm == "cs1" && trust.r > 0.4');

CREATE FUNCTION cs_expr(depth int) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	k float8 := random();
	facts text[] := ARRAY['trust.r', 'trust.i', 'trust.c', 'trust.omega'];
	consts text[] := ARRAY['0', '0.3', '0.5', '0.9', '1'];
	ops text[] := ARRAY['<', '<=', '>', '>=', '==', '!='];
BEGIN
	IF depth <= 0 OR k < 0.35 THEN
		IF random() < 0.12 THEN
			RETURN (ARRAY['caller == null', 'caller != null', 'realm == "cs1"', 'realm != ""',
						  'true', 'false', '1', '0', 'null', 'trust.r > "a"', '"x"'])[1 + floor(random() * 11)::int];
		END IF;
		IF random() < 0.4 THEN
			RETURN format('has_credential(caller, "%s")',
						  (ARRAY['kyc', 'aml', 'none'])[1 + floor(random() * 3)::int]);
		END IF;
		RETURN facts[1 + floor(random() * 4)::int] || ' ' || ops[1 + floor(random() * 6)::int]
			|| ' ' || consts[1 + floor(random() * 5)::int];
	ELSIF k < 0.5 THEN
		RETURN '!(' || cs_expr(depth - 1) || ')';
	ELSIF k < 0.9 THEN
		RETURN '(' || cs_expr(depth - 1) || (ARRAY[' && ', ' || '])[1 + floor(random() * 2)::int]
			|| cs_expr(depth - 1) || ')';
	ELSE
		RETURN '(' || cs_expr(depth - 1) || ' ? ' || cs_expr(depth - 1) || ' : '
			|| cs_expr(depth - 1) || ')';
	END IF;
END $$;
-- and bodies with statements: let, require (with and without a message),
-- if/else, falling off the end
CREATE FUNCTION cs_body() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	body text := 'let v = ' || cs_expr(2) || E'\n';
BEGIN
	FOR j IN 1..(1 + floor(random() * 3)::int) LOOP
		body := body || (ARRAY[
			'require ' || cs_expr(2),
			'require ' || cs_expr(2) || ', "no"',
			'if ' || cs_expr(1) || ' { return ' || cs_expr(2) || ' }',
			'if ' || cs_expr(1) || ' { require v } else { return ' || cs_expr(1) || ' }'
		])[1 + floor(random() * 4)::int] || E'\n';
	END LOOP;
	IF random() < 0.7 THEN
		body := body || 'return ' || cs_expr(2) || E'\n';
	END IF;
	RETURN body;
END $$;
INSERT INTO cs_policies SELECT 'cs_g' || g, 'return ' || cs_expr(3) FROM generate_series(1, 40) g;
INSERT INTO cs_policies SELECT 'cs_s' || g, cs_body() FROM generate_series(1, 40) g;
UPDATE cs_policies SET source = 'return ' || source WHERE name NOT LIKE 'cs_g%' AND name NOT LIKE 'cs_s%';
DELETE FROM cs_policies p WHERE NOT pg_temp.compiles(p.name, p.source);
SELECT count(ecl.register_policy(name, format(E'policy %s {\n%s\n}', name, source)))
	   >= 80 AS registered
  FROM cs_policies;

-- how each policy is planned: with the set of callers, or not at all
CREATE FUNCTION cs_plan(policy text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	line text;
	plan text := '';
BEGIN
	FOR line IN EXECUTE format('EXPLAIN (VERBOSE, COSTS OFF) SELECT ecl.check(%L, caller, %L) FROM cs_rows',
							   policy, 'cs1')
	LOOP
		plan := plan || line || E'\n';
	END LOOP;
	RETURN CASE WHEN plan LIKE '%ecl.policy_in_set(%' AND plan LIKE '%ecl.policy_callers(%'
				THEN 'set'
				WHEN plan LIKE '%ecl.check(%' THEN 'vm'
				ELSE 'per row' END;
END $$;
SELECT cs_plan('cs_b1') AS b1, cs_plan('cs_none') AS negated, cs_plan('cs_realm') AS realm;
SELECT count(*) FILTER (WHERE cs_plan(name) = 'set') >= 0.6 * count(*) AS mostly_sets,
	   count(*) FILTER (WHERE cs_plan(name) <> 'set') > 0 AS some_not
  FROM cs_policies;

-- whole statements: translated (the set past row 64), and the VM (which
-- reads whole answer sets once it has missed 128 callers)
-- (a statement that raises is one row: id 0, the SQLSTATE)
CREATE FUNCTION cs_statement(policy text, realm text, translate bool)
RETURNS TABLE(id int, outcome text) LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('ecl.translate', translate::text, true);
	BEGIN
		RETURN QUERY EXECUTE format('SELECT id, ecl.check(%L, caller, %L)::text FROM cs_rows',
									policy, realm);
	EXCEPTION WHEN OTHERS THEN
		id := 0;
		outcome := SQLSTATE;
		RETURN NEXT;
	END;
END $$;
-- one caller per statement: the VM's lookups by key
CREATE FUNCTION cs_single(policy text, realm text, row_id int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r boolean;
BEGIN
	PERFORM set_config('ecl.translate', 'off', true);
	EXECUTE format('SELECT ecl.check(%L, caller, %L) FROM cs_rows WHERE id = $1', policy, realm)
		INTO r USING row_id;
	RETURN r::text;
END $$;

CREATE TABLE cs_results AS
SELECT p.name, realm, coalesce(t.id, v.id) AS id, t.outcome AS translated, v.outcome AS vm
  FROM cs_policies p
 CROSS JOIN (VALUES ('cs1'), ('')) AS realms(realm)
 CROSS JOIN LATERAL (
	SELECT * FROM cs_statement(p.name, realm, true) t
	  FULL JOIN cs_statement(p.name, realm, false) v USING (id)) AS j(id, t_outcome, v_outcome)
 CROSS JOIN LATERAL (SELECT j.id, j.t_outcome) AS t(id, outcome)
 CROSS JOIN LATERAL (SELECT j.id, j.v_outcome) AS v(id, outcome);

SELECT count(*) >= 200000 AS many_cases,
	   count(*) FILTER (WHERE vm = 'true') > 10000 AS some_pass,
	   count(*) FILTER (WHERE vm = 'false') > 10000 AS some_deny,
	   count(*) FILTER (WHERE id = 0) > 0 AS some_statements_raise
  FROM cs_results;
-- the point: no row where the two differ
SELECT name, realm, id, translated, vm FROM cs_results
 WHERE translated IS DISTINCT FROM vm ORDER BY 1, 2, 3 LIMIT 10;

-- and the VM by key agrees with the VM over the whole table
SELECT r.name, r.id, r.vm, cs_single(r.name, r.realm, r.id) AS single
  FROM cs_results r
 WHERE r.name IN ('cs_b1', 'cs_none', 'cs_either', 'cs_ternary') AND r.realm = 'cs1' AND r.id > 0
   AND r.vm IS DISTINCT FROM cs_single(r.name, r.realm, r.id)
 LIMIT 10;

-- in parallel workers too (the per-row lookups of the first rows, the set
-- handed over by the leader)
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT count(*) AS differs_in_parallel FROM (
	SELECT id, ecl.check('cs_b1', caller, 'cs1') AS a FROM cs_rows) t
  JOIN cs_results r ON r.name = 'cs_b1' AND r.realm = 'cs1' AND r.id = t.id
 WHERE t.a::text IS DISTINCT FROM r.vm;
-- a policy that also reads the row's input stays per row: every row's
-- lookups then run in the workers (whole answer sets included)
SELECT ecl.register_policy('cs_input',
	'policy cs_input { return trust.r > 0.3 && has_credential(caller, "kyc") && input.n % 3 != 0 }')
	IS NOT NULL AS registered;
SELECT cs_plan('cs_input') AS input_policy;
-- the rows' lookups really ran in a worker
CREATE FUNCTION cs_in_worker(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	line text;
	launched boolean := false;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		launched := launched OR line ~ 'Workers Launched: [1-9]';
	END LOOP;
	RETURN launched;
END $$;
SELECT cs_in_worker($$SELECT ecl.check('cs_input', caller, 'cs1', jsonb_build_object('n', id)) FROM cs_rows$$)
	   AS per_row_in_worker,
	   cs_in_worker($$SELECT ecl.check('cs_b1', caller, 'cs1') FROM cs_rows$$) AS set_in_worker;
CREATE TABLE cs_parallel AS
	SELECT id, ecl.check('cs_input', caller, 'cs1', jsonb_build_object('n', id))::text AS a
	  FROM cs_rows;
RESET force_parallel_mode;
SET ecl.translate = off;
SELECT count(*) AS differs_from_vm FROM cs_parallel p JOIN cs_rows r USING (id)
 WHERE p.a IS DISTINCT FROM ecl.check('cs_input', r.caller, 'cs1', jsonb_build_object('n', r.id))::text;
SELECT count(*) FILTER (WHERE a = 'true') > 100 AS some_pass FROM cs_parallel;
RESET ecl.translate;
SELECT ecl.drop_policy('cs_input');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- a cached plan with the set sees a re-registration and a drop
PREPARE cs_count AS SELECT count(*) FROM cs_rows WHERE ecl.check('cs_low', caller, 'cs1');
SET plan_cache_mode = force_generic_plan;
SELECT count(*) AS expected_low FROM cs_results
 WHERE name = 'cs_low' AND realm = 'cs1' AND vm = 'true';
EXECUTE cs_count;
EXECUTE cs_count;
SELECT ecl.register_policy('cs_low', 'policy cs_low { return trust.r >= 0.3 }') IS NOT NULL AS replaced;
SELECT count(*) AS expected_not_low FROM cs_results
 WHERE name = 'cs_low' AND realm = 'cs1' AND vm = 'false' AND id IN (SELECT id FROM cs_rows WHERE caller IS NOT NULL);
EXECUTE cs_count;
SELECT ecl.drop_policy('cs_low');
EXECUTE cs_count;
RESET plan_cache_mode;
DEALLOCATE cs_count;

-- the set is the plan's own: called by hand it is refused
SELECT * FROM ecl.policy_callers('cs1', true, '{kyc}');
SELECT ecl.policy_in_set('b', '{a,b}') AS in_set, ecl.policy_in_set('c', '{a,b}') AS not_in_set;

DO $$ DECLARE n text; BEGIN
	FOR n IN SELECT name FROM cs_policies LOOP PERFORM ecl.drop_policy(n); END LOOP;
END $$;
DROP TABLE cs_results, cs_policies, cs_rows, cs_parallel;
DROP FUNCTION cs_statement(text, text, bool), cs_single(text, text, int), cs_plan(text),
	cs_expr(int), cs_body(), cs_in_worker(text);
DELETE FROM ecl.credentials WHERE subject_did LIKE 'did:key:cs%';
DELETE FROM ecl.trust WHERE did LIKE 'did:key:cs%';
DELETE FROM ecl.identities WHERE did LIKE 'did:key:cs%';
DELETE FROM ecl.realms WHERE realm_id = 'cs1';
DROP FUNCTION cs_did(int);
