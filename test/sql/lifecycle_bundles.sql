--
-- Signed bundles (docs/lifecycle.md, "Signed bundles"): export -> sign ->
-- import round trip (identical = unchanged, a changed policy updated, a
-- dropped one added again with its handler, a policy absent from the bundle
-- dropped); every refusal with its SQLSTATE: tampered fields (28000),
-- unsigned (28000), unknown and revoked signers (42501), a key that is not
-- the DID's (22023), a later bundle version (0A000), malformed bundles
-- (22023), a name of another realm (42710), read-only (25006); atomicity:
-- one policy that does not compile among good ones changes nothing;
-- privileges with real roles.
--
\set VERBOSITY terse

-- the SQLSTATE, message and detail of a statement, or 'ok'; the DIDs of
-- this run's fresh keys written as did:key:*
CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN regexp_replace(SQLSTATE || ' ' || SQLERRM || coalesce(nullif(' | ' || detail, ' | '), ''),
						  'did:key:z[1-9A-HJ-NP-Za-km-z]+', 'did:key:*', 'g');
END $$;

INSERT INTO ecl.realms (realm_id) VALUES ('bundle-realm'), ('bundle-other');

SELECT ecl.register_policy('bdl_limit', $ecl$
policy bdl_limit {
    require amount <= 100, "amount above 100"
    return amount * 2
}
$ecl$, 'transaction', 'bundle-realm') IS NOT NULL AS limit_registered;
-- a source with every character class the canonical form escapes or keeps
SELECT ecl.register_policy('bdl_text', E'policy bdl_text {\n\t// "quotes" \\ back\\slash, caf\u00e9, \u20ac, \U0001F600\n    return "a\\"b"\n}',
	'custom', 'bundle-realm') IS NOT NULL AS text_registered;
SELECT ecl.register_handler('api', 'bdl-ping', 'return {status: 200, body: "pong"}',
	'bundle-realm') IS NOT NULL AS handler_registered;
SELECT ecl.register_policy('bdl_elsewhere', 'return 1', 'custom', 'bundle-other') IS NOT NULL AS other_realm_policy;

-- ------------------------------------------------------------------ export
SELECT ecl.export_bundle('bundle-realm') AS bundle \gset
SELECT :'bundle'::jsonb - 'policies' AS envelope;
-- in the bundle's order: by name, byte order
SELECT n, p->>'name' AS name, p->>'kind' AS kind, p->>'realm' AS realm, p->'version' AS version,
	   p->>'hash' = encode(c.hash, 'hex') AS hash_is_current,
	   p->>'source' = c.source AS source_is_current
  FROM jsonb_array_elements(:'bundle'::jsonb -> 'policies') WITH ORDINALITY AS e(p, n)
  JOIN ecl.policies c ON c.name = p->>'name'
 ORDER BY n;
SELECT ecl.export_bundle('bundle-realm') = :'bundle'::jsonb AS export_is_deterministic;
SELECT pg_temp.refusal($$SELECT ecl.export_bundle('no-such-realm')$$) AS unknown_realm;
SELECT ecl.register_policy('bdl_global', 'return 1') IS NOT NULL AS realm_less_registered;
SELECT ecl.export_bundle(NULL) -> 'realm' AS null_realm,
	   jsonb_path_query_array(ecl.export_bundle(NULL), '$.policies[*] ? (@.name == "bdl_global").realm') AS realm_less_policy;
SELECT ecl.drop_policy('bdl_global');

-- -------------------------------------------------------------------- sign
SELECT did AS signer, secret_key AS signer_sk FROM ecl.generate_identity() \gset
SELECT did AS stranger, secret_key AS stranger_sk FROM ecl.generate_identity() \gset
SELECT ecl.sign_bundle(:'bundle', :'signer', :'signer_sk') AS signed \gset
SELECT :'signed'::jsonb - 'signature' = :'bundle'::jsonb AS only_signature_added,
	   :'signed'::jsonb #>> '{signature,signer}' = :'signer' AS signer_named,
	   :'signed'::jsonb #>> '{signature,value}' ~ '^[0-9a-f]{128}$' AS hex_signature;
