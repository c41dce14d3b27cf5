--
-- Registering policies (docs/sql-api.md, "The language"; docs/sql-api.md, "Registered policies"): compile and store with a BLAKE2b
-- hash, re-registration (version + 1, new behaviour at once), kinds,
-- realms, multi-policy sources, drop, unknown names (42704), compile errors
-- (42601), tampered bytecode or hash (EC007), and the compile counters.
--
\set VERBOSITY terse

INSERT INTO ecl.realms (realm_id) VALUES ('pr-realm');
SELECT policies_compiled AS compiled0, policy_compile_errors AS errors0 FROM ecl.stat_eclvm \gset

-- ------------------------------------------------------------- register
SELECT octet_length(ecl.register_policy('pr_limit', $ecl$
policy pr_limit {
    require amount <= 100, "amount above 100"
    return amount * 2
}
$ecl$)) AS hash_bytes;
SELECT name, kind, realm_id, version, updated_at = created_at AS never_updated,
	   octet_length(hash) AS hash_bytes, source LIKE '%amount above 100%' AS source_kept,
	   bytecode = ecl.compile(source) AS bytecode_is_compiled_source
  FROM ecl.policies WHERE name = 'pr_limit';
SELECT passed, value, message FROM ecl.run_policy('pr_limit', NULL, NULL, '{"amount": 21}');
SELECT passed, value, message FROM ecl.run_policy('pr_limit', NULL, NULL, '{"amount": 500}');

-- the same source gives the same hash; the returned hash is the stored one
SELECT ecl.register_policy('pr_same', 'policy p { return 1 }') = ecl.register_policy('pr_same2', 'policy p { return 1 }') AS same_source_same_hash,
	   ecl.register_policy('pr_same', 'policy p { return 1 }') <> ecl.register_policy('pr_same2', 'policy p { return 2 }') AS other_source_other_hash;
SELECT (SELECT hash FROM ecl.policies WHERE name = 'pr_same') = ecl.register_policy('pr_same', 'policy p { return 1 }') AS returns_stored_hash;

-- ----------------------------------------------------------- re-register
SELECT ecl.register_policy('pr_limit', $ecl$
policy pr_limit {
    require amount <= 1000, "amount above 1000"
    return amount * 3
}
$ecl$) IS NOT NULL AS reregistered;
SELECT version, updated_at >= created_at AS updated, source LIKE '%above 1000%' AS new_source
  FROM ecl.policies WHERE name = 'pr_limit';
-- the new version runs from the next statement on (same session, no reconnect)
SELECT passed, value, message FROM ecl.run_policy('pr_limit', NULL, NULL, '{"amount": 500}');
-- and within one transaction too
BEGIN;
SELECT ecl.register_policy('pr_limit', 'policy pr_limit { return "third" }') IS NOT NULL AS third;
SELECT value FROM ecl.run_policy('pr_limit', NULL, NULL);
ROLLBACK;
-- the rollback restores the second version, in the table and in the cache
SELECT version FROM ecl.policies WHERE name = 'pr_limit';
SELECT value FROM ecl.run_policy('pr_limit', NULL, NULL, '{"amount": 5}');

-- ------------------------------------------------------- kinds and realms
SELECT ecl.register_policy('pr_kind', 'return true', 'transaction') IS NOT NULL AS with_kind;
SELECT ecl.register_policy('pr_realm', 'return realm', 'membership', 'pr-realm') IS NOT NULL AS with_realm;
SELECT name, kind, realm_id FROM ecl.policies WHERE name IN ('pr_kind', 'pr_realm') ORDER BY name;
-- a run without a realm argument runs in the policy's realm
SELECT value AS default_realm FROM ecl.run_policy('pr_realm', NULL, NULL);
SELECT value AS explicit_realm FROM ecl.run_policy('pr_realm', NULL, 'elsewhere');
-- re-registering can change kind and realm
SELECT ecl.register_policy('pr_realm', 'return realm', 'privacy') IS NOT NULL AS changed;
SELECT kind, realm_id, version FROM ecl.policies WHERE name = 'pr_realm';
SELECT value AS no_realm FROM ecl.run_policy('pr_realm', NULL, NULL);
-- every documented kind is accepted
SELECT count(*) AS kinds_accepted FROM unnest(ARRAY['crossing', 'membership', 'transaction',
	'governance', 'privacy', 'api', 'ui', 'datalogic', 'controller', 'custom']) AS k,
	LATERAL ecl.register_policy('pr_kind_' || k, 'return true', k) AS h;
