--
-- Who may execute what (docs/security.md), for every function in schema ecl.
--
-- 1. The expected matrix below lists each function with the roles that may
--    execute it: PUBLIC, ecl_executor, ecl_admin, pg_read_all_stats.  The
--    catalog (has_function_privilege) must agree, and every function of the
--    schema must be in the matrix: a new function fails this suite until it
--    is classified here (and in docs/security.md).
-- 2. The same with real roles: each function is called with NULL arguments
--    as a member of each role; it must fail with 42501 exactly where the
--    matrix says "no" (the call runs in a subtransaction that is rolled back,
--    so successful calls leave nothing behind).
--
\set VERBOSITY terse

CREATE TEMP TABLE expected_grants (
	fn			text PRIMARY KEY,	-- regprocedure without the schema
	pub			boolean,
	executor	boolean,
	admin		boolean,
	stats		boolean				-- pg_read_all_stats
);
INSERT INTO expected_grants VALUES
	-- the pure language and the caller's own view: everyone
	('compile(text)',							true, true, true, true),
	('disassemble(bytea)',					true, true, true, true),
	('eval(text,jsonb,text,text)', true, true, true, true),
	('allowed(text,text,jsonb)',	true, true, true, true),
	('current_did()',									true, true, true, true),
	('did_key_public_key(text)',					true, true, true, true),
	('did_key_from_public_key(bytea)',		true, true, true, true),
	-- naming oneself with a signed token; signing with one's own key
	('authenticate(text)',					true, true, true, true),
	('sign_token(text,bytea,interval,text,text)',	true, true, true, true),
	('sign_bundle(jsonb,text,bytea)',		true, true, true, true),
	-- running policies for any caller: application servers and admins
	('run_policy(text,text,text,jsonb,bigint,bigint)',
														false, true, true, false),
	('"check"(text,text,text,jsonb)', false, true, true, false),
	('enforce(text,text,text,jsonb)', false, true, true, false),
	('explain(text,text,text,jsonb)', false, true, true, false),
	('policy_inputs(text)',				false, true, true, false),
	('validate_crossing(text,text,text)', false, true, true, false),
	('allow_crossing(text,text,text)', false, true, true, false),
	('join_realm(text,text,text)', false, true, true, false),
	('run_api(text,text,text,jsonb)', false, true, true, false),
	('run_ui(text,text,text,jsonb)', false, true, true, false),
	('run_datalogic(text,text,text,jsonb)', false, true, true, false),
	('run_governance(text,text,text,jsonb)', false, true, true, false),
	('run_controller(text,text,text,jsonb)', false, true, true, false),
	('simulate(text,text,text,jsonb,jsonb,bigint,bigint)',
														false, true, true, false),
	('snapshot(text,text[])',				false, true, true, false),
	('test_policy(text,jsonb)',			false, true, true, false),
	('verify_credential(bigint)',					false, true, true, false),
	('has_credential(text,text)',			false, true, true, false),
	-- administration
	('register_policy(text,text,text,text)', false, false, true, false),
	('drop_policy(text)',						false, false, true, false),
	('set_shadow(text,text)',					false, false, true, false),
	('promote_shadow(text)',					false, false, true, false),
	('drop_shadow(text)',						false, false, true, false),
	('rollback_policy(text,integer)',			false, false, true, false),
	('export_bundle(text)',						false, false, true, false),
	('import_bundle(jsonb)',					false, false, true, false),
	-- the decision log: the queue filters by role itself; replay and trim are ecl_admin's
	('decision_queue()',						true, true, true, true),
	('replay(bigint)',							false, false, true, false),
	('trim_decision_log(interval)',				false, false, true, false),
	('register_handler(text,text,text,text)', false, false, true, false),
	('drop_handler(text,text)',			false, false, true, false),
	('generate_identity()',							false, false, true, false),
	('issue_credential(text,text,text,bytea,timestamp with time zone)',
														false, false, true, false),
	('bind_role(name,text)',				false, false, true, false),
	('unbind_role(name)',						false, false, true, false),
	('stat_reset(boolean)',							false, false, true, false),
	('rate_limit_reset(text)',					false, false, true, false),
	-- statistics: admins and pg_read_all_stats
	('stat_eclvm_counters()',							false, false, true, true),
	('stat_eclvm_kind_counters()',					false, false, true, true),
	('stat_eclvm_realm_counters()',					false, false, true, true),
	('stat_eclvm_policy_counters()',					false, false, true, true),
	('stat_eclvm_policy_version_counters()',					false, false, true, true),
	('rate_limit_accounts()',							false, false, true, true),
	-- internal: the cache invalidation trigger
	('policies_changed()',							false, false, false, false),
	-- internal: the triggers that keep the references between the tables
	('reference_check()',							false, false, false, false),
	('reference_keep_key(text,text,text,text,text)',	false, false, false, false),
	('identities_referenced()',						false, false, false, false),
	('realms_referenced()',							false, false, false, false),
	('policies_referenced()',						false, false, false, false),
	-- what a translated ecl.check / ecl.allowed calls (docs/planner.md):
	-- the caller's own facts and pure arithmetic for everyone, facts of
	-- any DID like ecl.check, the support function for the planner only
	('policy_sql(text,text[])',						true, true, true, true),
	('policy_add(double precision,double precision,text)', true, true, true, true),
	('policy_sub(double precision,double precision,text)', true, true, true, true),
	('policy_mul(double precision,double precision,text)', true, true, true, true),
	('policy_div(double precision,double precision,text)', true, true, true, true),
	('policy_mod(double precision,double precision,text)', true, true, true, true),
	('policy_error(integer,text)',					true, true, true, true),
	('policy_gate(text,oid,text)',					true, true, true, true),
	('policy_caller(text,oid,text)',				true, true, true, true),
	('policy_own_trust(text,integer)',				true, true, true, true),
	('policy_own_credential(text)',					true, true, true, true),
	-- facts of any DID: EXECUTE is PUBLIC, and each checks EXECUTE on
	-- ecl.check itself (test/sql/planner_fallback.sql calls them as a role
	-- with and without it)
	('policy_trust(text,text,integer)',				true, true, true, true),
	('policy_credential(text,text)',				true, true, true, true),
	-- callers from the row (docs/planner.md): the set is PUBLIC but only a
	-- plan the support function built may call it (refused by hand, for
	-- everyone); membership and the row counter are pure
	('policy_callers(text,boolean,text[])',					true, true, true, true),
	('policy_in_set(text,text[])',					true, true, true, true),
	('policy_past_rows(integer)',					true, true, true, true),
	('policy_support(internal)',					false, false, false, false),
	-- calls that stay in the VM, without a jsonb: PUBLIC, each checks
	-- EXECUTE on the function called (ecl.check, ecl.allowed) itself, as
	-- test/sql/planner_fallback.sql shows
	('policy_check_fields(text,text,text,text[],"any")', true, true, true, true),
	('policy_allowed_fields(text,text,text[],"any")', true, true, true, true);