-- Ed25519 is deterministic, and a signature already there is replaced
SELECT ecl.sign_bundle(:'signed', :'signer', :'signer_sk') = :'signed'::jsonb AS resign_same;
-- the key must be the DID's (22023)
SELECT pg_temp.refusal(format('SELECT ecl.sign_bundle(%L, %L, %L)', :'bundle', :'signer', :'stranger_sk')) AS wrong_key;
SELECT pg_temp.refusal(format('SELECT ecl.sign_bundle(%L, %L, %L)', :'bundle', 'did:web:example.com', :'signer_sk')) AS not_did_key;
SELECT pg_temp.refusal(format('SELECT ecl.sign_bundle(%L, %L, %L)', :'bundle', :'signer', '\x0102')) AS short_key;
SELECT pg_temp.refusal(format('SELECT ecl.sign_bundle(NULL, %L, %L)', :'signer', :'signer_sk')) AS null_bundle;

-- ---------------------------------------------------------- unknown signer
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)', :'signed')) AS unlisted_signer;
INSERT INTO ecl.bundle_signers (did, comment) VALUES (:'signer', 'CI');
SELECT added_by = session_user AS added_by_session_user, comment FROM ecl.bundle_signers;
-- only did:key DIDs can be listed
INSERT INTO ecl.bundle_signers (did) VALUES ('did:web:example.com');

-- ---------------------------------------------------------------- round trip
SELECT * FROM ecl.import_bundle(:'signed');
SELECT count(*) AS history_rows FROM ecl.policy_versions WHERE name LIKE 'bdl\_%' OR name LIKE 'api:bdl%';
-- after a drop: added again, as a new version, with its handler bound again
SELECT ecl.drop_policy('bdl_limit'), ecl.drop_handler('api', 'bdl-ping');
SELECT count(*) AS handlers_left FROM ecl.handlers WHERE key = 'bdl-ping';
SELECT * FROM ecl.import_bundle(:'signed');
SELECT engine, key, policy_name FROM ecl.handlers WHERE key = 'bdl-ping';
SELECT passed, value FROM ecl.run_api('bdl-ping', NULL, 'bundle-realm',
	'{"method": "GET", "path": "/", "params": {}, "body": null}');
SELECT passed, value FROM ecl.run_policy('bdl_limit', NULL, 'bundle-realm', '{"amount": 21}');
-- a changed policy is put back as a new version; one absent from the bundle is dropped
SELECT ecl.register_policy('bdl_limit', 'return 0', 'transaction', 'bundle-realm') IS NOT NULL AS changed;
SELECT ecl.register_policy('bdl_extra', 'return 1', 'custom', 'bundle-realm') IS NOT NULL AS extra;
SELECT * FROM ecl.import_bundle(:'signed');
SELECT name, version, source LIKE '%amount above 100%' AS bundle_source,
	   registered_by = session_user AS by_session_user
  FROM ecl.policy_versions WHERE name = 'bdl_limit' ORDER BY version;
SELECT count(*) AS extra_left FROM ecl.policies WHERE name = 'bdl_extra';
SELECT name FROM ecl.policies WHERE name = 'bdl_elsewhere';

-- the bundle's hash and version are what the exporter had: another hash
-- (another build) is no refusal but a NOTICE; null ones are accepted
SELECT * FROM ecl.import_bundle(ecl.sign_bundle(
	jsonb_set(:'bundle', '{policies,1,hash}', to_jsonb(repeat('0', 64))), :'signer', :'signer_sk'));
SELECT * FROM ecl.import_bundle(ecl.sign_bundle(
	jsonb_set(jsonb_set(:'bundle', '{policies,1,hash}', 'null'), '{policies,1,version}', 'null'),
	:'signer', :'signer_sk'));
-- the realm must exist, also for a bundle without policies (42704)
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)', ecl.sign_bundle(
	'{"format": "ecl-bundle", "bundle_version": 1, "realm": "no-such-realm", "policies": []}',
	:'signer', :'signer_sk'))) AS unknown_realm;

