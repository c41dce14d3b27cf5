-- 48_bundles.sql — signed bundles: a realm's policies exported as one JSON
-- document, signed with Ed25519 outside or inside the database, imported
-- atomically when a trusted signer signed them (docs/lifecycle.md, "Signed
-- bundles").  C code: src/pg/frontdoor/sql_bundle.c.
--
-- Privileges (docs/security.md):
--   export_bundle, import_bundle   ecl_admin (they read and write ecl.policies
--                                  as the owner of schema ecl; EXECUTE is the gate)
--   sign_bundle                    PUBLIC (uses only its arguments)
--   ecl.bundle_signers             ecl_admin reads and writes it

-- ---------------------------------------------------------------------
-- Who may sign a bundle this database imports
-- ---------------------------------------------------------------------
CREATE TABLE ecl.bundle_signers (
	did			text PRIMARY KEY
				CHECK (left(did, 8) = 'did:key:'
					   AND octet_length(ecl.did_key_public_key(did)) = 32),
	added_by	name NOT NULL DEFAULT session_user,
	added_at	timestamptz NOT NULL DEFAULT now(),
	comment		text
);
COMMENT ON TABLE ecl.bundle_signers IS
	'did:key DIDs whose signed bundles ecl.import_bundle accepts (unless the DID is revoked in ecl.identities)';
SELECT pg_catalog.pg_extension_config_dump('ecl.bundle_signers', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON ecl.bundle_signers TO ecl_admin;

-- ---------------------------------------------------------------------
-- Export, sign, import
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.export_bundle(realm text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ecl_export_bundle'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.export_bundle(text) IS
'The current policies of a realm (NULL: the realm-less policies) as an unsigned bundle';

CREATE FUNCTION ecl.sign_bundle(bundle jsonb, signer_did text, secret_key bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ecl_sign_bundle'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION ecl.sign_bundle(jsonb, text, bytea) IS
'The bundle with an Ed25519 signature by signer_did (a did:key; secret_key must be its key) over its canonical serialization';

CREATE FUNCTION ecl.import_bundle(bundle jsonb)
RETURNS TABLE(name text, action text, version integer)
AS 'MODULE_PATHNAME', 'ecl_import_bundle'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.import_bundle(jsonb) IS
'Make a signed bundle the realm''s policies: register each (identical ones unchanged), drop the realm''s others; all or nothing. One row per policy: added, updated, unchanged or dropped';

REVOKE ALL ON FUNCTION ecl.export_bundle(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.import_bundle(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.export_bundle(text) TO ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.import_bundle(jsonb) TO ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.sign_bundle(jsonb, text, bytea) TO PUBLIC;
