-- planner_fallback — a call that stays in the VM is rewritten to hand the
-- field values of jsonb_build_object(...) to the VM directly, and gives the
-- same answers, errors (SQLSTATE) and statistics as the jsonb it replaces.
--
-- Each policy x row is evaluated twice with ecl.translate off: once as
-- written (the planner rewrites it to ecl.policy_check_fields) and once
-- with the jsonb built in a sub-select the planner cannot see through (the
-- jsonb path); the outcomes are compared.  Rows cover every SQL type the
-- rewrite accepts, with NULLs, zero, -0, NaN, infinities, int8 above 2^53,
-- numerics beyond the double range, empty strings.
\set VERBOSITY terse
SET extra_float_digits = 1;

CREATE TABLE pf_rows (
	id		int PRIMARY KEY,
	i2		smallint,
	i4		int,
	i8		bigint,
	b		boolean,
	s		text,
	v		varchar,
	n		numeric,
	d		float8,
	caller	text
);
INSERT INTO pf_rows
SELECT g,
	   (ARRAY[NULL, 0, 1, -3, 32767]::smallint[])[1 + g % 5],
	   (ARRAY[NULL, 0, 1, -3, 500, 2147483647])[1 + g % 6],
	   (ARRAY[NULL, 0, 9007199254740993, -1, 9223372036854775807])[1 + (g / 2) % 5],
	   (ARRAY[NULL, true, false])[1 + (g / 3) % 3],
	   (ARRAY[NULL, '', 'x', 'did:key:u1', 'héllo'])[1 + g % 5],
	   (ARRAY[NULL, '', 'y', 'x'])[1 + (g / 4) % 4],
	   (ARRAY[NULL, 0, 0.1, -2.50, 'NaN', 'Infinity', '-Infinity', 1e400,
			  123456789012345678901234567890.123, 1e-400])[1 + g % 10],
	   (ARRAY[NULL, 0, '-0', 0.1, 1e300, 'NaN', 'Infinity', '-Infinity',
			  5e-324, 0.30000000000000004])[1 + (g / 3) % 10],
	   (ARRAY[NULL, 'did:key:u1', 'did:key:u2', 'x'])[1 + (g / 5) % 4]
  FROM generate_series(1, 60) g;

INSERT INTO ecl.identities (did) VALUES ('did:key:u1');
INSERT INTO ecl.trust (did, realm_id, r) VALUES ('did:key:u1', '', 0.7);

CREATE TABLE pf_policies (name text PRIMARY KEY, source text);
INSERT INTO pf_policies VALUES
 ('pf_num', 'policy pf_num { return i2 + i4 + i8 > 0 }'),
 ('pf_num2', 'policy pf_num2 { return n * 2 >= d }'),
 ('pf_eq', 'policy pf_eq { return n == d || i8 == 9007199254740992 || d == 0.30000000000000004 }'),
 ('pf_str', 'policy pf_str { return s + v == "xy" || str_len(s) > 2 }'),
 ('pf_nan', 'policy pf_nan { return n == "NaN" || d == "Infinity" || d == "-Infinity" }'),
 ('pf_div', 'policy pf_div { return 1 / d > 0 }'),
 ('pf_bool', 'policy pf_bool { require b, "no b"
	return !b || s == null }'),
 ('pf_opt', 'policy pf_opt { return input.missing == null && input.b == b }'),
 ('pf_missing', 'policy pf_missing { return missing }'),
 ('pf_whole', 'policy pf_whole { let o = input
	return o == {"i2": i2, "i4": i4, "i8": i8, "b": b, "s": s, "v": v, "n": n, "d": d} }'),
 ('pf_host', 'policy pf_host { return trust.r >= 0.5 && (s == "x" || i4 > 0) }'),
 ('pf_decl', 'policy pf_decl(i4: number, s?: string, i2?: number, i8?: number, b?: bool,
	v?: string, n?: number, d?: number, unused?: any) { return i4 > 0 }'),
 ('pf_loop', 'policy pf_loop { let t = 0
	for x in [1, 2, 3] { t = t + x }
	return t + i4 > 6 }');
SELECT count(*) AS registered FROM pf_policies, LATERAL ecl.register_policy(name, source);

SET ecl.translate = off;

-- the calls are rewritten: no jsonb_build_object left in the plan
EXPLAIN (VERBOSE, COSTS OFF)
SELECT ecl.check('pf_num', p.caller, NULL,
				 jsonb_build_object('i2', p.i2, 'i4', p.i4, 'x', 'lit', 'i4', p.i8))
  FROM pf_rows p;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT ecl.allowed('pf_num', NULL, jsonb_build_object('d', p.d, 'n', p.n)) FROM pf_rows p;
