-- 45_planner.sql — policies the planner can see (docs/planner.md).
--
-- ecl.check and ecl.allowed get a planner support function: a call whose
-- policy lies in the translatable subset is replaced, at plan time, by an
-- equivalent SQL condition over the call's arguments.  The functions below
-- are what that condition calls.
--
-- Privileges:
--   policy_sql                          PUBLIC (shows what a policy becomes;
--                                       the same text ecl.policies holds
--                                       in compiled form)
--   policy_add .. policy_mod, policy_error,
--   policy_gate, policy_caller,
--   policy_own_trust, policy_own_credential    PUBLIC: a translated
--                                       ecl.allowed runs as the querying
--                                       role, and these reveal nothing about
--                                       other identities
--   policy_trust, policy_credential     like ecl.check (they answer for any
--                                       DID)

CREATE FUNCTION ecl.policy_support(internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ecl_policy_support'
LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION ecl.policy_support(internal) FROM PUBLIC;

ALTER FUNCTION ecl.check(text, text, text, jsonb) SUPPORT ecl.policy_support;
ALTER FUNCTION ecl.allowed(text, text, jsonb) SUPPORT ecl.policy_support;

CREATE FUNCTION ecl.policy_sql(policy text, input_fields text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ecl_policy_sql'
LANGUAGE C STABLE;
COMMENT ON FUNCTION ecl.policy_sql(text, text[]) IS
'The SQL condition ecl.allowed(policy, realm, jsonb_build_object(fields...)) becomes in a plan, or "-- not translated: <why>"; fields are "name" (text) or "name:type"';

-- ECL arithmetic on numbers: the VM's results and errors.  IMMUTABLE: a
-- translated policy only passes them values that are not constant (the
-- translation computes constant operations itself).
CREATE FUNCTION ecl.policy_add(a float8, b float8, site text) RETURNS float8
AS 'MODULE_PATHNAME', 'ecl_policy_add' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ecl.policy_sub(a float8, b float8, site text) RETURNS float8
AS 'MODULE_PATHNAME', 'ecl_policy_sub' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ecl.policy_mul(a float8, b float8, site text) RETURNS float8
AS 'MODULE_PATHNAME', 'ecl_policy_mul' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ecl.policy_div(a float8, b float8, site text) RETURNS float8
AS 'MODULE_PATHNAME', 'ecl_policy_div' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ecl.policy_mod(a float8, b float8, site text) RETURNS float8
AS 'MODULE_PATHNAME', 'ecl_policy_mod' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- VOLATILE: never evaluated at plan time, only when a row reaches it.
CREATE FUNCTION ecl.policy_error(code int, message text) RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_policy_error' LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE FUNCTION ecl.policy_trust(caller text, realm text, dim int) RETURNS float8
AS 'MODULE_PATHNAME', 'ecl_policy_trust' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION ecl.policy_credential(caller text, schema text) RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_policy_credential' LANGUAGE C STABLE PARALLEL SAFE;
-- Every DID with facts, for a translated ecl.check whose caller comes from
-- the row; only such a plan may call it (docs/planner.md).
CREATE FUNCTION ecl.policy_callers(realm text, with_trust boolean, schemas text[])
RETURNS TABLE(did text, r float8, i float8, c float8, p float8, v float8,
			  omega float8, held bigint)
AS 'MODULE_PATHNAME', 'ecl_policy_callers' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 10000;
CREATE FUNCTION ecl.policy_in_set(did text, dids text[]) RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_policy_in_set' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ecl.policy_past_rows(n int) RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_policy_past_rows' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION ecl.policy_own_trust(realm text, dim int) RETURNS float8
AS 'MODULE_PATHNAME', 'ecl_policy_own_trust' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION ecl.policy_own_credential(schema text) RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_policy_own_credential' LANGUAGE C STABLE PARALLEL RESTRICTED;

-- The gates also count the execution in ecl.stat_eclvm_policies
-- (translated_executions), under realm when not NULL.
CREATE FUNCTION ecl.policy_gate(policy text, function oid, realm text) RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_policy_gate' LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION ecl.policy_caller(policy text, function oid, realm text) RETURNS text
AS 'MODULE_PATHNAME', 'ecl_policy_caller' LANGUAGE C STABLE PARALLEL RESTRICTED;

-- Facts about any caller, as ecl.check may ask them: EXECUTE stays PUBLIC
-- (a role granted ecl.check directly must be able to run its translated
-- plan) and each checks EXECUTE on ecl.check itself, so exactly who may
-- execute ecl.check may call them.

-- Calls that stay in the VM, rewritten by the support function to pass the
-- field values of jsonb_build_object(...) instead of building a jsonb per
-- row (docs/planner.md).  EXECUTE stays PUBLIC: each checks EXECUTE on the
-- function the user called (a role may have been granted ecl.check itself).
CREATE FUNCTION ecl.policy_check_fields(policy text, caller text, realm text,
										keys text[], VARIADIC "values" "any")
RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_policy_check_fields'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.policy_check_fields(text, text, text, text[], "any") IS
'ecl.check(policy, caller, realm, jsonb_build_object(keys[1], values[1], ...)) without building the jsonb';
CREATE FUNCTION ecl.policy_allowed_fields(policy text, realm text,
										  keys text[], VARIADIC "values" "any")
RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_policy_allowed_fields'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.policy_allowed_fields(text, text, text[], "any") IS
'ecl.allowed(policy, realm, jsonb_build_object(keys[1], values[1], ...)) without building the jsonb';