-- ------------------------------------------------------------------ tampered
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(:'signed', '{policies,0,source}', '"return 1000000"'))) AS tampered_source;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(:'signed', '{policies,1,kind}', '"privacy"'))) AS tampered_kind;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(:'signed', '{policies,1,version}', '99'))) AS tampered_version;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(:'signed', '{policies,1,hash}', to_jsonb(repeat('0', 64))))) AS tampered_hash;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(:'signed', '{policies,1,name}', '"bdl_renamed"'))) AS tampered_name;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(:'signed', '{policies}', (:'signed'::jsonb -> 'policies') - 0))) AS policy_removed;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(:'signed', '{policies}', (SELECT jsonb_agg(p ORDER BY p->>'name' DESC)
		FROM jsonb_array_elements(:'signed'::jsonb -> 'policies') p)))) AS policies_reordered;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(:'signed', '{signature,value}',
		to_jsonb(overlay(:'signed'::jsonb #>> '{signature,value}' placing '00' from 1 for 2))))) AS tampered_signature;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(:'signed', '{signature,value}', '"zz"'))) AS signature_not_hex;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)', :'bundle')) AS unsigned;
-- a listed signer's name on a stranger's signature
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	jsonb_set(ecl.sign_bundle(:'bundle', :'stranger', :'stranger_sk'), '{signature,signer}', to_jsonb(:'signer'::text)))) AS signer_swapped;
-- a stranger's own signature
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	ecl.sign_bundle(:'bundle', :'stranger', :'stranger_sk'))) AS unknown_signer;

-- ---------------------------------------------------------------- malformed
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)', b::jsonb)) AS refusal
  FROM (VALUES
	('[]'),
	('{"format": "other", "bundle_version": 1}'),
	('{"format": "ecl-bundle", "bundle_version": 2, "realm": null, "policies": []}'),
	('{"format": "ecl-bundle", "bundle_version": 1.0, "realm": null, "policies": []}'),
	('{"format": "ecl-bundle", "bundle_version": 1, "policies": []}'),
	('{"format": "ecl-bundle", "bundle_version": 1, "realm": null, "policies": {}}'),
	('{"format": "ecl-bundle", "bundle_version": 1, "realm": null, "policies": [], "extra": 1}'),
	('{"format": "ecl-bundle", "bundle_version": 1, "realm": null, "policies": [1]}'),
	('{"format": "ecl-bundle", "bundle_version": 1, "realm": "r", "policies": [{"name": "a", "kind": "custom", "realm": "s", "source": "return 1", "hash": "' || repeat('0', 64) || '", "version": 1}]}'),
	('{"format": "ecl-bundle", "bundle_version": 1, "realm": null, "policies": [{"name": "a", "kind": "custom", "realm": null, "source": "return 1", "hash": "' || repeat('0', 64) || '", "version": 1.5}]}'),
	('{"format": "ecl-bundle", "bundle_version": 1, "realm": null, "policies": [{"name": "a", "kind": "custom", "realm": null, "source": "return 1", "hash": "' || repeat('0', 64) || '", "version": 1}, {"name": "a", "kind": "custom", "realm": null, "source": "return 1", "hash": "' || repeat('0', 64) || '", "version": 1}]}'),
	('{"format": "ecl-bundle", "bundle_version": 1, "realm": null, "policies": [], "signature": "x"}')
  ) AS t(b);

-- ----------------------------------------------------- atomic: all or nothing
CREATE TEMP TABLE before AS
	SELECT name, version, hash FROM ecl.policies WHERE realm_id = 'bundle-realm';
SELECT count(*) AS history_before FROM ecl.policy_versions \gset
-- good changes first, then one policy that does not compile
SELECT jsonb_set(jsonb_set(:'bundle', '{policies,0,source}', '"return 7"'),
	'{policies}', (jsonb_set(:'bundle', '{policies,0,source}', '"return 7"') -> 'policies') ||
	jsonb_build_array(jsonb_build_object('name', 'bdl_broken', 'kind', 'custom', 'realm', 'bundle-realm',
		'source', 'policy bdl_broken { return }', 'hash', repeat('0', 64), 'version', 1))) AS bad \gset
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	ecl.sign_bundle(:'bad', :'signer', :'signer_sk'))) AS one_bad_policy;
SELECT (SELECT count(*) FROM ecl.policy_versions) - :history_before AS new_history_rows,
	   (SELECT count(*) FROM ecl.policies p JOIN before b USING (name, version, hash)
		 WHERE p.realm_id = 'bundle-realm') AS unchanged_policies,
	   (SELECT count(*) FROM before) AS policies_before,
	   (SELECT count(*) FROM ecl.policies WHERE name = 'bdl_broken') AS broken_stored;

