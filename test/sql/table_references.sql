-- References between ecl's tables are kept by triggers, not foreign keys
-- (so that pg_restore -j can load the tables in any order): what the
-- foreign keys did — refuse a missing key (23503), cascade deletes, set a
-- deleted issuer to NULL, rename a policy's handlers, refuse changing a
-- referenced key — and the one exception, a forward reference while
-- check_function_bodies is off, as during a restore.
\set VERBOSITY default
INSERT INTO ecl.identities (did) VALUES ('did:web:ref-a.example'), ('did:web:ref-b.example');
INSERT INTO ecl.realms (realm_id) VALUES ('ref-realm');

-- a missing key is refused, with the key in the detail
INSERT INTO ecl.trust (did) VALUES ('did:web:ref-missing.example');
INSERT INTO ecl.credentials (subject_did, schema, issuer_did)
	VALUES ('did:web:ref-a.example', 'x', 'did:web:ref-missing.example');
-- ... also when an UPDATE points a row elsewhere
INSERT INTO ecl.balances (did, amount) VALUES ('did:web:ref-a.example', 1);
UPDATE ecl.balances SET did = 'did:web:ref-missing.example' WHERE did = 'did:web:ref-a.example';
\set VERBOSITY terse

-- a key still referenced cannot change; an unreferenced one can
UPDATE ecl.identities SET did = 'did:web:ref-renamed.example' WHERE did = 'did:web:ref-a.example';
UPDATE ecl.identities SET did = 'did:web:ref-c.example' WHERE did = 'did:web:ref-b.example';
INSERT INTO ecl.realm_members (did, realm_id) VALUES ('did:web:ref-a.example', 'ref-realm');
UPDATE ecl.realms SET realm_id = 'ref-realm-2' WHERE realm_id = 'ref-realm';

-- deleting an issuer keeps its credentials, unverifiable (issuer NULL)
INSERT INTO ecl.credentials (subject_did, schema, issuer_did)
	VALUES ('did:web:ref-a.example', 'issued', 'did:web:ref-c.example');
DELETE FROM ecl.identities WHERE did = 'did:web:ref-c.example';
SELECT schema, issuer_did FROM ecl.credentials WHERE subject_did = 'did:web:ref-a.example';

-- deleting a realm removes its memberships
DELETE FROM ecl.realms WHERE realm_id = 'ref-realm';
SELECT count(*) AS members_left FROM ecl.realm_members WHERE realm_id = 'ref-realm';

-- renaming a policy renames it in its handlers (ON UPDATE CASCADE)
SELECT ecl.register_handler('ui', 'ref-widget', 'policy w { return true }') IS NOT NULL AS registered;
UPDATE ecl.policies SET name = 'ui:ref-widget-renamed' WHERE name = 'ui:ref-widget';
SELECT engine, key, policy_name FROM ecl.handlers WHERE key = 'ref-widget';
DELETE FROM ecl.policies WHERE name = 'ui:ref-widget-renamed';
SELECT count(*) AS handlers_left FROM ecl.handlers WHERE key = 'ref-widget';

-- TRUNCATE of a referenced table takes the referencing rows along
BEGIN;
TRUNCATE ecl.identities;
SELECT (SELECT count(*) FROM ecl.trust) AS trust, (SELECT count(*) FROM ecl.credentials) AS credentials,
	   (SELECT count(*) FROM ecl.balances) AS balances, (SELECT count(*) FROM ecl.role_dids) AS role_dids,
	   (SELECT count(*) FROM ecl.realm_members) AS members;
ROLLBACK;

-- what a restore does: rows that refer ahead load while
-- check_function_bodies is off (pg_dump and pg_restore set it), in any
-- order; the same statements are refused with the setting on
BEGIN;
SET LOCAL check_function_bodies = off;
INSERT INTO ecl.trust (did) VALUES ('did:web:ref-later.example');
INSERT INTO ecl.handlers (engine, key, policy_name) VALUES ('ui', 'ref-later', 'ui:ref-later');
INSERT INTO ecl.identities (did) VALUES ('did:web:ref-later.example');
SELECT count(*) AS loaded FROM ecl.trust WHERE did = 'did:web:ref-later.example';
ROLLBACK;
INSERT INTO ecl.handlers (engine, key, policy_name) VALUES ('ui', 'ref-later', 'ui:ref-later');

-- an ecl_admin deleting an identity also removes its role binding
CREATE ROLE regress_ref_admin IN ROLE ecl_admin;
INSERT INTO ecl.identities (did) VALUES ('did:web:ref-d.example');
SELECT ecl.bind_role('regress_ref_admin', 'did:web:ref-d.example');
SET ROLE regress_ref_admin;
DELETE FROM ecl.identities WHERE did = 'did:web:ref-d.example';
RESET ROLE;
SELECT count(*) AS binding_left FROM ecl.role_dids WHERE did = 'did:web:ref-d.example';
DROP ROLE regress_ref_admin;

-- clean up
DELETE FROM ecl.identities WHERE did LIKE 'did:web:ref-%';
DELETE FROM ecl.realms WHERE realm_id LIKE 'ref-realm%';