CREATE TEMP VIEW ecl_functions AS
	SELECT p.oid, substr(p.oid::regprocedure::text, 5) AS fn
	  FROM pg_catalog.pg_proc p
	 WHERE p.pronamespace = 'ecl'::regnamespace;

-- the matrix as the catalog has it (every function of the schema)
SELECT f.fn,
	   has_function_privilege('public', f.oid, 'EXECUTE') AS pub,
	   has_function_privilege('ecl_executor', f.oid, 'EXECUTE') AS executor,
	   has_function_privilege('ecl_admin', f.oid, 'EXECUTE') AS admin,
	   has_function_privilege('pg_read_all_stats', f.oid, 'EXECUTE') AS stats
  FROM ecl_functions f
 ORDER BY f.fn COLLATE "C";

-- functions not classified above (must be none)
SELECT f.fn AS unclassified FROM ecl_functions f
 WHERE NOT EXISTS (SELECT 1 FROM expected_grants e WHERE e.fn = f.fn);

-- where the catalog differs from the expected matrix (must be none)
SELECT f.fn AS differs, e.pub, e.executor, e.admin, e.stats
  FROM ecl_functions f JOIN expected_grants e USING (fn)
 WHERE (e.pub, e.executor, e.admin, e.stats) IS DISTINCT FROM
	   (has_function_privilege('public', f.oid, 'EXECUTE'),
		has_function_privilege('ecl_executor', f.oid, 'EXECUTE'),
		has_function_privilege('ecl_admin', f.oid, 'EXECUTE'),
		has_function_privilege('pg_read_all_stats', f.oid, 'EXECUTE'));