-- a type it does not convert exactly keeps its jsonb
EXPLAIN (VERBOSE, COSTS OFF)
SELECT ecl.check('pf_num', p.caller, NULL, jsonb_build_object('r', p.d::real)) FROM pf_rows p;

-- One outcome: 'true', 'false' or the SQLSTATE; fallback or the jsonb path
CREATE FUNCTION pf_outcome(policy text, row_id int, fallback bool) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r boolean;
	build text := $b$jsonb_build_object('i2', p.i2, 'i4', p.i4, 'i8', p.i8, 'b', p.b,
		's', p.s, 'v', p.v, 'n', p.n, 'd', p.d, 'unused', p.s, 'b', p.b)$b$;
BEGIN
	IF fallback THEN
		EXECUTE format('SELECT ecl.check(%L, p.caller, NULL, %s) FROM pf_rows p WHERE p.id = $1',
					   policy, build)
			INTO r USING row_id;
	ELSE
		EXECUTE format('SELECT ecl.check(%L, q.caller, NULL, q.j) FROM (SELECT p.caller, %s AS j FROM pf_rows p WHERE p.id = $1 OFFSET 0) q',
					   policy, build)
			INTO r USING row_id;
	END IF;
	RETURN r::text;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;

CREATE TABLE pf_results AS
SELECT p.name, r.id,
	   pf_outcome(p.name, r.id, true) AS fallback_outcome,
	   pf_outcome(p.name, r.id, false) AS jsonb_outcome
  FROM pf_policies p CROSS JOIN pf_rows r;

SELECT count(*) AS cases,
	   count(*) FILTER (WHERE jsonb_outcome = 'true') > 50 AS some_pass,
	   count(*) FILTER (WHERE jsonb_outcome = 'false') > 50 AS some_deny,
	   count(*) FILTER (WHERE jsonb_outcome = 'EC006') > 20 AS some_type_errors,
	   count(*) FILTER (WHERE jsonb_outcome = '22003') > 0 AS some_out_of_range,
	   count(*) FILTER (WHERE jsonb_outcome = '22012') > 0 AS some_division_by_zero
  FROM pf_results;

-- the point: no row where the two differ
SELECT name, id, fallback_outcome, jsonb_outcome
  FROM pf_results
 WHERE fallback_outcome IS DISTINCT FROM jsonb_outcome
 ORDER BY name, id
 LIMIT 10;

-- extra_float_digits changes how a float8 reaches jsonb: both paths agree
SET extra_float_digits = -5;
SELECT r.id, pf_outcome('pf_eq', r.id, true) AS fallback_outcome,
	   pf_outcome('pf_eq', r.id, false) AS jsonb_outcome
  FROM pf_rows r
 WHERE pf_outcome('pf_eq', r.id, true) IS DISTINCT FROM pf_outcome('pf_eq', r.id, false);
-- and the setting is seen: rounded to 10 digits, 0.30000000000000004 is 0.3
SELECT count(*) > 0 AS rounding_changes_answers
  FROM pf_results r
 WHERE r.name = 'pf_eq' AND r.jsonb_outcome IS DISTINCT FROM pf_outcome('pf_eq', r.id, true);
RESET extra_float_digits;
SET extra_float_digits = 1;

-- statistics: the same runs, passes, denials and errors on both paths
CREATE FUNCTION pf_stats(policy text) RETURNS TABLE (calls bigint, passed bigint, denied bigint, errors bigint, gas bigint)
LANGUAGE sql AS $$
	SELECT calls, passed, denied, errors, total_gas FROM ecl.stat_eclvm_policies
	 WHERE datname = current_database() AND policy = $1 $$;
SELECT ecl.register_policy('pf_stat_a', 'policy pf_stat_a { return trust.r >= 0.5 && 10 / i4 > 1 }');
SELECT ecl.register_policy('pf_stat_b', 'policy pf_stat_b { return trust.r >= 0.5 && 10 / i4 > 1 }');
SET ecl.rls_errors = deny;
SELECT count(*) FILTER (WHERE ecl.check('pf_stat_a', p.caller, NULL,
									   jsonb_build_object('i4', p.i4))) AS fallback_passed
  FROM pf_rows p;
SELECT count(*) FILTER (WHERE ecl.check('pf_stat_b', q.caller, NULL, q.j)) AS jsonb_passed
  FROM (SELECT p.caller, jsonb_build_object('i4', p.i4) AS j FROM pf_rows p OFFSET 0) q;
