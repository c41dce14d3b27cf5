-- 20_identity.sql — Ed25519 identities, did:key, credentials and the
-- caller's DID (docs/sql-api.md, "Identities and credentials";
-- docs/security.md).  C code: src/pg/identity/identity.c, credential.c.

-- ---------------------------------------------------------------------
-- did:key helpers (pure; anyone may use them)
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.did_key_public_key(did text) RETURNS bytea
AS 'MODULE_PATHNAME', 'ecl_did_key_public_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ecl.did_key_public_key(text) IS
	'The 32-byte Ed25519 public key encoded in a did:key DID (error if it is not one)';

CREATE FUNCTION ecl.did_key_from_public_key(public_key bytea) RETURNS text
AS 'MODULE_PATHNAME', 'ecl_did_key_from_public_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ecl.did_key_from_public_key(bytea) IS
	'The did:key DID of a 32-byte Ed25519 public key';

-- A did:key registered with a stored key must store the key it encodes.
ALTER TABLE ecl.identities ADD CONSTRAINT identities_did_key_matches_public_key
	CHECK (CASE WHEN public_key IS NULL OR left(did, 8) <> 'did:key:' THEN true
				ELSE public_key = ecl.did_key_public_key(did) END);

-- ---------------------------------------------------------------------
-- The caller's DID.  Not SECURITY DEFINER on purpose: it must see the
-- calling role; the C code then reads ecl.role_dids as the schema owner.
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.current_did() RETURNS text
AS 'MODULE_PATHNAME', 'ecl_current_did_sql'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.current_did() IS
	'The caller''s DID: the one bound to current_user in ecl.role_dids; NULL when none or when it is revoked';
GRANT EXECUTE ON FUNCTION ecl.current_did() TO PUBLIC;

-- ---------------------------------------------------------------------
-- Identities and credentials
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.generate_identity()
RETURNS TABLE (did text, public_key bytea, secret_key bytea)
AS 'MODULE_PATHNAME', 'ecl_generate_identity'
LANGUAGE C VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
ROWS 1;
COMMENT ON FUNCTION ecl.generate_identity() IS
	'New Ed25519 key pair, registered as a did:key identity; the secret key is returned once and not stored';

CREATE FUNCTION ecl.issue_credential(subject text, schema text,
									 issuer_did text, issuer_secret_key bytea,
									 expires_at timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecl_issue_credential'
LANGUAGE C VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION ecl.issue_credential(text, text, text, bytea, timestamptz) IS
	'Sign a credential with the issuer''s Ed25519 secret key and store it; returns its id';

CREATE FUNCTION ecl.verify_credential(id bigint) RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_verify_credential'
LANGUAGE C STABLE STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION ecl.verify_credential(bigint) IS
	'True if the credential exists, is neither revoked nor expired, and its signature (if any) verifies';

-- The SQL twin of the ECL built-in has_credential (same rule, same code).
CREATE FUNCTION ecl.has_credential(did text, schema text) RETURNS boolean
AS 'MODULE_PATHNAME', 'ecl_has_credential_sql'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.has_credential(text, text) IS
	'True if did holds a valid credential of that schema (the rule of ECL''s has_credential)';

REVOKE ALL ON FUNCTION ecl.generate_identity() FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.issue_credential(text, text, text, bytea, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.verify_credential(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.generate_identity() TO ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.issue_credential(text, text, text, bytea, timestamptz) TO ecl_admin;
REVOKE ALL ON FUNCTION ecl.has_credential(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.verify_credential(bigint) TO ecl_admin, ecl_executor;
GRANT EXECUTE ON FUNCTION ecl.has_credential(text, text) TO ecl_admin, ecl_executor;