-- no function is executable by PUBLIC through a direct grant to a role
-- outside the matrix (e.g. an accidental GRANT ... TO some_app_role)
SELECT f.fn AS granted_elsewhere, a.grantee::regrole
  FROM ecl_functions f, pg_catalog.pg_proc p,
	   LATERAL pg_catalog.aclexplode(p.proacl) a
 WHERE p.oid = f.oid AND a.grantee <> 0
   AND a.grantee NOT IN ('ecl_admin'::regrole, 'ecl_executor'::regrole,
						 'pg_read_all_stats'::regrole, p.proowner);

-- ------------------------------------------------------------ real roles
CREATE ROLE regress_sec_nobody;
CREATE ROLE regress_sec_exec IN ROLE ecl_executor;
CREATE ROLE regress_sec_admin IN ROLE ecl_admin;
CREATE ROLE regress_sec_stats IN ROLE pg_read_all_stats;

-- 'denied' (42501 from the call) or 'allowed' (any other outcome).  The
-- arguments are harmless non-NULL values: a STRICT function called with a
-- constant NULL is folded away by the planner before its privilege is
-- checked, so NULLs would prove nothing.
CREATE FUNCTION pg_temp.call_as(role_name text, fn oid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	args text;
	q text;
BEGIN
	SELECT string_agg(CASE pg_catalog.format_type(t, NULL)
						WHEN 'jsonb' THEN '''{}''::jsonb'
						WHEN 'text[]' THEN '''{}''::text[]'
						WHEN 'bytea' THEN '''\x00''::bytea'
						WHEN 'bigint' THEN '0::bigint'
						WHEN 'integer' THEN '0'
						WHEN 'boolean' THEN 'false'
						WHEN 'interval' THEN '''100 years''::interval'
						WHEN 'timestamp with time zone' THEN 'now()'
						ELSE '''regress-sec''::' || pg_catalog.format_type(t, NULL) END,
					  ', ' ORDER BY n)
	  INTO args
	  FROM unnest((SELECT p.proargtypes::oid[] FROM pg_catalog.pg_proc p WHERE p.oid = fn))
		   WITH ORDINALITY AS a(t, n);
	q := format('SELECT %s(%s)', fn::regproc, coalesce(args, ''));
	BEGIN
		EXECUTE format('SET LOCAL ROLE %I', role_name);
		EXECUTE q;
		RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'regress-sec-call-returned';
	EXCEPTION WHEN OTHERS THEN
		RESET ROLE;
		IF SQLSTATE = '42501' THEN
			RETURN 'denied';
		END IF;
		RETURN 'allowed';
	END;
END
$$;

-- side effects outside the transaction: only called where they must fail
-- EXECUTE granted to PUBLIC, but the function checks EXECUTE on ecl.check
-- itself: who may call it is who may call ecl.check
CREATE TEMP TABLE checked_inside (fn text, pub boolean, executor boolean, admin boolean, stats boolean);
INSERT INTO checked_inside VALUES
	('policy_trust(text,text,integer)',	false, true, true, false),
	('policy_credential(text,text)',	false, true, true, false),
	('policy_callers(text,boolean,text[])',		false, false, false, false);
CREATE TEMP TABLE not_called_when_allowed (fn text);
INSERT INTO not_called_when_allowed VALUES ('stat_reset(boolean)'), ('rate_limit_reset(text)');
-- no SQL call can pass an internal argument: the planner's support
-- function is covered by its grants above, not called here

SELECT r.role_name, f.fn, e.pub, e.executor, e.admin, e.stats,
	   pg_temp.call_as(r.role_name, f.oid) AS outcome
  FROM ecl_functions f JOIN expected_grants e USING (fn),
	   (VALUES ('regress_sec_nobody', 1), ('regress_sec_exec', 2),
			   ('regress_sec_admin', 3), ('regress_sec_stats', 4)) AS r(role_name, col),
	   LATERAL (SELECT coalesce((SELECT (ARRAY[c.pub, c.executor, c.admin, c.stats])[r.col]
								   FROM checked_inside c WHERE c.fn = f.fn),
								  (ARRAY[e.pub, e.executor, e.admin, e.stats])[r.col]) AS expected) x
 WHERE NOT (x.expected AND f.fn IN (SELECT fn FROM not_called_when_allowed))
   AND f.fn NOT LIKE '%(internal)'
   AND pg_temp.call_as(r.role_name, f.oid) <> CASE WHEN x.expected THEN 'allowed' ELSE 'denied' END;

-- how many calls that check made, per outcome
SELECT pg_temp.call_as(r.role_name, f.oid) AS outcome, count(*)
  FROM ecl_functions f JOIN expected_grants e USING (fn),
	   (VALUES ('regress_sec_nobody', 1), ('regress_sec_exec', 2),
			   ('regress_sec_admin', 3), ('regress_sec_stats', 4)) AS r(role_name, col),
	   LATERAL (SELECT coalesce((SELECT (ARRAY[c.pub, c.executor, c.admin, c.stats])[r.col]
								   FROM checked_inside c WHERE c.fn = f.fn),
								  (ARRAY[e.pub, e.executor, e.admin, e.stats])[r.col]) AS expected) x
 WHERE NOT (x.expected AND f.fn IN (SELECT fn FROM not_called_when_allowed))
   AND f.fn NOT LIKE '%(internal)'
 GROUP BY 1 ORDER BY 1;

-- PUBLIC may use ecl.eval only for code without host functions (docs/security.md)
CREATE FUNCTION pg_temp.try(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE q INTO r;
	RETURN 'ok: ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SET ROLE regress_sec_nobody;
SELECT pg_temp.try($$SELECT ecl.eval('return 1 + 1')$$) AS pure_code;
SELECT pg_temp.try($$SELECT ecl.eval('return [caller, realm, input]', '{"a": 1}', 'did:x', 'r')$$) AS context_only;
SELECT pg_temp.try($$SELECT ecl.eval('return load_trust(caller)', '{}', 'did:x', 'r')$$) AS load_trust;
SELECT pg_temp.try($$SELECT ecl.eval('return caller.trust.r', '{}', 'did:x', 'r')$$) AS trust_of_caller;
SELECT pg_temp.try($$SELECT ecl.eval('return store_get("s", "k")', '{}', 'did:x', 'r')$$) AS store_get;
SELECT pg_temp.try($$SELECT ecl.eval('store_put("s", "k", 1)', '{}', 'did:x', 'r')$$) AS store_put;
SELECT pg_temp.try($$SELECT ecl.eval('emit "e"', '{}', 'did:x', 'r')$$) AS emit;
SELECT pg_temp.try($$SELECT ecl.eval('return get_metric("policies_executed")')$$) AS get_metric;
RESET ROLE;
DROP FUNCTION pg_temp.try(text);

DROP FUNCTION pg_temp.call_as(text, oid);
DROP VIEW ecl_functions;
DROP TABLE expected_grants, not_called_when_allowed;
DROP ROLE regress_sec_nobody, regress_sec_exec, regress_sec_admin, regress_sec_stats;

SELECT 1 AS backend_alive;
