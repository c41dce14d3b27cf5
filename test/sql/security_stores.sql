--
-- Realm stores through ECL (docs/sql-api.md, "The table host"; docs/security.md): a run writes only its realm's
-- shared store and its caller's personal store, and reads only those.  No
-- store name, key, path or "personal" argument reaches another realm or
-- another DID's entries; roles without table privileges write nothing
-- directly; a role that is not an executor has no writing path at all
-- (ecl.allowed is read-only, ecl.eval of host code is refused), and reads
-- only as its own DID.
--
-- The model this checks: ecl_executor names the caller and realm of a run
-- (application servers act for their users, docs/security.md), so "its realm" and
-- "its own personal store" are the run's realm and the run's caller.
--
\set VERBOSITY terse

CREATE FUNCTION pg_temp.try(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE q INTO r;
	RETURN 'ok: ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

CREATE ROLE regress_store_admin IN ROLE ecl_admin;
CREATE ROLE regress_store_app IN ROLE ecl_executor;
CREATE ROLE regress_store_user;
INSERT INTO ecl.identities (did) VALUES ('did:regress:store-user'), ('did:regress:store-other');
SELECT ecl.bind_role('regress_store_user', 'did:regress:store-user');
INSERT INTO ecl.realms (realm_id) VALUES ('sec-a'), ('sec-b');
-- entries that runs in realm sec-a by did:regress:store-user must not touch
INSERT INTO ecl.store (realm_id, store_name, owner_did, key, value) VALUES
	('sec-a', 'notes', '', 'shared-key', '"a shared"'),
	('sec-a', 'notes', 'did:regress:store-other', 'secret', '"other''s secret"'),
	('sec-b', 'notes', '', 'b-key', '"b shared"'),
	('sec-b', 'notes', 'did:regress:store-user', 'b-personal', '"user in b"');
CREATE TEMP TABLE seeded AS SELECT realm_id, store_name, owner_did, key, value FROM ecl.store
	WHERE realm_id IN ('sec-a', 'sec-b');

SET ROLE regress_store_admin;
SELECT ecl.register_policy('sec_store_writer', $ecl$
policy sec_store_writer {
    // every key and store name from the input, shared and personal
    for k in keys {
        store_put(store, k, "shared " + k)
        store_put(store, k, "personal " + k, true)
    }
    store_put_nested(store, "nested", path, "deep")
    store_append_list(store, "list", caller)
    return [
        store_delete("notes", "secret", true),
        store_delete("notes", "secret"),
        store_delete("notes", "b-key"),
        store_delete("notes", "b-personal", true)
    ]
}
$ecl$) IS NOT NULL AS writer_registered;
SELECT ecl.register_policy('sec_store_reader', $ecl$
policy sec_store_reader {
    return {
        other_secret: store_get("notes", "secret", true),
        other_secret_shared: store_get("notes", "secret"),
        b_key: store_get("notes", "b-key"),
        b_personal: store_get("notes", "b-personal", true),
        own_key: store_get("notes", "shared-key"),
        keys: store_list_keys("notes"),
        personal_count: store_count("notes", true),
        shared_count: store_count("notes"),
        personal_exists: store_exists("notes", true)
    }
}
$ecl$) IS NOT NULL AS reader_registered;
SELECT ecl.register_policy('sec_store_has_own', $ecl$
policy sec_store_has_own { return store_get("notes", key, true) != null }
$ecl$) IS NOT NULL AS has_own_registered;
RESET ROLE;

-- ---------------------------------------------- an executor's runs
SET ROLE regress_store_app;
SELECT value AS deletes FROM ecl.run_policy('sec_store_writer', 'did:regress:store-user', 'sec-a',
	jsonb_build_object(
		'store', 'notes',
		'other', 'did:regress:store-other',
		'path', 'sec-b.notes.b-key',
		'keys', jsonb_build_array('k', '', 'sec-b', '../sec-b/notes', 'did:regress:store-other',
			'secret', 'b-key', '%', '_', E'\\', '''; DELETE FROM ecl.store; --',
			'sec-b' || chr(31) || 'notes', repeat('k', 100))));
SELECT value AS reads FROM ecl.run_policy('sec_store_reader', 'did:regress:store-user', 'sec-a');
-- store names that look like other realms or owners are just names
SELECT value AS deletes_elsewhere FROM ecl.run_policy('sec_store_writer', 'did:regress:store-user', 'sec-a',
	'{"store": "sec-b", "other": "did:regress:store-other", "path": "x", "keys": ["notes"]}');
-- "personal" is a flag, not an owner: a DID string there is a type error
SELECT pg_temp.try($$SELECT ecl.eval('store_put("notes", "k", 1, other)',
	'{"other": "did:regress:store-other"}', 'did:regress:store-user', 'sec-a')::text$$) AS personal_as_did;
-- a personal write needs a caller; the failed run keeps nothing
SELECT pg_temp.try($$SELECT value::text FROM ecl.run_policy('sec_store_writer', NULL, 'sec-a',
	'{"store": "nobody", "other": "x", "path": "x", "keys": ["k"]}')$$) AS personal_without_caller;
-- no direct writes
SELECT pg_temp.try($$INSERT INTO ecl.store (realm_id, store_name, key, value)
	VALUES ('sec-b', 'notes', 'forged', '1') RETURNING key$$) AS direct_insert;
SELECT pg_temp.try($$UPDATE ecl.store SET value = '"x"' RETURNING key$$) AS direct_update;
RESET ROLE;

-- every row written went to (sec-a, shared) or (sec-a, did:regress:store-user)
SELECT realm_id, owner_did, count(*) AS rows_written
  FROM ecl.store s
 WHERE realm_id IN ('sec-a', 'sec-b', '')
   AND NOT EXISTS (SELECT 1 FROM seeded d WHERE (d.realm_id, d.store_name, d.owner_did, d.key)
											   = (s.realm_id, s.store_name, s.owner_did, s.key))
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS rows_elsewhere FROM ecl.store
 WHERE realm_id NOT IN ('sec-a', 'sec-b') AND (store_name IN ('notes', 'sec-b', 'nobody') OR key = 'k');
-- the seeded entries of others are intact (one deleted: sec-a's own shared
-- "secret" did not exist, nor did sec-a's "b-key"; nothing of theirs is gone)
SELECT d.realm_id, d.owner_did, d.key, s.value IS NOT DISTINCT FROM d.value AS intact
  FROM seeded d LEFT JOIN ecl.store s USING (realm_id, store_name, owner_did, key)
 ORDER BY 1, 2, 3;
-- the personal values landed under the caller
SELECT key, value FROM ecl.store
 WHERE realm_id = 'sec-a' AND owner_did = 'did:regress:store-user' AND key IN ('k', 'secret', 'b-key')
 ORDER BY key;

-- ----------------------------------------- a role that is not an executor
SET ROLE regress_store_user;
SELECT pg_temp.try($$SELECT ecl.allowed('sec_store_writer', 'sec-a',
	'{"store": "notes", "other": "x", "path": "x", "keys": ["u"]}')::text$$) AS allowed_cannot_write;
SELECT pg_temp.try($$SELECT ecl.eval('store_put("notes", "u", 1)', '{}', 'did:regress:store-user', 'sec-a')$$)
	AS eval_cannot_write;
SELECT pg_temp.try($$SELECT ecl.run_policy('sec_store_writer', 'did:regress:store-user', 'sec-a')$$)
	AS run_policy_refused;
-- reads as its own DID only: its entry in sec-b, not the other DID's in sec-a
SELECT ecl.allowed('sec_store_has_own', 'sec-b', '{"key": "b-personal"}') AS sees_own_entry,
	   ecl.allowed('sec_store_has_own', 'sec-a', '{"key": "secret"}') AS sees_others_entry;
SELECT pg_temp.try($$SELECT count(*)::text FROM ecl.store$$) AS direct_read;
RESET ROLE;
SELECT count(*) AS written_by_user_role FROM ecl.store WHERE key = 'u';

-- clean up
SELECT ecl.drop_policy(name) FROM ecl.policies WHERE name LIKE 'sec\_store\_%' ORDER BY name;
DELETE FROM ecl.store WHERE realm_id IN ('sec-a', 'sec-b');
DELETE FROM ecl.realms WHERE realm_id IN ('sec-a', 'sec-b');
DELETE FROM ecl.identities WHERE did IN ('did:regress:store-user', 'did:regress:store-other');
DROP ROLE regress_store_admin, regress_store_app, regress_store_user;
DROP TABLE seeded;

SELECT 1 AS backend_alive;
