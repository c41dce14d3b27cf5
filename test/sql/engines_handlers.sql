--
-- Engine entry points (docs/engines.md): registering and dropping handlers, the
-- handler as a policy (ecl.check on 'controller:...'), input shapes (22023),
-- unknown handlers (42704), re-registration and rollback seen at once,
-- writes kept only when a handler passes, privileges (docs/security.md), and exact
-- per-engine statistics.
--
\set VERBOSITY terse

INSERT INTO ecl.realms (realm_id) VALUES ('eng-realm');
INSERT INTO ecl.identities (did) VALUES ('did:regress:eng-high'), ('did:regress:eng-low');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:eng-high', 'eng-realm', 0.9, 0.9, 0.9, 0.9, 0.9, 0.9),
	('did:regress:eng-low', '', 0.1, 0.1, 0.1, 0.1, 0.1, 0.1);

-- ---------------------------------------------------------------- register
-- one handler per engine; each echoes what it sees
SELECT e AS engine, octet_length(ecl.register_handler(e, 'echo',
	'require trust.r >= 0.5, "trust too low"
	 return {engine: "' || e || '", caller: caller, realm: realm, input: input}',
	'eng-realm')) AS hash_bytes
  FROM unnest(ARRAY['api', 'ui', 'datalogic', 'governance', 'controller']) AS e;
-- stored as policies '<engine>:<key>' with kind = engine and the realm
SELECT h.engine, h.key, h.policy_name, p.kind, p.realm_id, p.version
  FROM ecl.handlers h JOIN ecl.policies p ON p.name = h.policy_name
 WHERE h.key = 'echo' ORDER BY h.engine;
-- the returned hash is the stored hash
SELECT ecl.register_handler('ui', 'echo', 'return input.component == "x"') AS new_hash \gset
SELECT hash = :'new_hash'::bytea AS returns_stored_hash, version, realm_id
  FROM ecl.policies WHERE name = 'ui:echo';
-- a key may hold any text, also spaces and colons
SELECT octet_length(ecl.register_handler('api', 'GET /realm/:id/items', 'return {items: [], path: path}')) AS hash_bytes;

-- errors: engine, key, source, realm
SELECT ecl.register_handler('graphql', 'k', 'return true');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_handler(NULL, 'k', 'return true');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_handler('api', NULL, 'return true');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_handler('api', '', 'return true');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_handler('api', 'broken', 'return 1 +');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_handler('api', 'broken', 'return true', 'no-such-realm');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS nothing_stored FROM ecl.handlers WHERE key IN ('k', '', 'broken');
SELECT count(*) AS nothing_stored FROM ecl.policies WHERE name IN ('graphql:k', 'api:broken');

-- ------------------------------------------------------------------ run
SELECT passed, value, message FROM ecl.run_api('echo', 'did:regress:eng-high', NULL,
	'{"method": "POST", "path": "/x", "params": {"id": "7"}, "body": [1, 2], "extra": true}');
SELECT passed, value, message FROM ecl.run_ui('echo', 'did:regress:eng-high', 'eng-realm',
	'{"component": "x", "props": {}}');
SELECT passed, value->'input' AS input FROM ecl.run_datalogic('echo', 'did:regress:eng-high', NULL,
	'{"event": {"kind": "click"}}');
SELECT passed, value->'input' AS input FROM ecl.run_datalogic('echo', 'did:regress:eng-high', NULL,
	'{"events": []}');
SELECT passed, value->'input' AS input FROM ecl.run_governance('echo', 'did:regress:eng-high', NULL,
	'{"proposal": {"id": 1, "yes": 3, "no": 1, "total": 9, "status": "open"}, "voter": "did:regress:eng-low"}');
SELECT passed, value->'input' AS input FROM ecl.run_controller('echo', 'did:regress:eng-high', NULL,
	'{"permission": "p", "resource": "r"}');
-- denied: the require message; the trust of the low DID is its global row
SELECT passed, value, message FROM ecl.run_controller('echo', 'did:regress:eng-low', NULL,
	'{"permission": "p"}');
-- without a realm argument a handler runs in the realm it was registered
-- for; an explicit realm wins (there the high DID has no trust row)
SELECT value->>'realm' AS default_realm FROM ecl.run_api('echo', 'did:regress:eng-high', NULL,
	'{"method": "GET", "path": "/"}');