-- a bundle does not take a policy from another realm (42710)
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)',
	ecl.sign_bundle(jsonb_set(:'bundle', '{policies}', (:'bundle'::jsonb -> 'policies') ||
		jsonb_build_array(jsonb_build_object('name', 'bdl_elsewhere', 'kind', 'custom', 'realm', 'bundle-realm',
			'source', 'return 2', 'hash', repeat('0', 64), 'version', 1))),
		:'signer', :'signer_sk'))) AS other_realm_name;
SELECT realm_id, version FROM ecl.policies WHERE name = 'bdl_elsewhere';

-- read-only transactions (a hot standby) import nothing (25006)
BEGIN READ ONLY;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)', :'signed')) AS read_only;
ROLLBACK;
-- while exporting and signing only read
SELECT ecl.export_bundle('bundle-realm') AS current \gset
BEGIN READ ONLY;
SELECT ecl.sign_bundle(ecl.export_bundle('bundle-realm'), :'signer', :'signer_sk')
	= ecl.sign_bundle(:'current', :'signer', :'signer_sk') AS export_and_sign_read_only;
ROLLBACK;

-- ------------------------------------------------------------ revoked signer
UPDATE ecl.identities SET revoked = true WHERE did = :'signer';
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)', :'signed')) AS revoked_signer;
UPDATE ecl.identities SET revoked = false WHERE did = :'signer';
-- removed from the list: unknown again
DELETE FROM ecl.bundle_signers WHERE did = :'signer';
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)', :'signed')) AS removed_signer;
INSERT INTO ecl.bundle_signers (did) VALUES (:'signer');

-- ---------------------------------------------------------------- privileges
CREATE ROLE regress_bundle_admin IN ROLE ecl_admin;
CREATE ROLE regress_bundle_user;
GRANT regress_bundle_user TO regress_bundle_admin;
SET ROLE regress_bundle_user;
SELECT pg_temp.refusal($$SELECT ecl.export_bundle('bundle-realm')$$) AS user_export;
SELECT pg_temp.refusal(format('SELECT * FROM ecl.import_bundle(%L)', :'signed')) AS user_import;
SELECT pg_temp.refusal(format('INSERT INTO ecl.bundle_signers (did) VALUES (%L)', :'stranger')) AS user_adds_signer;
SELECT pg_temp.refusal('SELECT * FROM ecl.bundle_signers') AS user_reads_signers;
-- signing needs nothing but the key
SELECT ecl.sign_bundle(:'bundle', :'signer', :'signer_sk') = :'signed'::jsonb AS user_signs;
SET ROLE regress_bundle_admin;
SELECT count(*) AS admin_reads_signers FROM ecl.bundle_signers;
SELECT jsonb_array_length(ecl.export_bundle('bundle-realm') -> 'policies') AS admin_exports;
SELECT action, count(*) FROM ecl.import_bundle(:'signed') GROUP BY action;
INSERT INTO ecl.bundle_signers (did, comment) VALUES (:'stranger', 'second');
DELETE FROM ecl.bundle_signers WHERE did = :'stranger';
RESET ROLE;

-- clean up
SELECT ecl.drop_handler('api', 'bdl-ping');
SELECT ecl.drop_policy(name) FROM ecl.policies WHERE realm_id IN ('bundle-realm', 'bundle-other') ORDER BY name;
DELETE FROM ecl.policy_versions WHERE name LIKE 'bdl\_%' OR name = 'api:bdl-ping';
DELETE FROM ecl.bundle_signers;
DELETE FROM ecl.identities WHERE did IN (:'signer', :'stranger');
DELETE FROM ecl.realms WHERE realm_id IN ('bundle-realm', 'bundle-other');
DROP ROLE regress_bundle_admin, regress_bundle_user;
