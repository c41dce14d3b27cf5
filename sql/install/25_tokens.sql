-- 25_tokens.sql — the caller's identity per request: signed tokens and
-- trusted claims.  C code: src/pg/identity/token.c.

-- Not SECURITY DEFINER: it reads ecl.identities as the schema owner itself
-- and sets this transaction's caller, which no other function can do.
CREATE FUNCTION ecl.authenticate(token text) RETURNS text
AS 'MODULE_PATHNAME', 'ecl_authenticate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.authenticate(text) IS
	'Verify a compact JWS (alg EdDSA) and make its sub the caller until the end of the transaction; returns the DID, refusals are SQLSTATE 28000';
GRANT EXECUTE ON FUNCTION ecl.authenticate(text) TO PUBLIC;

-- Pure signing with the caller's own secret key: touches no table.
CREATE FUNCTION ecl.sign_token(did text, secret_key bytea,
							   ttl interval DEFAULT '5 minutes',
							   audience text DEFAULT NULL,
							   jti text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ecl_sign_token'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION ecl.sign_token(text, bytea, interval, text, text) IS
	'A token for ecl.authenticate: EdDSA-signed JWT with sub, iat, exp (= iat + ttl), optional aud and jti';
GRANT EXECUTE ON FUNCTION ecl.sign_token(text, bytea, interval, text, text) TO PUBLIC;

COMMENT ON FUNCTION ecl.current_did() IS
	'The caller: the DID authenticated in this transaction, else the trusted claim (ecl.claims_setting), else the DID bound to current_user, else NULL';