-- unknown kind, unknown realm
SELECT ecl.register_policy('pr_bad', 'return true', 'weird');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_policy('pr_bad', 'return true', 'custom', 'no-such-realm');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_policy(NULL, 'return true');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_policy('', 'return true');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_policy('pr_bad', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS nothing_stored FROM ecl.policies WHERE name = 'pr_bad';

-- ------------------------------------------------------- sources and names
-- several policies: the one called name is compiled
SELECT ecl.register_policy('second', $ecl$
const LIMIT = 10
policy first { return "first" }
policy second { return "second " + LIMIT }
$ecl$) IS NOT NULL AS picked;
SELECT value FROM ecl.run_policy('second', NULL, NULL);
-- several policies and none of that name
SELECT ecl.register_policy('third', 'policy first { return 1 } policy second { return 2 }');
\echo :LAST_ERROR_SQLSTATE
-- one policy may be registered under another name; script mode too
SELECT ecl.register_policy('pr_alias', 'policy written_name { return "alias" }') IS NOT NULL AS alias;
SELECT value FROM ecl.run_policy('pr_alias', NULL, NULL);
SELECT ecl.register_policy('pr_script', 'let x = 2
return x * 21') IS NOT NULL AS script;
SELECT value FROM ecl.run_policy('pr_script', NULL, NULL);
-- a compile error names the policy and position (42601), stores nothing and
-- leaves an existing version in place
SELECT ecl.register_policy('pr_limit', 'policy pr_limit { require amount <= , "x" }');
\echo :LAST_ERROR_SQLSTATE
SELECT version FROM ecl.policies WHERE name = 'pr_limit';
SELECT ecl.register_policy('pr_broken', 'policy pr_broken { return undefined_local + }');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS broken_stored FROM ecl.policies WHERE name = 'pr_broken';

-- compile counters: every successful registration and every failed one
SELECT policies_compiled - :compiled0 AS compiled, policy_compile_errors - :errors0 AS compile_errors
  FROM ecl.stat_eclvm;

-- ------------------------------------------------------- unknown, drop
SELECT ecl.run_policy('pr_nope', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.check('pr_nope', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_policy('pr_nope');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_policy('pr_alias') AS dropped;
SELECT ecl.run_policy('pr_alias', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
-- a dropped name can be registered again; its history was kept
-- (ecl.policy_versions), so the numbering continues from it
SELECT ecl.register_policy('pr_alias', 'return "back"') IS NOT NULL AS back;
SELECT version FROM ecl.policies WHERE name = 'pr_alias';
SELECT value FROM ecl.run_policy('pr_alias', NULL, NULL);

-- ------------------------------------------------------------- tampering
-- the policy runs and is cached ...
SELECT value FROM ecl.run_policy('pr_script', NULL, NULL);
-- ... then its bytecode is replaced behind the extension's back: the cache
-- is invalidated and the hash check refuses it
UPDATE ecl.policies SET bytecode = ecl.compile('return 666') WHERE name = 'pr_script';
SELECT ecl.run_policy('pr_script', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.check('pr_script', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
-- a tampered hash is refused the same way
SELECT ecl.register_policy('pr_script', 'return 42') IS NOT NULL AS repaired;
SELECT value FROM ecl.run_policy('pr_script', NULL, NULL);
UPDATE ecl.policies SET hash = set_byte(hash, 31, (get_byte(hash, 31) + 1) % 256) WHERE name = 'pr_script';
SELECT ecl.run_policy('pr_script', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
UPDATE ecl.policies SET hash = '\x00' WHERE name = 'pr_script';
SELECT ecl.run_policy('pr_script', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
-- bytecode and hash copied together from another policy are consistent:
-- the hash guards integrity of the row, write access to the table is
-- guarded by privileges (only the schema owner can write ecl.policies)
UPDATE ecl.policies p SET bytecode = q.bytecode, hash = q.hash
  FROM ecl.policies q WHERE p.name = 'pr_script' AND q.name = 'pr_alias';
SELECT value FROM ecl.run_policy('pr_script', NULL, NULL);
-- TRUNCATE invalidates the cache too
BEGIN;
TRUNCATE ecl.policies CASCADE;
SELECT ecl.run_policy('pr_alias', NULL, NULL);
ROLLBACK;
SELECT value FROM ecl.run_policy('pr_alias', NULL, NULL);

-- A call site remembers its policy between rows, but not past a change: in
-- one PL/pgSQL function (its expressions live for the whole transaction)
-- the same ecl.check sees each new version, and the policy's disappearance.
SELECT ecl.register_policy('pr_site', 'policy pr_site { return limit > 1 }') IS NOT NULL AS registered;
CREATE FUNCTION pg_temp.site_versions() RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
	seen text[] := '{}';
BEGIN
	FOR v IN 1..3 LOOP
		seen := seen || ecl.check('pr_site', NULL, NULL, '{"limit": 2}')::text;
		PERFORM ecl.register_policy('pr_site', format('policy pr_site { return limit > %s }', v + 1));
	END LOOP;
	PERFORM ecl.drop_policy('pr_site');
	BEGIN
		seen := seen || ecl.check('pr_site', NULL, NULL, '{"limit": 2}')::text;
	EXCEPTION WHEN undefined_object THEN
		seen := seen || 'gone'::text;
	END;
	RETURN seen;
END
$$;
SELECT pg_temp.site_versions() AS true_then_false_then_gone;

-- ------------------------------------------------------------------ clean up
SELECT count(*) AS dropped FROM ecl.policies p, LATERAL ecl.drop_policy(p.name) AS d
 WHERE p.name LIKE 'pr\_%' OR p.name = 'second';
DELETE FROM ecl.policy_versions WHERE name LIKE 'pr\_%' OR name = 'second';
DELETE FROM ecl.realms WHERE realm_id = 'pr-realm';
