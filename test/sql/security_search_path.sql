--
-- SECURITY DEFINER functions, and the C functions that run SQL as the
-- owner of schema ecl, cannot be hijacked through the caller's search_path
-- (docs/security.md).  An ecl_admin member owns a schema first on its search_path
-- that shadows everything the extension's code could name without a schema:
-- tables of the same names (with rows that would change the answers),
-- operators = on text, name, bigint and bytea that are always true, and
-- functions of pg_catalog's and ecl's names.  Each shadow records when it
-- is called.  Temporary tables of the same names shadow again through
-- pg_temp, which the pinned search_path ("pg_catalog, pg_temp") still
-- searches for relations.  The extension's functions must give the right
-- answers, touch none of the shadows, and the shadow log must stay empty.
--
\set VERBOSITY terse

CREATE ROLE regress_hijacker IN ROLE ecl_admin;
CREATE SCHEMA regress_hijack AUTHORIZATION regress_hijacker;
-- ecl_admin may create realms and identities; the victim rows live there
INSERT INTO ecl.realms (realm_id) VALUES ('hijack-realm');

SET ROLE regress_hijacker;
CREATE TABLE regress_hijack.calls (what text);
GRANT ALL ON regress_hijack.calls TO PUBLIC;

-- a logging "always true" for each operator the code may compare with
CREATE FUNCTION regress_hijack.yes_text(text, text) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('= text'); SELECT true $$;
CREATE FUNCTION regress_hijack.yes_name(name, name) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('= name'); SELECT true $$;
CREATE FUNCTION regress_hijack.yes_name_text(name, text) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('= name text'); SELECT true $$;
CREATE FUNCTION regress_hijack.yes_int8(bigint, bigint) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('= bigint'); SELECT true $$;
CREATE FUNCTION regress_hijack.yes_bytea(bytea, bytea) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('= bytea'); SELECT true $$;
CREATE OPERATOR regress_hijack.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_hijack.yes_text);
CREATE OPERATOR regress_hijack.= (LEFTARG = name, RIGHTARG = name, FUNCTION = regress_hijack.yes_name);
CREATE OPERATOR regress_hijack.= (LEFTARG = name, RIGHTARG = text, FUNCTION = regress_hijack.yes_name_text);
CREATE OPERATOR regress_hijack.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = regress_hijack.yes_int8);
CREATE OPERATOR regress_hijack.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = regress_hijack.yes_bytea);
CREATE FUNCTION regress_hijack.yes_int4(integer, integer) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('= integer'); SELECT true $$;
CREATE OPERATOR regress_hijack.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = regress_hijack.yes_int4);
CREATE FUNCTION regress_hijack.yes_concat(text, text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('|| text'); SELECT 'hijacked' $$;
CREATE OPERATOR regress_hijack.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_hijack.yes_concat);

