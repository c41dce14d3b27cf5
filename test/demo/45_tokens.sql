-- Demo chapter 45: the caller named by a signed token, for one application
-- role behind a connection pool.
\pset footer off

\echo
\echo '######## The caller from a signed token (pooled connections)'
\echo
\echo '=== 1. One application role with no DID of its own, allowed to read the notes.'
CREATE ROLE demo_app;
GRANT SELECT ON notes, people TO demo_app;
SET ROLE demo_app;
SELECT ecl.current_did() AS app_role_caller, count(*) AS notes_visible FROM notes;
RESET ROLE;

\echo
\echo '=== 2. Erin, a new user, holds a did:key; she owns one note. She signs a token with'
\echo '       her own key (any JWT library can: alg EdDSA); here ecl.sign_token.'
CREATE TEMP TABLE erin_key AS SELECT did, secret_key FROM ecl.generate_identity();
INSERT INTO people SELECT 'erin', did FROM erin_key;
INSERT INTO notes SELECT 5, did, 'Erin: my first note', 0.5 FROM erin_key;
SELECT ecl.sign_token(did, secret_key, '5 minutes') AS erin_token FROM erin_key \gset
SELECT split_part(:'erin_token', '.', 1) AS header_b64, length(:'erin_token') AS token_length;

\echo
\echo '=== 3. In one transaction the app authenticates Erin and reads: her view of the notes.'
SET ROLE demo_app;
BEGIN;
SELECT p.name AS authenticated_as FROM people p WHERE p.did = ecl.authenticate(:'erin_token');
SELECT n.id, p.name AS owner, n.body FROM notes n JOIN people p ON p.did = n.owner_did ORDER BY n.id;
COMMIT;

\echo
\echo '=== 4. After COMMIT the identity is gone: the next request (maybe another user''s'
\echo '       on the same pooled connection) starts with no caller.'
SELECT ecl.current_did() AS caller_after_commit, count(*) AS notes_visible FROM notes;

\echo
\echo '=== 5. A tampered token is refused with SQLSTATE 28000.'
\set VERBOSITY default
\set ON_ERROR_STOP 0
SELECT ecl.authenticate(left(:'erin_token', -4) || 'AAAA');
\set ON_ERROR_STOP 1
RESET ROLE;
