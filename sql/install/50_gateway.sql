-- 50_gateway.sql — the unified crossing gateway (docs/sql-api.md, "The crossing gateway").
--
-- Privileges (docs/security.md): validate_crossing, allow_crossing and join_realm
-- are for ecl_executor and ecl_admin (application servers decide crossings
-- for any DID).  They are C functions, not SECURITY DEFINER: the lookups
-- and the membership write are made as the owner of schema ecl inside the
-- library, with schema-qualified statements, so the callers need no table
-- privileges and their search_path cannot redirect anything.

CREATE TYPE ecl.crossing_result AS (
	allowed			boolean,	-- no violation
	violations		text[],		-- every reason the crossing is refused
	original_trust	float8[],	-- R, I, C, P, V, Omega in the target realm (else global)
	dampened_trust	float8[],	-- original_trust × the realm's dampening factors
	policy			text,		-- the entry policy, when it ran
	gas_used		bigint,		-- summed over the rule and entry policy runs
	mana_used		bigint,
	duration_us		bigint
);

-- Not STRICT: a NULL argument raises 22004 rather than returning NULL,
-- which a caller could mistake for "no decision".
CREATE FUNCTION ecl.validate_crossing(did text, from_realm text, to_realm text)
RETURNS ecl.crossing_result
AS 'MODULE_PATHNAME', 'ecl_validate_crossing'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.validate_crossing(text, text, text) IS
'Decide a realm crossing: identity, min_trust, required credentials and rules, then the realm''s ECL entry policy; returns the violations and the dampened trust';

CREATE FUNCTION ecl.allow_crossing(did text, from_realm text, to_realm text)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'ecl_allow_crossing'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.allow_crossing(text, text, text) IS
'The dampened trust of an allowed crossing; a refused crossing raises EC001 with the first violation';

CREATE FUNCTION ecl.join_realm(did text, from_realm text, to_realm text)
RETURNS float8[]
AS 'MODULE_PATHNAME', 'ecl_join_realm'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.join_realm(text, text, text) IS
'ecl.allow_crossing, then records the membership in ecl.realm_members';

REVOKE ALL ON FUNCTION ecl.validate_crossing(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.allow_crossing(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.join_realm(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.validate_crossing(text, text, text)
	TO ecl_executor, ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.allow_crossing(text, text, text)
	TO ecl_executor, ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.join_realm(text, text, text)
	TO ecl_executor, ecl_admin;
