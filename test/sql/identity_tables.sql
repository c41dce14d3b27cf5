--
-- The data model's constraints (docs/sql-api.md, "The table host"): trust in [0,1], realm settings,
-- policy kinds, handler engines, cascades.
--
\set VERBOSITY terse

INSERT INTO ecl.identities (did) VALUES ('did:web:tables.example'), ('did:web:other.example');

-- trust: every dimension in [0, 1]; NaN is out of range too
INSERT INTO ecl.trust (did, r, i, c, p, v, omega)
	VALUES ('did:web:tables.example', 0, 0.25, 0.5, 0.75, 1, 1);
INSERT INTO ecl.trust (did, realm_id, r) VALUES ('did:web:tables.example', 'r1', 1.5);
INSERT INTO ecl.trust (did, realm_id, i) VALUES ('did:web:tables.example', 'r1', -0.1);
INSERT INTO ecl.trust (did, realm_id, c) VALUES ('did:web:tables.example', 'r1', 'NaN');
INSERT INTO ecl.trust (did, realm_id, omega) VALUES ('did:web:tables.example', 'r1', 'Infinity');
UPDATE ecl.trust SET p = 1.0000001 WHERE did = 'did:web:tables.example';
-- one row per (did, realm); '' is the global row and the default
INSERT INTO ecl.trust (did, r) VALUES ('did:web:tables.example', 0.5);
INSERT INTO ecl.trust (did, realm_id, r) VALUES ('did:web:tables.example', 'r1', 0.9);
SELECT realm_id, r, i, c, p, v, omega FROM ecl.trust
 WHERE did = 'did:web:tables.example' ORDER BY realm_id;
-- trust needs a registered identity
INSERT INTO ecl.trust (did) VALUES ('did:web:unregistered.example');

-- balances: finite amounts of registered identities
INSERT INTO ecl.balances (did, amount) VALUES ('did:web:tables.example', 100.5);
INSERT INTO ecl.balances (did, amount) VALUES ('did:web:other.example', 'Infinity');
INSERT INTO ecl.balances (did, amount) VALUES ('did:web:other.example', 'NaN');
INSERT INTO ecl.balances (did) VALUES ('did:web:unregistered.example');

-- realms: min_trust in [0, 1]; dampening has six factors in [0, 1]
INSERT INTO ecl.realms (realm_id, name) VALUES ('tables-realm', 'Tables');
SELECT min_trust, required_credentials, required_rules, entry_policy, dampening
  FROM ecl.realms WHERE realm_id = 'tables-realm';
UPDATE ecl.realms SET min_trust = 1.2 WHERE realm_id = 'tables-realm';
UPDATE ecl.realms SET dampening = '{0.5,0.5,0.5,0.5,0.5}' WHERE realm_id = 'tables-realm';
UPDATE ecl.realms SET dampening = '{0.5,0.5,0.5,0.5,0.5,1.5}' WHERE realm_id = 'tables-realm';
UPDATE ecl.realms SET dampening = '{0.5,0.5,0.5,0.5,0.5,NULL}' WHERE realm_id = 'tables-realm';
UPDATE ecl.realms SET dampening = '{{0.5,0.5,0.5},{0.5,0.5,0.5}}' WHERE realm_id = 'tables-realm';
UPDATE ecl.realms SET dampening = '{0.56,0.63,0.28,0.21,1,1}' WHERE realm_id = 'tables-realm';
SELECT dampening FROM ecl.realms WHERE realm_id = 'tables-realm';
INSERT INTO ecl.realms (realm_id) VALUES ('');

-- realm membership follows identities and realms
INSERT INTO ecl.realm_members (did, realm_id) VALUES ('did:web:tables.example', 'tables-realm');
INSERT INTO ecl.realm_members (did, realm_id) VALUES ('did:web:tables.example', 'no-such-realm');

-- policies: the kinds of docs/sql-api.md, "Registered policies"; handlers: the engines of docs/engines.md
INSERT INTO ecl.policies (name, kind, source, bytecode, hash)
	VALUES ('tables-policy', 'crossing', 'return true', '\x00', '\x00');
INSERT INTO ecl.policies (name, kind, source, bytecode, hash)
	VALUES ('tables-bad-kind', 'bogus', 'return true', '\x00', '\x00');
SELECT kind, version FROM ecl.policies WHERE name = 'tables-policy';
INSERT INTO ecl.handlers (engine, key, policy_name) VALUES ('api', 'GET /tables', 'tables-policy');
INSERT INTO ecl.handlers (engine, key, policy_name) VALUES ('sql', 'x', 'tables-policy');
INSERT INTO ecl.handlers (engine, key, policy_name) VALUES ('ui', 'x', 'no-such-policy');
-- dropping a policy drops its handlers
DELETE FROM ecl.policies WHERE name = 'tables-policy';
SELECT count(*) AS handlers_left FROM ecl.handlers WHERE key = 'GET /tables';

-- credentials: a schema is required; signatures are 64 bytes
INSERT INTO ecl.credentials (subject_did, schema) VALUES ('did:web:tables.example', '');
INSERT INTO ecl.credentials (subject_did, schema, signature)
	VALUES ('did:web:tables.example', 'kyc', '\x0102');

-- role bindings need an identity
INSERT INTO ecl.role_dids (role_name, did) VALUES ('regress_nobody', 'did:web:unregistered.example');

-- deleting an identity removes its trust, balance, memberships and credentials
INSERT INTO ecl.credentials (subject_did, schema) VALUES ('did:web:tables.example', 'kyc');
DELETE FROM ecl.identities WHERE did = 'did:web:tables.example';
SELECT (SELECT count(*) FROM ecl.trust WHERE did = 'did:web:tables.example') AS trust,
	   (SELECT count(*) FROM ecl.balances WHERE did = 'did:web:tables.example') AS balances,
	   (SELECT count(*) FROM ecl.realm_members WHERE did = 'did:web:tables.example') AS members,
	   (SELECT count(*) FROM ecl.credentials WHERE subject_did = 'did:web:tables.example') AS credentials;

-- pg_dump keeps the user data of these tables
SELECT t.name, t.name::regclass::oid = ANY (e.extconfig) AS dumped
  FROM pg_catalog.pg_extension e,
	   (VALUES ('ecl.identities'), ('ecl.trust'), ('ecl.credentials'),
			   ('ecl.balances'), ('ecl.realms'), ('ecl.realm_members'),
			   ('ecl.policies'), ('ecl.handlers'), ('ecl.store'), ('ecl.events'),
			   ('ecl.role_dids'), ('ecl.credentials_id_seq'), ('ecl.events_id_seq'))
	   AS t(name)
 WHERE e.extname = 'ecl';

-- clean up
DELETE FROM ecl.realms WHERE realm_id = 'tables-realm';
DELETE FROM ecl.identities WHERE did = 'did:web:other.example';
