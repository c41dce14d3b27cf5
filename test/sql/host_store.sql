--
-- The table host's realm stores (docs/sql-api.md, "The table host"): shared vs personal entries,
-- realm isolation, nested get/put, append, list_keys with prefix and limit,
-- count, exists, delete, and what ends up in ecl.store.
--
\set VERBOSITY terse

INSERT INTO ecl.identities (did) VALUES ('did:regress:hs-alice'), ('did:regress:hs-bob');
INSERT INTO ecl.realms (realm_id) VALUES ('hs-realm'), ('hs-other');

-- a policy that runs the store operation named by the input
SELECT ecl.register_policy('hs_op', $ecl$
policy hs_op {
    if op == "put"     { return store_put(store, key, value) }
    if op == "put_p"   { return store_put(store, key, value, true) }
    if op == "get"     { return store_get(store, key) }
    if op == "get_p"   { return store_get(store, key, true) }
    if op == "delete"  { return store_delete(store, key) }
    if op == "delete_p" { return store_delete(store, key, true) }
    if op == "exists"  { return store_exists(store) }
    if op == "exists_p" { return store_exists(store, true) }
    if op == "count"   { return store_count(store) }
    if op == "count_p" { return store_count(store, true) }
    if op == "keys"    { return store_list_keys(store) }
    if op == "keys_prefix" { return store_list_keys(store, prefix) }
    if op == "keys_limit"  { return store_list_keys(store, prefix, limit) }
    if op == "get_nested"  { return store_get_nested(store, key, path) }
    if op == "put_nested"  { return store_put_nested(store, key, path, value) }
    if op == "append"  { return store_append_list(store, key, value) }
    return null
}
$ecl$) IS NOT NULL AS registered;

CREATE FUNCTION pg_temp.op(caller text, realm text, args jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT (ecl.run_policy('hs_op', caller, realm, args)).value $$;

-- ------------------------------------------------------- shared entries
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "put", "store": "cfg", "key": "limit", "value": 100}') AS put;
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "put", "store": "cfg", "key": "doc", "value": {"title": "T", "tags": ["a", "b"], "n": null}}') AS put_object;
-- another caller in the same realm sees the shared entry
SELECT pg_temp.op('did:regress:hs-bob', 'hs-realm', '{"op": "get", "store": "cfg", "key": "limit"}') AS bob_reads_shared;
SELECT pg_temp.op(NULL, 'hs-realm', '{"op": "get", "store": "cfg", "key": "doc"}') AS no_caller_reads_shared;
-- another realm does not
SELECT pg_temp.op('did:regress:hs-alice', 'hs-other', '{"op": "get", "store": "cfg", "key": "limit"}') AS other_realm;
-- an absent key is null
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "get", "store": "cfg", "key": "nope"}') AS absent;
-- put replaces
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "put", "store": "cfg", "key": "limit", "value": 250}') AS replace;
SELECT pg_temp.op('did:regress:hs-bob', 'hs-realm', '{"op": "get", "store": "cfg", "key": "limit"}') AS replaced;

-- ----------------------------------------------------- personal entries
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "put_p", "store": "prefs", "key": "theme", "value": "dark"}') AS alice_put;
SELECT pg_temp.op('did:regress:hs-bob', 'hs-realm',
				  '{"op": "put_p", "store": "prefs", "key": "theme", "value": "light"}') AS bob_put;
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "get_p", "store": "prefs", "key": "theme"}') AS alice_sees,
	   pg_temp.op('did:regress:hs-bob', 'hs-realm', '{"op": "get_p", "store": "prefs", "key": "theme"}') AS bob_sees,
	   pg_temp.op('did:regress:hs-bob', 'hs-realm', '{"op": "get", "store": "prefs", "key": "theme"}') AS shared_has_none;
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "count_p", "store": "prefs"}') AS alice_count,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "count", "store": "prefs"}') AS shared_count,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "exists_p", "store": "prefs"}') AS alice_exists,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "exists", "store": "prefs"}') AS shared_exists;
-- a personal store needs a caller: a host error (58000), not a silent null
SELECT pg_temp.op(NULL, 'hs-realm', '{"op": "get_p", "store": "prefs", "key": "theme"}');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.op(NULL, 'hs-realm', '{"op": "put_p", "store": "prefs", "key": "theme", "value": 1}');
\echo :LAST_ERROR_SQLSTATE