RESET ecl.rls_errors;
SELECT (SELECT row(s.*) FROM pf_stats('pf_stat_a') s) IS NOT DISTINCT FROM
	   (SELECT row(s.*) FROM pf_stats('pf_stat_b') s) AS same_statistics,
	   (SELECT calls FROM pf_stats('pf_stat_a')) AS calls,
	   (SELECT errors FROM pf_stats('pf_stat_a')) AS errors;

-- ecl.allowed: no identity, no access, as before
SELECT count(*) FILTER (WHERE ecl.allowed('pf_num', NULL, jsonb_build_object('i2', p.i2, 'i4', p.i4, 'i8', p.i8))) AS no_identity,
	   count(*) FILTER (WHERE ecl.check('pf_num', 'did:key:u1', NULL, jsonb_build_object('i2', p.i2, 'i4', p.i4, 'i8', p.i8))) AS with_identity
  FROM pf_rows p WHERE p.i2 IS NOT NULL AND p.i4 IS NOT NULL AND p.i8 IS NOT NULL;

-- EXECUTE on ecl.check is what counts: without it 42501, though the
-- rewritten function itself is PUBLIC (it checks EXECUTE on ecl.check)
CREATE ROLE pf_nobody;
GRANT SELECT ON pf_rows TO pf_nobody;
SET ROLE pf_nobody;
SELECT count(*) FROM pf_rows p
 WHERE ecl.check('pf_num', p.caller, NULL, jsonb_build_object('i4', p.i4));
RESET ROLE;
-- a role granted ecl.check itself (not through ecl_executor) runs the
-- rewritten call, and the translated one whose facts about a caller column
-- come from ecl.policy_trust (which checks EXECUTE on ecl.check, too)
SELECT ecl.register_policy('pf_trust', 'policy pf_trust { return trust.r >= 0 }') IS NOT NULL AS registered;
CREATE FUNCTION pg_temp.plan_mentions(query text, word text) RETURNS boolean
LANGUAGE plpgsql AS $f$
DECLARE l text;
BEGIN
	FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		IF position(word IN l) > 0 THEN RETURN true; END IF;
	END LOOP;
	RETURN false;
END $f$;
SET ecl.translate = on;
SELECT pg_temp.plan_mentions($q$SELECT count(*) FROM pf_rows p WHERE ecl.check('pf_trust', p.caller, NULL, '{}')$q$,
							 'policy_trust') AS translated_with_policy_trust;
GRANT EXECUTE ON FUNCTION ecl.check(text, text, text, jsonb) TO pf_nobody;
SET ROLE pf_nobody;
SELECT count(*) AS rewritten_call_runs FROM pf_rows p
 WHERE p.i2 IS NOT NULL AND p.i4 IS NOT NULL AND p.i8 IS NOT NULL
   AND ecl.check('pf_num', p.caller, NULL, jsonb_build_object('i2', p.i2, 'i4', p.i4, 'i8', p.i8)) IS NOT NULL;
SELECT count(*) AS translated_call_runs FROM pf_rows p
 WHERE ecl.check('pf_trust', p.caller, NULL, '{}');
-- called directly, the fact functions answer only to who may execute ecl.check
SELECT ecl.policy_trust('did:key:u1', NULL, 0) >= 0 AS may_ask_trust;
RESET ROLE;
REVOKE ALL ON FUNCTION ecl.check(text, text, text, jsonb) FROM pf_nobody;
SET ROLE pf_nobody;
SELECT ecl.policy_trust('did:key:u1', NULL, 0);
SELECT ecl.policy_credential('did:key:u1', 'kyc');
RESET ROLE;
SELECT ecl.drop_policy('pf_trust');
REVOKE ALL ON pf_rows FROM pf_nobody;
DROP ROLE pf_nobody;

RESET ecl.translate;
RESET extra_float_digits;
DO $$ DECLARE n text; BEGIN
	FOR n IN SELECT name FROM pf_policies UNION ALL SELECT 'pf_stat_a' UNION ALL SELECT 'pf_stat_b' LOOP
		PERFORM ecl.drop_policy(n);
	END LOOP;
END $$;
DELETE FROM ecl.trust WHERE did = 'did:key:u1';
DELETE FROM ecl.identities WHERE did = 'did:key:u1';
DROP TABLE pf_results, pf_policies, pf_rows;
DROP FUNCTION pf_outcome(text, int, bool), pf_stats(text);
