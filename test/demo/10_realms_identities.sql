-- Demo chapter 10: realms, identities with Ed25519 keys, a signed
-- credential, and trust.
\pset footer off

\echo
\echo '######## Realms, identities, credentials and trust'
\echo
\echo '=== 1. Realms are the spaces a DID can be in. A public "market", and a "vault" that'
\echo '       asks for average trust >= 0.5 and a "kyc" credential at the door.'
INSERT INTO ecl.realms (realm_id, name, min_trust, required_credentials) VALUES
    ('market', 'Public market', 0,   '{}'),
    ('vault',  'Guarded vault', 0.5, '{kyc}');
SELECT realm_id, name, min_trust, required_credentials FROM ecl.realms ORDER BY realm_id;

\echo
\echo '=== 2. ecl.generate_identity() makes an Ed25519 key pair, derives the did:key that'
\echo '       encodes the public key, and registers it. We keep the DIDs in a small table.'
CREATE TABLE people (name text PRIMARY KEY, did text NOT NULL UNIQUE);
INSERT INTO people (name, did)
    SELECT n, (ecl.generate_identity()).did FROM unnest(ARRAY['alice', 'bob']) AS n;
-- the issuer's secret key lives only in this session's temporary table
CREATE TEMP TABLE issuer_key AS SELECT did, secret_key FROM ecl.generate_identity();
INSERT INTO people SELECT 'issuer', did FROM issuer_key;
SELECT p.name, p.did, octet_length(i.public_key) AS public_key_bytes,
       ecl.did_key_public_key(p.did) = i.public_key AS did_encodes_the_key
  FROM people p JOIN ecl.identities i USING (did) ORDER BY p.name;

\echo
\echo '=== 3. The issuer signs a "kyc" credential for alice (Ed25519 over subject, schema,'
\echo '       issuer and validity). Host lookups verify the signature every time.'
SELECT ecl.issue_credential((SELECT did FROM people WHERE name = 'alice'), 'kyc',
                            k.did, k.secret_key, now() + interval '1 year') AS credential_id
  FROM issuer_key k;
SELECT c.id, p.name AS subject, c.schema, i.name AS issuer,
       octet_length(c.signature) AS signature_bytes, ecl.verify_credential(c.id) AS signature_verifies
  FROM ecl.credentials c JOIN people p ON p.did = c.subject_did JOIN people i ON i.did = c.issuer_did;

\echo
\echo '=== 4. A forged credential for bob (a made-up signature) counts as absent.'
INSERT INTO ecl.credentials (subject_did, schema, issuer_did, signature)
    SELECT b.did, 'kyc', k.did, decode(repeat('ab', 64), 'hex')
      FROM people b, issuer_key k WHERE b.name = 'bob';
SELECT name, ecl.has_credential(did, 'kyc') AS has_valid_kyc
  FROM people WHERE name IN ('alice', 'bob') ORDER BY name;

\echo
\echo '=== 5. Trust: six dimensions in [0,1] (R reliability, I integrity, C competence,'
\echo '       P prestige, V vigilance, Omega), per realm, with a global row (realm '''') as fallback.'
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega)
    SELECT did, '', 0.9, 0.8, 0.8, 0.6, 0.7, 0.5 FROM people WHERE name = 'alice'
    UNION ALL
    SELECT did, '', 0.4, 0.5, 0.3, 0.2, 0.4, 0.3 FROM people WHERE name = 'bob'
    UNION ALL
    SELECT did, 'market', 0.7, 0.6, 0.5, 0.4, 0.5, 0.4 FROM people WHERE name = 'bob';
SELECT p.name, CASE WHEN t.realm_id = '' THEN '(global)' ELSE t.realm_id END AS realm,
       t.r, t.i, t.c, t.p, t.v, t.omega
  FROM ecl.trust t JOIN people p USING (did) ORDER BY p.name, t.realm_id;
\echo 'A policy sees the realm row when there is one, else the global row:'
SELECT name,
       ecl.eval('return trust.r', '{}', did, 'market') AS r_in_market,
       ecl.eval('return trust.r', '{}', did, 'vault') AS r_in_vault
  FROM people WHERE name IN ('alice', 'bob') ORDER BY name;