SELECT passed, message FROM ecl.run_controller('echo', 'did:regress:eng-high', 'other',
	'{"permission": "p"}');

-- handlers are policies: check, allowed, enforce, run_policy
SELECT ecl.check('controller:echo', 'did:regress:eng-high', 'eng-realm', '{"permission": "p"}') AS check_high,
	   ecl.check('controller:echo', 'did:regress:eng-low', 'eng-realm', '{"permission": "p"}') AS check_low;
SELECT passed FROM ecl.run_policy('controller:echo', 'did:regress:eng-high', NULL, '{}');
SELECT ecl.enforce('controller:echo', 'did:regress:eng-low', NULL, '{}');
\echo :LAST_ERROR_SQLSTATE

-- ------------------------------------------------------------ input shapes
-- every engine checks its input before running (22023, field named)
SELECT ecl.run_api('echo', NULL, NULL, '{"path": "/x"}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.run_api('echo', NULL, NULL, '{"method": 1, "path": "/x"}');
SELECT ecl.run_api('echo', NULL, NULL, '{"method": "GET", "path": "/x", "params": [1]}');
SELECT ecl.run_api('echo', NULL, NULL, '{"method": "GET", "path": null}');
SELECT ecl.run_api('echo', NULL, NULL, '[1, 2]');
SELECT ecl.run_api('echo', NULL, NULL, '"GET"');
SELECT ecl.run_api('echo', NULL, NULL);
SELECT ecl.run_api('echo', NULL, NULL, NULL);
SELECT ecl.run_ui('echo', NULL, NULL, '{"component": 5}');
SELECT ecl.run_ui('echo', NULL, NULL, '{"component": "c", "props": "big"}');
SELECT ecl.run_datalogic('echo', NULL, NULL, '{}');
SELECT ecl.run_datalogic('echo', NULL, NULL, '{"event": 1, "events": [1]}');
SELECT ecl.run_datalogic('echo', NULL, NULL, '{"events": {"a": 1}}');
SELECT ecl.run_datalogic('echo', NULL, NULL, '{"event": null}');
SELECT ecl.run_governance('echo', NULL, NULL, '{"voter": "did:x"}');
SELECT ecl.run_governance('echo', NULL, NULL, '{"proposal": {"yes": "many"}}');
SELECT ecl.run_governance('echo', NULL, NULL, '{"proposal": {"status": 1}}');
SELECT ecl.run_governance('echo', NULL, NULL, '{"proposal": {}, "voter": 5}');
SELECT ecl.run_controller('echo', NULL, NULL, '{"permission": ["p"], "resource": "r"}');
-- the hint shows the expected shape and what the key supplies
\set VERBOSITY default
SELECT ecl.run_controller('echo', NULL, NULL, '{"permission": 5}');
SELECT ecl.run_api('echo', NULL, NULL, '{}');
\set VERBOSITY terse
-- optional fields may be absent; then the handler fails only if it reads them
SELECT passed FROM ecl.run_api('echo', 'did:regress:eng-high', NULL, '{"method": "GET", "path": "/"}');
SELECT ecl.register_handler('api', 'needs-body', 'return body.n');
SELECT ecl.run_api('needs-body', NULL, NULL, '{"method": "GET", "path": "/"}');
\echo :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------- unknown names
SELECT ecl.run_api('nope', NULL, NULL, '{"method": "GET", "path": "/"}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.run_governance('nope', NULL, NULL, '{"proposal": {}}');
SELECT ecl.run_api(NULL, NULL, NULL, '{"method": "GET", "path": "/"}');
\echo :LAST_ERROR_SQLSTATE
-- a handler of another engine is not found under this one
SELECT ecl.run_ui('needs-body', NULL, NULL, '{"component": "c"}');
-- a policy with a handler-like name is not a handler
SELECT octet_length(ecl.register_policy('ui:plain', 'return true', 'ui')) AS hash_bytes;
SELECT ecl.run_ui('plain', NULL, NULL, '{"component": "c"}');
SELECT ecl.drop_policy('ui:plain');

-- an unknown handler is 42704 before any input check, for every engine:
-- the caller learns first that the handler is missing, not that an input
-- no handler would read has the wrong shape
SELECT ecl.run_api('nope', NULL, NULL, '{}');
SELECT ecl.run_api('nope', NULL, NULL, '[1]');
SELECT ecl.run_api('GET /nope', NULL, NULL, NULL);
SELECT ecl.run_ui('nope', NULL, NULL, '{"component": 5}');
SELECT ecl.run_datalogic('nope', NULL, NULL, '{}');
SELECT ecl.run_datalogic('nope', NULL, NULL, '{"event": 1, "events": []}');
SELECT ecl.run_governance('nope', NULL, NULL, '{"voter": 5}');
SELECT ecl.run_controller('nope', NULL, NULL, '"x"');
\echo :LAST_ERROR_SQLSTATE

-- ------------------------------------------------------------ key defaults
-- the key fills what the caller left out: api method and path from a key
-- "METHOD /path", ui component, controller permission
SELECT ecl.register_handler('api', 'POST /orders',
	'return {method: method, path: path, body: has(input, "body") ? body : "none"}') IS NOT NULL AS registered;
SELECT passed, value FROM ecl.run_api('POST /orders', NULL, NULL, '{"body": {"item": "lamp"}}');
-- a NULL input is {}; a JSON null counts as left out
SELECT value FROM ecl.run_api('POST /orders', NULL, NULL);
SELECT value FROM ecl.run_api('POST /orders', NULL, NULL, NULL);
SELECT value FROM ecl.run_api('POST /orders', NULL, NULL, '{"method": null, "path": null}');
-- what the caller gave is kept, also when it differs from the key's (the
-- concrete path of a route pattern, a HEAD routed to a GET handler)
SELECT value FROM ecl.run_api('POST /orders', NULL, NULL, '{"path": "/orders/o-7"}');
SELECT value FROM ecl.run_api('POST /orders', NULL, NULL, '{"method": "PUT", "path": "/o"}');
-- a given field of the wrong type is still refused; other fields are checked
SELECT ecl.run_api('POST /orders', NULL, NULL, '{"method": 1}');
SELECT ecl.run_api('POST /orders', NULL, NULL, '{"params": 1}');
-- the route form is exact: upper-case letters, one space, a path from '/'
-- without white space; any other key fills nothing
CREATE FUNCTION pg_temp.api_with_empty_input(k text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN (ecl.run_api(k, NULL, NULL, '{}')).value::text;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT k AS key, ecl.register_handler('api', k, 'return [method, path]') IS NOT NULL AS registered,
	   pg_temp.api_with_empty_input(k) AS result
  FROM unnest(ARRAY['GET /', 'DELETE /realm/:id/items', 'PROPFIND /dav', 'get /x', 'Get /x',
					'GET x', 'GET  /x', 'GET /a b', 'GET', ' /x', '/x', 'GET/x', 'GET /x ']) AS k;
-- ui component and controller permission are the key
SELECT ecl.register_handler('ui', 'panel', 'return component') IS NOT NULL AS registered;
SELECT value FROM ecl.run_ui('panel', NULL, NULL, '{"props": {}}');
SELECT value FROM ecl.run_ui('panel', NULL, NULL);
SELECT value FROM ecl.run_ui('panel', NULL, NULL, '{"component": "panel-2"}');
SELECT ecl.register_handler('controller', 'docs.read', 'return [permission, input.resource]') IS NOT NULL AS registered;
SELECT value FROM ecl.run_controller('docs.read', NULL, NULL, '{"resource": {"id": 7}}');
SELECT value FROM ecl.run_controller('docs.read', NULL, NULL, '{"permission": null, "resource": 1}');
SELECT value FROM ecl.run_controller('docs.read', NULL, NULL, '{"permission": "docs.write", "resource": 1}');
-- datalogic and governance keys imply nothing
SELECT ecl.run_datalogic('echo', NULL, NULL, '{}');
SELECT ecl.run_governance('echo', NULL, NULL, '{}');
-- only the engine entry points fill: ecl.check runs the policy on the input
-- as given, so the handler's read of the field fails there
SELECT ecl.check('controller:docs.read', NULL, NULL, '{"resource": 1}');
\echo :LAST_ERROR_SQLSTATE

-- ------------------------------------------ re-register, drop, rollback
SELECT ecl.register_handler('controller', 'flip', 'return true') IS NOT NULL AS v1;
SELECT value FROM ecl.run_controller('flip', NULL, NULL, '{"permission": "p"}');
SELECT ecl.register_handler('controller', 'flip', 'return false') IS NOT NULL AS v2;
SELECT value, (SELECT version FROM ecl.policies WHERE name = 'controller:flip') AS version
  FROM ecl.run_controller('flip', NULL, NULL, '{"permission": "p"}');
-- a rolled-back drop leaves the handler; the cache follows the rollback
BEGIN;
SELECT ecl.drop_handler('controller', 'flip');
SELECT ecl.run_controller('flip', NULL, NULL, '{"permission": "p"}');
ROLLBACK;
SELECT value FROM ecl.run_controller('flip', NULL, NULL, '{"permission": "p"}');
-- a rolled-back registration leaves nothing
BEGIN;
SELECT ecl.register_handler('controller', 'temporary', 'return 42') IS NOT NULL AS registered;
SELECT value FROM ecl.run_controller('temporary', NULL, NULL, '{"permission": "p"}');
ROLLBACK;
SELECT ecl.run_controller('temporary', NULL, NULL, '{"permission": "p"}');
-- dropping the policy removes the handler too
SELECT ecl.drop_policy('controller:flip');
SELECT count(*) AS handler_rows FROM ecl.handlers WHERE key = 'flip';
SELECT ecl.run_controller('flip', NULL, NULL, '{"permission": "p"}');
-- drop_handler: the handler and its policy; unknown -> 42704
SELECT ecl.drop_handler('api', 'needs-body');
SELECT count(*) AS gone FROM ecl.policies WHERE name = 'api:needs-body';
SELECT ecl.drop_handler('api', 'needs-body');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_handler('nonsense', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_handler('api', NULL);
\echo :LAST_ERROR_SQLSTATE

-- ------------------------------------------------------- writes and events
-- a handler that writes keeps its writes only when it passes
SELECT ecl.register_handler('datalogic', 'count', $ecl$
store_put("seen", "n", event.n)
emit "seen", {n: event.n}
require event.n < 10, "too big"
return true
$ecl$, 'eng-realm') IS NOT NULL AS registered;
SELECT passed, events FROM ecl.run_datalogic('count', NULL, NULL, '{"event": {"n": 3}}');
SELECT passed, message, events FROM ecl.run_datalogic('count', NULL, NULL, '{"event": {"n": 30}}');
SELECT key, value FROM ecl.store WHERE realm_id = 'eng-realm' AND store_name = 'seen';
SELECT event, payload, policy FROM ecl.events WHERE realm_id = 'eng-realm' ORDER BY id;
-- so it cannot run read-only through ecl.check
SELECT ecl.check('datalogic:count', NULL, NULL, '{"event": {"n": 1}}');
\echo :LAST_ERROR_SQLSTATE
-- the entry points are volatile; check and allowed stable (see rls_policies)
SELECT p.proname, p.provolatile, p.proparallel
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'ecl' AND p.proname ~ '^(run_(api|ui|datalogic|governance|controller)|register_handler|drop_handler)$'
 ORDER BY p.proname;

-- ------------------------------------------------------------- privileges
CREATE ROLE regress_eng_admin IN ROLE ecl_admin;
CREATE ROLE regress_eng_exec IN ROLE ecl_executor;
CREATE ROLE regress_eng_nobody;
SET ROLE regress_eng_admin;
SELECT ecl.register_handler('ui', 'by-admin', 'return 1') IS NOT NULL AS admin_registers;
SELECT value FROM ecl.run_ui('by-admin', NULL, NULL, '{"component": "c"}');
-- but may not write ecl.handlers directly
DELETE FROM ecl.handlers WHERE key = 'by-admin';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_eng_exec;
SELECT value FROM ecl.run_ui('by-admin', NULL, NULL, '{"component": "c"}');
SELECT ecl.register_handler('ui', 'by-exec', 'return 1');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.drop_handler('ui', 'by-admin');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_eng_nobody;
SELECT ecl.run_ui('by-admin', NULL, NULL, '{"component": "c"}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.run_api('echo', NULL, NULL, '{"method": "GET", "path": "/"}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_handler('ui', 'by-nobody', 'return 1');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- who may execute what, from the catalog
SELECT p.proname,
	   has_function_privilege('regress_eng_admin', p.oid, 'EXECUTE') AS admin,
	   has_function_privilege('regress_eng_exec', p.oid, 'EXECUTE') AS executor,
	   has_function_privilege('regress_eng_nobody', p.oid, 'EXECUTE') AS public
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'ecl' AND p.proname ~ '^(run_(api|ui|datalogic|governance|controller)|register_handler|drop_handler)$'
 ORDER BY p.proname;
SET ROLE regress_eng_admin;
SELECT ecl.drop_handler('ui', 'by-admin');
RESET ROLE;

-- ------------------------------------------------------------- statistics
-- a known sequence per engine; runs rejected before they start (shape,
-- unknown handler) are not counted
SELECT ecl.register_handler('governance', 'fault', 'return 1 / proposal.yes', 'eng-realm') IS NOT NULL AS registered;
SELECT ecl.stat_reset();
-- api: 2 passed, 1 denied
SELECT passed FROM ecl.run_api('echo', 'did:regress:eng-high', NULL, '{"method": "GET", "path": "/"}');
SELECT passed FROM ecl.run_api('echo', 'did:regress:eng-high', NULL, '{"method": "PUT", "path": "/"}');
SELECT passed FROM ecl.run_api('echo', 'did:regress:eng-low', NULL, '{"method": "GET", "path": "/"}');
SELECT ecl.run_api('echo', 'did:regress:eng-high', NULL, '{"method": "GET"}');
SELECT ecl.run_api('missing', 'did:regress:eng-high', NULL, '{"method": "GET", "path": "/"}');
-- ui: 1 passed
SELECT passed FROM ecl.run_ui('echo', 'did:regress:eng-high', NULL, '{"component": "x"}');
-- datalogic: 1 passed, 1 denied (the writing handler)
SELECT passed FROM ecl.run_datalogic('count', NULL, NULL, '{"event": {"n": 1}}');
SELECT passed FROM ecl.run_datalogic('count', NULL, NULL, '{"event": {"n": 11}}');
-- governance: 1 passed, 2 errors (division by zero, missing field)
SELECT value FROM ecl.run_governance('fault', NULL, NULL, '{"proposal": {"yes": 4}}');
SELECT ecl.run_governance('fault', NULL, NULL, '{"proposal": {"yes": 0}}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.run_governance('fault', NULL, NULL, '{"proposal": {}}');
\echo :LAST_ERROR_SQLSTATE
-- controller: 1 denied through run_controller, 1 passed through ecl.check
SELECT passed FROM ecl.run_controller('echo', 'did:regress:eng-low', NULL, '{"permission": "p"}');
SELECT ecl.check('controller:echo', 'did:regress:eng-high', NULL, '{}');
SELECT policy_type, executions, passed, denied, errors
  FROM ecl.stat_eclvm_by_type
 WHERE policy_type IN ('api', 'ui', 'datalogic', 'governance', 'controller')
 ORDER BY policy_type;
SELECT policy, kind, realm_id, calls, passed, denied, errors
  FROM ecl.stat_eclvm_policies
 WHERE policy IN ('api:echo', 'governance:fault', 'controller:echo')
 ORDER BY policy;
SELECT policies_executed, policies_passed, policies_denied, policy_runtime_errors
  FROM ecl.stat_eclvm;

-- ------------------------------------------------------------------ clean up
SELECT count(*) AS dropped FROM ecl.handlers h, LATERAL ecl.drop_handler(h.engine, h.key)
 WHERE h.key IN ('echo', 'GET /realm/:id/items', 'count', 'fault', 'POST /orders', 'panel', 'docs.read')
	OR h.engine = 'api' AND h.key IN ('GET /', 'DELETE /realm/:id/items', 'PROPFIND /dav', 'get /x', 'Get /x',
									  'GET x', 'GET  /x', 'GET /a b', 'GET', ' /x', '/x', 'GET/x', 'GET /x ');
SELECT count(*) AS handlers_left FROM ecl.handlers;
DROP ROLE regress_eng_admin;
DROP ROLE regress_eng_exec;
DROP ROLE regress_eng_nobody;
DELETE FROM ecl.events WHERE realm_id = 'eng-realm';
DELETE FROM ecl.store WHERE realm_id = 'eng-realm';
DELETE FROM ecl.identities WHERE did LIKE 'did:regress:eng-%';
DELETE FROM ecl.realms WHERE realm_id = 'eng-realm';
