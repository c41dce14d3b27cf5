-- 40_policy.sql — registered policies and running them (docs/sql-api.md, "Registered policies").
--
-- Privileges (docs/security.md):
--   register_policy, drop_policy,  ecl_admin (they write ecl.policies as the
--   rollback_policy
--                                  owner of schema ecl; EXECUTE is the gate)
--   run_policy, enforce, check     ecl_executor and ecl_admin
--   allowed                        PUBLIC (the caller is the role's own DID)
-- Policy runs read and write the ecl.* tables as the owner of schema ecl, so
-- none of these callers needs privileges on the tables themselves.

-- ---------------------------------------------------------------------
-- Cache invalidation: any change to ecl.policies invalidates the compiled
-- policies cached by every session, transactionally.
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.policies_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'ecl_policies_changed'
LANGUAGE C;
REVOKE ALL ON FUNCTION ecl.policies_changed() FROM PUBLIC;

CREATE TRIGGER policies_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ecl.policies
	FOR EACH STATEMENT EXECUTE FUNCTION ecl.policies_changed();

-- A hot standby needs nothing more: it replays the invalidation with the
-- commit record.  A logical-replication subscriber does not: the apply
-- worker runs with session_replication_role = replica and fires row triggers
-- (and TRUNCATE triggers) only, so the statement trigger above never fires
-- there, not even when enabled ALWAYS.  These two are enabled for REPLICA
-- only: they fire on apply and invalidate the subscriber's caches, and never
-- on ordinary statements (docs/scaling.md).
CREATE TRIGGER policies_changed_on_apply
	AFTER INSERT OR UPDATE OR DELETE ON ecl.policies
	FOR EACH ROW EXECUTE FUNCTION ecl.policies_changed();
CREATE TRIGGER policies_truncated_on_apply
	AFTER TRUNCATE ON ecl.policies
	FOR EACH STATEMENT EXECUTE FUNCTION ecl.policies_changed();
ALTER TABLE ecl.policies ENABLE REPLICA TRIGGER policies_changed_on_apply;
ALTER TABLE ecl.policies ENABLE REPLICA TRIGGER policies_truncated_on_apply;

-- ---------------------------------------------------------------------
-- The result of a run
-- ---------------------------------------------------------------------
CREATE TYPE ecl.run_result AS (
	passed		boolean,	-- true when the policy passed
	value		jsonb,		-- the returned value (false when denied)
	message		text,		-- the require message of a denial
	gas_used	bigint,
	mana_used	bigint,
	duration_us	bigint,
	logs		text[],		-- log() messages in order
	events		jsonb		-- [{event, payload}] emitted (kept only when passed)
);

-- ---------------------------------------------------------------------
-- Registering
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.register_policy(name text, source text,
									kind text DEFAULT 'custom',
									realm text DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ecl_register_policy'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.register_policy(text, text, text, text) IS
'Compile and store a policy; re-registering a name replaces it (version + 1, the old one stays in ecl.policy_versions) unless source, kind and realm are unchanged. Returns the BLAKE2b hash of the bytecode';

CREATE FUNCTION ecl.rollback_policy(name text, version integer)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ecl_rollback_policy'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.rollback_policy(text, integer) IS
'Make an old version (from ecl.policy_versions) current again as a new version, recompiled from its source. Returns the hash';

CREATE FUNCTION ecl.drop_policy(name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_drop_policy'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.drop_policy(text) IS
'Remove a registered policy (and the handlers that use it); its versions stay in ecl.policy_versions';

-- ---------------------------------------------------------------------
-- Running
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.run_policy(policy text, caller text, realm text,
							   input jsonb DEFAULT '{}',
							   gas_limit bigint DEFAULT NULL,
							   mana_limit bigint DEFAULT NULL)
RETURNS ecl.run_result
AS 'MODULE_PATHNAME', 'ecl_run_policy'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.run_policy(text, text, text, jsonb, bigint, bigint) IS
'Run a registered policy on the table host; store writes and events are kept only when it passes';

-- STABLE: read-only runs see the statement's snapshot; a policy that writes
-- or emits is rejected (25006).  PARALLEL RESTRICTED: runs switch to the
-- schema owner and use per-backend caches; not tested in parallel workers.
CREATE FUNCTION ecl.check(policy text, caller text, realm text,
						  input jsonb DEFAULT '{}')
RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_check'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.check(text, text, text, jsonb) IS
'Read-only run of a registered policy for WHERE clauses and row-level security: true when it passes';

CREATE FUNCTION ecl.allowed(policy text, realm text, input jsonb DEFAULT '{}')
RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_allowed'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.allowed(text, text, jsonb) IS
'ecl.check with the caller taken from ecl.current_did(): the form for RLS policies; false without running the policy when the caller has no identity (unless ecl.allow_anonymous)';

CREATE FUNCTION ecl.enforce(policy text, caller text, realm text,
							input jsonb DEFAULT '{}')
RETURNS ecl.run_result
AS 'MODULE_PATHNAME', 'ecl_enforce'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.enforce(text, text, text, jsonb) IS
'Run a registered policy; a denial raises SQLSTATE EC001 with the require message';

-- ---------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION ecl.register_policy(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.drop_policy(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.rollback_policy(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.run_policy(text, text, text, jsonb, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.check(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.enforce(text, text, text, jsonb) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION ecl.register_policy(text, text, text, text) TO ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.drop_policy(text) TO ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.rollback_policy(text, integer) TO ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.run_policy(text, text, text, jsonb, bigint, bigint)
	TO ecl_executor, ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.enforce(text, text, text, jsonb)
	TO ecl_executor, ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.check(text, text, text, jsonb)
	TO ecl_executor, ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.allowed(text, text, jsonb) TO PUBLIC;

-- ---------------------------------------------------------------------
-- Explaining a run; a policy's declared inputs (docs/authoring.md)
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.explain(policy text, caller text, realm text,
							input jsonb DEFAULT '{}')
RETURNS TABLE(step int, line int, col int, event text, detail jsonb, gas bigint)
AS 'MODULE_PATHNAME', 'ecl_explain'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.explain(text, text, text, jsonb) IS
'A read-only run of a registered policy, traced: each require with its value, branch taken, host call with arguments and result, and the return, with the gas of each step; counted like ecl.check';

CREATE FUNCTION ecl.policy_inputs(name text)
RETURNS TABLE(field text, type text, optional boolean)
AS 'MODULE_PATHNAME', 'ecl_policy_inputs'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.policy_inputs(text) IS
'The input fields a registered policy declares (no rows for a policy that declares none)';

REVOKE ALL ON FUNCTION ecl.explain(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.policy_inputs(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.explain(text, text, text, jsonb)
	TO ecl_executor, ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.policy_inputs(text) TO ecl_executor, ecl_admin;
