--
-- The caller's identity per request (docs/identity.md): ecl.authenticate
-- with tokens made by ecl.sign_token, every refusal with its SQLSTATE,
-- transaction scoping, the resolution order of ecl.current_did() and
-- ecl.allowed behind RLS with a token-authenticated caller.  Tokens from an
-- outside JWT library (crafted exp/nbf/iat, alg none/HS256) are tested in
-- test/shell/token_interop.sh.
--
\set VERBOSITY terse

-- refusals are shown as SQLSTATE: message; a success as the DID's role here
CREATE FUNCTION pg_temp.try_auth(token text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN 'ok ' || CASE ecl.authenticate(token)
		WHEN current_setting('tok.alice') THEN 'alice'
		WHEN current_setting('tok.bob') THEN 'bob'
		ELSE 'other' END;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- base64url of a text, as JWS segments are written
CREATE FUNCTION pg_temp.b64url(t text) RETURNS text
LANGUAGE sql AS $$
	SELECT translate(rtrim(replace(encode(convert_to(t, 'UTF8'), 'base64'), E'\n', ''), '='), '+/', '-_')
$$;

CREATE TEMP TABLE keys (name text, did text, public_key bytea, secret_key bytea);
INSERT INTO keys SELECT 'alice', * FROM ecl.generate_identity();
INSERT INTO keys SELECT 'bob', * FROM ecl.generate_identity();
INSERT INTO keys SELECT 'carol', * FROM ecl.generate_identity();
SELECT set_config('tok.' || name, did, false) IS NOT NULL FROM keys ORDER BY name;
CREATE FUNCTION pg_temp.tok(who text, ttl interval DEFAULT '5 minutes',
							aud text DEFAULT NULL, jti text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
	SELECT ecl.sign_token(did, secret_key, ttl, aud, jti) FROM keys WHERE name = who
$$;

-- ----------------------------------------------------------------- the token
-- header {"alg":"EdDSA","typ":"JWT"}; claims sub, iat, exp = iat + ttl
SELECT convert_from(decode(rpad(translate(split_part(t, '.', 1), '-_', '+/'),
				  (length(split_part(t, '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8') AS header,
	   (c->>'sub') = current_setting('tok.alice') AS sub_is_did,
	   (c->>'exp')::bigint - (c->>'iat')::bigint AS lifetime,
	   abs((c->>'iat')::bigint - extract(epoch FROM now())) < 60 AS iat_is_now,
	   c ? 'aud' AS has_aud, c ? 'jti' AS has_jti,
	   length(split_part(t, '.', 3)) AS signature_chars
  FROM (SELECT t, convert_from(decode(rpad(translate(split_part(t, '.', 2), '-_', '+/'),
				  (length(split_part(t, '.', 2)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb AS c
		  FROM pg_temp.tok('alice') AS t) s;
-- bad arguments of sign_token
SELECT ecl.sign_token(NULL, '\x00'::bytea);
SELECT ecl.sign_token(current_setting('tok.alice'), '\x0001'::bytea);
\set VERBOSITY sqlstate
SELECT ecl.sign_token(current_setting('tok.alice'), (SELECT secret_key FROM keys WHERE name = 'bob'));
\set VERBOSITY terse
SELECT pg_temp.tok('alice', '0 seconds');
SELECT pg_temp.tok('alice', '-5 minutes');

-- ------------------------------------------------------- transaction scoping
SELECT ecl.current_did() IS NULL AS nobody_before;
BEGIN;
SELECT pg_temp.try_auth(pg_temp.tok('alice'));
SELECT ecl.current_did() = current_setting('tok.alice') AS alice_now;
COMMIT;
SELECT ecl.current_did() IS NULL AS gone_after_commit;
BEGIN;
SELECT pg_temp.try_auth(pg_temp.tok('alice'));
SELECT ecl.current_did() = current_setting('tok.alice') AS alice_now;
ROLLBACK;
SELECT ecl.current_did() IS NULL AS gone_after_rollback;
-- an error aborts the transaction: the identity goes with it
BEGIN;
SELECT pg_temp.try_auth(pg_temp.tok('alice'));
SELECT 1 / 0;
ROLLBACK;
SELECT ecl.current_did() IS NULL AS gone_after_abort;
-- outside a transaction block: the identity lasts for that one statement
SELECT ecl.authenticate(pg_temp.tok('bob')) = current_setting('tok.bob') AS authenticated,
	   ecl.current_did() = current_setting('tok.bob') AS same_statement;
SELECT ecl.current_did() IS NULL AS next_statement;
-- a subtransaction that rolls back takes its authenticate with it
BEGIN;
SAVEPOINT s1;
SELECT pg_temp.try_auth(pg_temp.tok('alice'));
ROLLBACK TO SAVEPOINT s1;
SELECT ecl.current_did() IS NULL AS gone_after_rollback_to_savepoint;
SAVEPOINT s2;
SELECT pg_temp.try_auth(pg_temp.tok('alice'));
RELEASE SAVEPOINT s2;
SAVEPOINT s3;
SELECT ecl.current_did() = current_setting('tok.alice') AS kept_after_release;
ROLLBACK TO SAVEPOINT s3;
SELECT ecl.current_did() = current_setting('tok.alice') AS kept_when_a_later_savepoint_rolls_back;
-- one caller per transaction: the same DID again is fine, another is refused
SELECT pg_temp.try_auth(pg_temp.tok('alice'));
SELECT pg_temp.try_auth(pg_temp.tok('bob'));
SELECT ecl.current_did() = current_setting('tok.alice') AS still_alice;
COMMIT;
-- an authenticate made in a SECURITY DEFINER function or a PL/pgSQL block
-- that completes holds for the whole transaction
BEGIN;
DO $$ BEGIN PERFORM ecl.authenticate(pg_temp.tok('carol')); END $$;
SELECT ecl.current_did() = (SELECT did FROM keys WHERE name = 'carol') AS carol_after_do;
COMMIT;

-- ------------------------------------------------------------------ refusals
-- malformed
SELECT pg_temp.try_auth(NULL);
SELECT pg_temp.try_auth('');
SELECT pg_temp.try_auth('abc');
SELECT pg_temp.try_auth('a.b');
SELECT pg_temp.try_auth('a.b.c.d');
SELECT pg_temp.try_auth('!!!.e30.AAAA');
SELECT pg_temp.try_auth(pg_temp.b64url('[1,2]') || '.e30.AAAA');
SELECT pg_temp.try_auth(pg_temp.b64url('{"alg":"EdDSA"') || '.e30.AAAA');
SELECT pg_temp.try_auth(repeat('a', 9000));
-- algorithms other than EdDSA, none included
SELECT pg_temp.try_auth(pg_temp.b64url('{"alg":"none"}') || '.' || split_part(pg_temp.tok('alice'), '.', 2) || '.');
SELECT pg_temp.try_auth(pg_temp.b64url('{"alg":"HS256","typ":"JWT"}') || '.' || split_part(pg_temp.tok('alice'), '.', 2) || '.AAAA');
SELECT pg_temp.try_auth(pg_temp.b64url('{"typ":"JWT"}') || '.' || split_part(pg_temp.tok('alice'), '.', 2) || '.AAAA');
SELECT pg_temp.try_auth(pg_temp.b64url('{"alg":"EdDSA","crit":["b64"]}') || '.' || split_part(pg_temp.tok('alice'), '.', 2) || '.AAAA');
-- claims that are not what a token needs (sub missing, not a did:key)
SELECT pg_temp.try_auth(pg_temp.b64url('{"alg":"EdDSA"}') || '.' || pg_temp.b64url('{"exp":1}') || '.AAAA');
SELECT pg_temp.try_auth(pg_temp.b64url('{"alg":"EdDSA"}') || '.' || pg_temp.b64url('{"sub":"did:key:zXYZ","exp":1}') || '.AAAA');
-- tampered: Bob's claims under Alice's signature, a changed signature,
-- a header re-encoded, a signature that is not 64 bytes
SELECT pg_temp.try_auth(split_part(a, '.', 1) || '.' || split_part(b, '.', 2) || '.' || split_part(a, '.', 3))
  FROM pg_temp.tok('alice') a, pg_temp.tok('bob') b;
SELECT pg_temp.try_auth(left(t, -2) || CASE right(t, 2) WHEN 'AA' THEN 'AB' ELSE 'AA' END)
  FROM pg_temp.tok('alice') t;
SELECT pg_temp.try_auth(pg_temp.b64url('{"typ":"JWT","alg":"EdDSA"}') || substr(t, position('.' IN t)))
  FROM pg_temp.tok('alice') t;
SELECT pg_temp.try_auth(left(t, -10)) FROM pg_temp.tok('alice') t;
-- the key: Carol's token signed with Alice's key
SELECT pg_temp.try_auth(split_part(c, '.', 1) || '.' || split_part(c, '.', 2) || '.' ||
		split_part(ecl.sign_token(k.did, k.secret_key), '.', 3))
  FROM pg_temp.tok('carol') c, keys k WHERE k.name = 'alice';
-- lifetime
SELECT pg_temp.try_auth(pg_temp.tok('alice', '2 hours'));
SET ecl.token_max_lifetime = '3h';
SELECT pg_temp.try_auth(pg_temp.tok('alice', '2 hours'));
RESET ecl.token_max_lifetime;
-- expired (leeway 0), and accepted again within the leeway
SET ecl.token_leeway = 0;
SELECT pg_temp.tok('alice', '1 second') AS short_token \gset
SELECT pg_sleep(1.2);
SELECT pg_temp.try_auth(:'short_token');
SET ecl.token_leeway = '30s';
SELECT pg_temp.try_auth(:'short_token');
RESET ecl.token_leeway;
-- audience
SELECT pg_temp.try_auth(pg_temp.tok('alice', aud => 'shop'));
SET ecl.token_audience = 'shop';
SELECT pg_temp.try_auth(pg_temp.tok('alice'));
SELECT pg_temp.try_auth(pg_temp.tok('alice', aud => 'bank'));
SELECT pg_temp.try_auth(pg_temp.tok('alice', aud => 'shop'));
RESET ecl.token_audience;
-- jti: once per DID until the token expires; a refused token does not use it up
SELECT pg_temp.tok('alice', jti => 'request-1') AS jti_token \gset
SELECT pg_temp.try_auth(:'jti_token');
SELECT pg_temp.try_auth(:'jti_token');
SELECT pg_temp.try_auth(pg_temp.tok('alice', jti => 'request-1'));
SELECT pg_temp.try_auth(pg_temp.tok('bob', jti => 'request-1'));
SELECT pg_temp.try_auth(pg_temp.tok('alice', '2 hours', jti => 'request-2'));
SELECT pg_temp.try_auth(pg_temp.tok('alice', jti => 'request-2'));

-- ------------------------------------------- DIDs that are not did:key, revoked
INSERT INTO ecl.identities (did, public_key)
	SELECT 'did:example:tok-dave', public_key FROM keys WHERE name = 'alice';
INSERT INTO ecl.identities (did) VALUES ('did:example:tok-nokey');
SELECT pg_temp.try_auth(ecl.sign_token('did:example:tok-dave', secret_key)) FROM keys WHERE name = 'alice';
BEGIN;
SELECT ecl.authenticate(ecl.sign_token('did:example:tok-dave', secret_key)) FROM keys WHERE name = 'alice';
SELECT ecl.current_did();
COMMIT;
SELECT pg_temp.try_auth(ecl.sign_token('did:example:tok-erin', secret_key)) FROM keys WHERE name = 'alice';
SELECT pg_temp.try_auth(ecl.sign_token('did:example:tok-nokey', secret_key)) FROM keys WHERE name = 'alice';
-- a registered key that does not match: bad signature
SELECT pg_temp.try_auth(ecl.sign_token('did:example:tok-dave', secret_key)) FROM keys WHERE name = 'bob';
UPDATE ecl.identities SET revoked = true
 WHERE did IN ('did:example:tok-dave', current_setting('tok.carol'));
SELECT pg_temp.try_auth(ecl.sign_token('did:example:tok-dave', secret_key)) FROM keys WHERE name = 'alice';
SELECT pg_temp.try_auth(pg_temp.tok('carol'));

-- ------------------------------------------------ PUBLIC, and nothing else sets it
CREATE ROLE regress_tok_app;
CREATE ROLE regress_tok_bound;
SELECT ecl.bind_role('regress_tok_bound', current_setting('tok.bob'));
SELECT has_function_privilege('regress_tok_app', 'ecl.authenticate(text)', 'EXECUTE') AS app_may_authenticate,
	   has_function_privilege('regress_tok_app', 'ecl.sign_token(text, bytea, interval, text, text)', 'EXECUTE') AS app_may_sign,
	   has_table_privilege('regress_tok_app', 'ecl.identities', 'SELECT') AS app_reads_identities;
SELECT pg_temp.tok('alice') AS alice_token, pg_temp.tok('bob') AS bob_token,
	   ecl.sign_token('did:example:tok-dave', secret_key) AS dave_token
  FROM keys WHERE name = 'alice' \gset
SET ROLE regress_tok_app;
BEGIN;
SELECT ecl.authenticate(:'alice_token') = current_setting('tok.alice') AS app_authenticated;
SELECT ecl.current_did() = current_setting('tok.alice') AS app_is_alice;
COMMIT;
SELECT ecl.current_did() IS NULL AS app_has_no_binding;
SELECT pg_temp.try_auth(:'dave_token');
-- the settings that decide what a token proves are the superuser's
SET ecl.token_leeway = '10 years';
SET ecl.token_max_lifetime = '10 years';
SET ecl.token_audience = 'anything';
SET ecl.claims_setting = 'app.me';
SET ecl.authenticated_did = 'did:key:z6Mk';
RESET ROLE;
-- the resolution order: token, else trusted claim, else role binding
SET ROLE regress_tok_bound;
SELECT ecl.current_did() = current_setting('tok.bob') AS binding;
RESET ROLE;
SET ecl.claims_setting = 'request.jwt.claims';
SET request.jwt.claims = '{"role": "web", "sub": "did:example:from-claims"}';
SET ROLE regress_tok_bound;
SELECT ecl.current_did() AS claim_before_binding;
BEGIN;
SELECT ecl.authenticate(:'alice_token') = current_setting('tok.alice') AS authenticated;
SELECT ecl.current_did() = current_setting('tok.alice') AS token_before_claim;
COMMIT;
SELECT ecl.current_did() AS claim_again;
-- a claim without the field: the role binding
SET request.jwt.claims = '{"role": "web"}';
SELECT ecl.current_did() = current_setting('tok.bob') AS binding_without_claim;
SET request.jwt.claims = '';
SELECT ecl.current_did() = current_setting('tok.bob') AS binding_with_empty_claims;
RESET ROLE;
-- another field; a revoked DID in the claim is no identity (not the binding)
SET ecl.claims_did_field = 'did';
SET request.jwt.claims = '{"sub": "user-7", "did": "did:example:claimed"}';
SELECT ecl.current_did() AS claimed_did_field;
SET request.jwt.claims = '{"did": "did:example:tok-dave"}';
SET ROLE regress_tok_bound;
SELECT ecl.current_did() IS NULL AS revoked_claim_is_nobody;
RESET ROLE;
SET request.jwt.claims = '{"did": 42}';
SELECT ecl.current_did() IS NULL AS non_string_claim_ignored;
SET request.jwt.claims = 'not json';
SELECT ecl.current_did();
RESET request.jwt.claims;
RESET ecl.claims_did_field;
RESET ecl.claims_setting;

-- ------------------------------------------------ ecl.allowed behind RLS
SELECT ecl.register_policy('tok_owner_only', $ecl$
require input.owner == caller, "not yours"
return true
$ecl$) IS NOT NULL AS registered;
CREATE TABLE tok_notes (id int, owner_did text, body text);
INSERT INTO tok_notes SELECT 1, did, 'alice 1' FROM keys WHERE name = 'alice'
	UNION ALL SELECT 2, did, 'alice 2' FROM keys WHERE name = 'alice'
	UNION ALL SELECT 3, did, 'bob 1' FROM keys WHERE name = 'bob';
ALTER TABLE tok_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tok_notes_read ON tok_notes FOR SELECT
	USING (ecl.allowed('tok_owner_only', NULL, jsonb_build_object('owner', owner_did)));
GRANT SELECT ON tok_notes TO regress_tok_app;
SET ROLE regress_tok_app;
SELECT id, body FROM tok_notes ORDER BY id;
BEGIN;
SELECT ecl.authenticate(:'alice_token') IS NOT NULL AS authenticated;
SELECT id, body FROM tok_notes ORDER BY id;
COMMIT;
BEGIN;
SELECT ecl.authenticate(:'bob_token') IS NOT NULL AS authenticated;
SELECT id, body FROM tok_notes ORDER BY id;
COMMIT;
SELECT id, body FROM tok_notes ORDER BY id;
-- read, authenticate, read again in one statement: the caller memoized for
-- the first read is not the caller of the second
SELECT (SELECT count(*) FROM tok_notes) AS before_authenticate,
	   ecl.authenticate(:'bob_token') IS NOT NULL AS authenticated,
	   (SELECT string_agg(body, ',') FROM tok_notes) AS after_authenticate;
RESET ROLE;

-- ------------------------------------------------------------------ clean up
DROP TABLE tok_notes;
SELECT ecl.drop_policy('tok_owner_only');
SELECT ecl.unbind_role('regress_tok_bound');
DROP ROLE regress_tok_app;
DROP ROLE regress_tok_bound;
DELETE FROM ecl.identities WHERE did IN (SELECT did FROM keys)
	OR did LIKE 'did:example:tok-%';
