-- 42_shadow.sql — shadow evaluation: a candidate that runs beside a
-- registered policy on every call without answering (docs/lifecycle.md,
-- "Shadow evaluation").  The candidate lives in the policy's row
-- (ecl.policies.shadow_*), so its changes invalidate cached policies and
-- plans like a registration; its comparisons are counted in
-- ecl.stat_eclvm_policies (shadow_runs, shadow_disagreements).
--
-- Privileges (docs/security.md): ecl_admin, like register_policy; the
-- functions write ecl.policies as the owner of schema ecl.

CREATE FUNCTION ecl.set_shadow(name text, source text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ecl_set_shadow'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.set_shadow(text, text) IS
'Compile a candidate version of a registered policy and run it beside the policy on every call (the policy still answers; the candidate''s costs are not charged, its writes are not kept, its errors are not raised). Returns the candidate''s hash';

CREATE FUNCTION ecl.promote_shadow(name text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ecl_promote_shadow'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.promote_shadow(text) IS
'Register the shadow candidate as the next version of the policy (recorded in ecl.policy_versions) and remove the candidate. Returns the hash';

CREATE FUNCTION ecl.drop_shadow(name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_drop_shadow'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.drop_shadow(text) IS
'Remove the shadow candidate of a policy; false when it had none';

REVOKE ALL ON FUNCTION ecl.set_shadow(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.promote_shadow(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.drop_shadow(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.set_shadow(text, text) TO ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.promote_shadow(text) TO ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.drop_shadow(text) TO ecl_admin;