-- ----------------------------------------------------- nested and append
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "get_nested", "store": "cfg", "key": "doc", "path": "tags.1"}') AS nested_get,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "get_nested", "store": "cfg", "key": "doc", "path": ["title"]}') AS nested_get_array_path,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "get_nested", "store": "cfg", "key": "doc", "path": "missing.deeper"}') AS nested_absent;
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "put_nested", "store": "cfg", "key": "doc", "path": "meta.owner", "value": "alice"}') AS nested_put;
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "put_nested", "store": "cfg", "key": "fresh", "path": "a.b", "value": 1}') AS nested_put_new_entry;
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "append", "store": "log", "key": "entries", "value": "first"}') AS append1,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "append", "store": "log", "key": "entries", "value": {"n": 2}}') AS append2;
-- appending to a non-list is an error
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  '{"op": "append", "store": "cfg", "key": "limit", "value": 1}');
\echo :LAST_ERROR_SQLSTATE

SELECT key, value FROM ecl.store
 WHERE realm_id = 'hs-realm' AND store_name IN ('cfg', 'log') ORDER BY store_name, key;

-- ------------------------------------------------------------ list keys
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm',
				  jsonb_build_object('op', 'put', 'store', 'k', 'key', k, 'value', 1))
  FROM unnest(ARRAY['user:2', 'user:10', 'user:1', 'admin:1', 'User:3', 'zeta']) AS k;
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "keys", "store": "k"}') AS all_keys_bytewise,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "keys_prefix", "store": "k", "prefix": "user:"}') AS user_keys,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "keys_limit", "store": "k", "prefix": "user:", "limit": 2}') AS first_two,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "keys_limit", "store": "k", "prefix": null, "limit": 0}') AS none,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "keys_prefix", "store": "k", "prefix": "%"}') AS like_chars_are_literal,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "keys", "store": "empty"}') AS empty_store;
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "keys_limit", "store": "k", "prefix": null, "limit": -1}');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "count", "store": "k"}') AS count,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "exists", "store": "k"}') AS exists,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "exists", "store": "nothing"}') AS not_exists,
	   pg_temp.op('did:regress:hs-alice', 'hs-other', '{"op": "count", "store": "k"}') AS other_realm_count;

-- ---------------------------------------------------------------- delete
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "delete", "store": "k", "key": "zeta"}') AS deleted,
	   pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "delete", "store": "k", "key": "zeta"}') AS deleted_again;
SELECT pg_temp.op('did:regress:hs-bob', 'hs-realm', '{"op": "delete_p", "store": "prefs", "key": "theme"}') AS bob_deletes_own;
SELECT owner_did, key, value FROM ecl.store
 WHERE realm_id = 'hs-realm' AND store_name = 'prefs' ORDER BY owner_did;
SELECT pg_temp.op('did:regress:hs-alice', 'hs-realm', '{"op": "count", "store": "k"}') AS count_after_delete;

-- -------------------------------------- a run without a realm uses realm ''
SELECT pg_temp.op('did:regress:hs-alice', NULL, '{"op": "put", "store": "norealm", "key": "x", "value": true}');
SELECT realm_id = '' AS empty_realm, owner_did = '' AS shared FROM ecl.store WHERE store_name = 'norealm';

-- ----------------------------------------- writes and reads in one run see each other
SELECT ecl.register_policy('hs_counter', $ecl$
policy hs_counter {
    let n = store_get("counter", "n")
    if n == null { n = 0 }
    store_put("counter", "n", n + 1)
    store_put("counter", "n", store_get("counter", "n") + 1)
    return store_get("counter", "n")
}
$ecl$) IS NOT NULL AS registered;
SELECT (ecl.run_policy('hs_counter', NULL, 'hs-realm')).value AS first_run,
	   (ecl.run_policy('hs_counter', NULL, 'hs-realm')).value AS second_run;

-- ------------------------------------------------------------------ clean up
SELECT ecl.drop_policy('hs_op'), ecl.drop_policy('hs_counter');
DELETE FROM ecl.store WHERE realm_id IN ('hs-realm', 'hs-other')
   OR (realm_id = '' AND store_name = 'norealm');
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:hs-%';
DELETE FROM ecl.realms WHERE realm_id IN ('hs-realm', 'hs-other');