-- functions with the names of pg_catalog's and ecl's
CREATE FUNCTION regress_hijack.format(text, VARIADIC text[]) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('format'); SELECT 'hijacked' $$;
CREATE FUNCTION regress_hijack.now() RETURNS timestamptz LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('now'); SELECT 'epoch'::timestamptz $$;
CREATE FUNCTION regress_hijack.coalesce_text(text, text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('coalesce_text'); SELECT $1 $$;
CREATE FUNCTION regress_hijack.register_policy(text, text, text, text) RETURNS bytea LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('register_policy'); SELECT '\x00'::bytea $$;
CREATE FUNCTION regress_hijack.drop_policy(text) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('drop_policy'); SELECT true $$;
CREATE FUNCTION regress_hijack.did_key_public_key(text) RETURNS bytea LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('did_key_public_key'); SELECT NULL::bytea $$;
CREATE FUNCTION regress_hijack.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('jsonb_typeof'); SELECT 'array' $$;
CREATE FUNCTION regress_hijack.pg_notify(text, text) RETURNS void LANGUAGE sql
	AS $$ INSERT INTO regress_hijack.calls VALUES ('pg_notify') $$;

-- tables with the names of ecl's, holding rows that would change answers
CREATE TABLE regress_hijack.identities (did text, public_key bytea, revoked boolean, created_at timestamptz);
CREATE TABLE regress_hijack.role_dids (role_name name, did text);
CREATE TABLE regress_hijack.trust (did text, realm_id text, r float8, i float8, c float8, p float8, v float8, omega float8);
CREATE TABLE regress_hijack.credentials (id bigint, subject_did text, schema text, issuer_did text,
	issued_at timestamptz, expires_at timestamptz, revoked_at timestamptz, signature bytea);
CREATE TABLE regress_hijack.realms (realm_id text, name text, min_trust float8, required_credentials text[],
	required_rules text[], entry_policy text, dampening float8[], created_at timestamptz);
CREATE TABLE regress_hijack.policies (name text, kind text, realm_id text, source text, bytecode bytea,
	hash bytea, version int, created_at timestamptz, updated_at timestamptz);
CREATE TABLE regress_hijack.handlers (engine text, key text, policy_name text);
CREATE TABLE regress_hijack.policy_versions (name text, version int, kind text, realm_id text,
	source text, hash bytea, registered_by name, registered_at timestamptz);
INSERT INTO regress_hijack.policy_versions VALUES
	('hijack_probe', 1, 'custom', NULL, 'return "hijacked"', '\x00', 'x', now());
CREATE TABLE regress_hijack.bundle_signers (did text, added_by name, added_at timestamptz, comment text);
CREATE TABLE regress_hijack.store (realm_id text, store_name text, owner_did text, key text, value jsonb,
	updated_at timestamptz);
INSERT INTO regress_hijack.role_dids VALUES ('regress_hijacker', 'did:regress:hijacked');
INSERT INTO regress_hijack.identities VALUES ('did:regress:hijacked', NULL, false, now());
INSERT INTO regress_hijack.trust VALUES ('did:regress:hijack-victim', 'hijack-realm', 1, 1, 1, 1, 1, 1);
INSERT INTO regress_hijack.credentials VALUES (900000000001, 'did:regress:hijack-victim', 'kyc', NULL, now(), NULL, NULL, NULL);
INSERT INTO regress_hijack.realms VALUES ('hijack-evil-realm', NULL, 0, '{}', '{}', NULL, NULL, now());
INSERT INTO regress_hijack.store VALUES ('hijack-realm', 'st', '', 'k', '"hijacked"', now());
-- and the same through pg_temp
CREATE TEMP TABLE identities (LIKE regress_hijack.identities);
CREATE TEMP TABLE role_dids (LIKE regress_hijack.role_dids);
CREATE TEMP TABLE trust (LIKE regress_hijack.trust);
CREATE TEMP TABLE credentials (LIKE regress_hijack.credentials);
CREATE TEMP TABLE realms (LIKE regress_hijack.realms);
CREATE TEMP TABLE policies (LIKE regress_hijack.policies);
CREATE TEMP TABLE handlers (LIKE regress_hijack.handlers);
CREATE TEMP TABLE store (LIKE regress_hijack.store);
CREATE TEMP TABLE bundle_signers (LIKE regress_hijack.bundle_signers);
INSERT INTO pg_temp.role_dids SELECT * FROM regress_hijack.role_dids;
INSERT INTO pg_temp.identities SELECT * FROM regress_hijack.identities;
INSERT INTO pg_temp.trust SELECT * FROM regress_hijack.trust;
INSERT INTO pg_temp.credentials SELECT * FROM regress_hijack.credentials;
INSERT INTO pg_temp.realms SELECT * FROM regress_hijack.realms;
INSERT INTO pg_temp.store SELECT * FROM regress_hijack.store;

SET search_path = regress_hijack, pg_temp, pg_catalog;
SELECT 'abc' = 'xyz' AS shadow_operator_works_here;
TRUNCATE regress_hijack.calls;

-- ----------------------------------------------------- SECURITY DEFINER
SELECT did AS victim, secret_key AS victim_sk FROM ecl.generate_identity() \gset
SELECT did AS issuer, secret_key AS issuer_sk FROM ecl.generate_identity() \gset
SELECT ecl.issue_credential(:'victim', 'kyc', :'issuer', :'issuer_sk') AS cred \gset
SELECT ecl.verify_credential(:cred) AS real_credential_verifies,
	   ecl.verify_credential(900000000001) IS NOT TRUE AS shadow_credential_unknown;
SELECT ecl.has_credential(:'victim', 'kyc') AS victim_has_kyc,
	   ecl.has_credential('did:regress:hijack-victim', 'kyc') AS shadow_victim_has_kyc;
SELECT ecl.bind_role('regress_hijacker', :'victim');
-- (comparisons made here use OPERATOR(pg_catalog.=): the shadow is on our path too)
SELECT ecl.current_did() OPERATOR(pg_catalog.=) :'victim' AS current_did_is_real_binding;
SELECT ecl.bind_role('regress_hijacker', 'did:regress:hijacked');
SELECT ecl.register_handler('api', 'hijack', 'return {ok: true}', 'hijack-realm') IS NOT NULL AS handler_registered;
SELECT value FROM ecl.run_api('hijack', :'victim', 'hijack-realm',
	'{"method": "GET", "path": "/", "params": {}, "body": null}');
SELECT ecl.drop_handler('api', 'hijack') AS handler_dropped;
SELECT ecl.drop_handler('api', 'hijack');
SELECT count(*) AS test_cases FROM ecl.test_policy('hijack_nothing', '[]');

-- ----------------------------- C functions that run SQL as the ecl owner
SELECT ecl.register_policy('hijack_probe', $ecl$
policy hijack_probe {
    store_put("st", "real", caller)
    return {
        trust: trust.r,
        kyc: has_credential(caller, "kyc"),
        known: resolve_did(caller),
        shared: store_get("st", "k"),
        keys: store_list_keys("st")
    }
}
$ecl$, 'custom', 'hijack-realm') IS NOT NULL AS policy_registered;
SELECT value FROM ecl.run_policy('hijack_probe', :'victim', 'hijack-realm');
SELECT value FROM ecl.run_policy('hijack_probe', 'did:regress:hijack-victim', 'hijack-realm');
SELECT allowed, violations FROM ecl.validate_crossing(:'victim', 'x', 'hijack-realm');
SELECT allowed FROM ecl.validate_crossing(:'victim', 'x', 'hijack-evil-realm');
SELECT pg_catalog.jsonb_typeof(ecl.snapshot('hijack-realm')) AS snapshot_type;
SELECT ecl.snapshot('hijack-realm', ARRAY['did:regress:hijack-victim']) -> 'trust' AS shadow_victim_not_in_snapshot;
-- identical again (a no-op), then a rollback to version 1: both compare
-- text, bytea and integer, read the history and write it (this suite's own
-- comparisons name pg_catalog's operators: the shadows are for ecl's)
SELECT ecl.register_policy('hijack_probe', source, kind, realm_id) OPERATOR(pg_catalog.=) hash AS identical_noop
  FROM ecl.policies WHERE name OPERATOR(pg_catalog.=) 'hijack_probe';
SELECT ecl.register_policy('hijack_probe', 'return "v2"', 'custom', 'hijack-realm') IS NOT NULL AS v2;
SELECT ecl.rollback_policy('hijack_probe', 1) OPERATOR(pg_catalog.=) v.hash AS rolled_back
  FROM ecl.policy_versions v
 WHERE v.name OPERATOR(pg_catalog.=) 'hijack_probe' AND v.version OPERATOR(pg_catalog.=) 1;
SELECT version, source LIKE '%store_put%' AS v1_source
  FROM ecl.policies WHERE name OPERATOR(pg_catalog.=) 'hijack_probe';
-- a shadow candidate: set (reads and locks the row, writes it), run
-- beside the policy, promoted through registration, set again and dropped
SELECT ecl.set_shadow('hijack_probe', 'return "candidate"') IS NOT NULL AS shadow_set;
SELECT (ecl.run_policy('hijack_probe', 'did:regress:hijack-victim', 'hijack-realm')).passed AS runs_with_shadow;
SELECT ecl.promote_shadow('hijack_probe') IS NOT NULL AS shadow_promoted;
SELECT version, source LIKE '%candidate%' AS candidate_source
  FROM ecl.policies WHERE name OPERATOR(pg_catalog.=) 'hijack_probe';
SELECT ecl.set_shadow('hijack_probe', 'return "again"') IS NOT NULL AS shadow_set_again;
SELECT ecl.drop_shadow('hijack_probe') AS shadow_dropped;
-- a signed bundle of the realm: exported, verified against the real
-- ecl.bundle_signers (a signer only the shadows list is refused) and
-- imported through the registration path
INSERT INTO regress_hijack.bundle_signers (did) VALUES (:'victim');
INSERT INTO pg_temp.bundle_signers (did) VALUES (:'victim');
INSERT INTO ecl.bundle_signers (did) VALUES (:'issuer');
SELECT ecl.sign_bundle(ecl.export_bundle('hijack-realm'), :'issuer', :'issuer_sk') AS hijack_bundle \gset
SELECT name, action FROM ecl.import_bundle(:'hijack_bundle');
\set VERBOSITY sqlstate
SELECT name, action FROM ecl.import_bundle(ecl.sign_bundle(:'hijack_bundle', :'victim', :'victim_sk'));
\set VERBOSITY terse
SELECT ecl.drop_policy('hijack_probe') AS policy_dropped;
SELECT ecl.unbind_role('regress_hijacker') AS unbound;
RESET search_path;

-- nothing of the shadows was called, and they hold what they held
SELECT what, count(*) FROM regress_hijack.calls GROUP BY what ORDER BY what;
SELECT (SELECT count(*) FROM regress_hijack.role_dids) AS shadow_bindings,
	   (SELECT count(*) FROM regress_hijack.store) AS shadow_store_rows,
	   (SELECT count(*) FROM regress_hijack.policies) AS shadow_policies,
	   (SELECT count(*) FROM regress_hijack.handlers) AS shadow_handlers,
	   (SELECT count(*) FROM regress_hijack.policy_versions) AS shadow_versions,
	   (SELECT count(*) FROM pg_temp.role_dids) AS temp_bindings,
	   (SELECT count(*) FROM pg_temp.store) AS temp_store_rows,
	   (SELECT count(*) FROM pg_temp.policies) AS temp_policies,
	   (SELECT count(*) FROM pg_temp.handlers) AS temp_handlers,
	   (SELECT count(*) FROM pg_temp.identities) AS temp_identities;
RESET ROLE;

-- ... and the real tables hold the real answers
SELECT count(*) AS real_binding_left FROM ecl.role_dids WHERE role_name = 'regress_hijacker';
SELECT store_name, key, value FROM ecl.store WHERE realm_id = 'hijack-realm' ORDER BY key;

-- every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp
SELECT p.proname, c.setting
  FROM pg_catalog.pg_proc p, unnest(p.proconfig) AS c(setting)
 WHERE p.pronamespace = 'ecl'::regnamespace AND p.prosecdef
   AND c.setting LIKE 'search_path=%'
 ORDER BY p.proname;

-- clean up
DELETE FROM ecl.store WHERE realm_id = 'hijack-realm';
DELETE FROM ecl.bundle_signers WHERE did = :'issuer';
DELETE FROM ecl.identities WHERE did IN (:'victim', :'issuer');
DELETE FROM ecl.realms WHERE realm_id = 'hijack-realm';
DELETE FROM ecl.policy_versions WHERE name = 'hijack_probe';
DROP SCHEMA regress_hijack CASCADE;
DROP TABLE pg_temp.identities, pg_temp.role_dids, pg_temp.trust, pg_temp.credentials,
	pg_temp.realms, pg_temp.policies, pg_temp.handlers, pg_temp.store, pg_temp.bundle_signers;
DROP ROLE regress_hijacker;

SELECT 1 AS backend_alive;
