--
-- The examples of docs/engines.md, run exactly as printed: each block is
-- extracted from the document (test/doc-example.sh) and included, so the
-- documented code cannot drift from what the extension does.  Checks that
-- go beyond the printed calls follow each example.  The RLS example is run
-- by the suite rls_policies.
--
\set VERBOSITY terse

-- ------------------------------------------------------------------ setup
\! test/doc-example.sh docs/engines.md setup > test/results/doc_setup.sql
\i test/results/doc_setup.sql

-- -------------------------------------------------------------------- api
\! test/doc-example.sh docs/engines.md api > test/results/doc_api.sql
\i test/results/doc_api.sql
\! test/doc-example.sh docs/engines.md api-key-defaults > test/results/doc_api_key_defaults.sql
\i test/results/doc_api_key_defaults.sql
-- the order is stored by Alice's DID; the event row names the handler
SELECT value->>'by' AS stored_by FROM ecl.store WHERE realm_id = 'shop' AND key = 'o-1001';
SELECT policy, caller, event, payload FROM ecl.events WHERE event = 'order_created';
-- a body that fails validation, and one that is missing
SELECT passed, message FROM ecl.run_api('POST /orders/:id', 'did:example:alice', 'shop',
	'{"method": "POST", "path": "/orders/o-1003", "params": {"id": "o-1003"},
	  "body": {"item": "lamp", "quantity": 2.5}}');
SELECT passed, message FROM ecl.run_api('POST /orders/:id', 'did:example:alice', 'shop',
	'{"method": "POST", "path": "/orders/o-1004", "params": {"id": "o-1004"}}');
-- Bob within his limit
SELECT passed, value->>'status' AS status FROM ecl.run_api('POST /orders/:id', 'did:example:bob', 'shop',
	'{"method": "POST", "path": "/orders/o-1005", "params": {"id": "o-1005"},
	  "body": {"item": "cable", "quantity": 5}}');
SELECT key FROM ecl.store WHERE realm_id = 'shop' AND store_name = 'orders' ORDER BY key;

-- --------------------------------------------------------------------- ui
\! test/doc-example.sh docs/engines.md ui > test/results/doc_ui.sql
\i test/results/doc_ui.sql
-- Bob is denied with the require message, not just false
SELECT passed, value, message FROM ecl.run_ui('order-admin', 'did:example:bob', 'shop',
	'{"component": "order-admin"}');

-- -------------------------------------------------------------- datalogic
\! test/doc-example.sh docs/engines.md datalogic > test/results/doc_datalogic.sql
\i test/results/doc_datalogic.sql
-- the read-only form named in the document keeps the same rows
SELECT p.id FROM payments p
 WHERE ecl.check('datalogic:large-eur-payments', NULL, 'shop', jsonb_build_object('event', to_jsonb(p)))
 ORDER BY p.id;
-- an aggregate of 0 is a value, with passed = false
SELECT passed, value FROM ecl.run_datalogic('eur-total', NULL, 'shop',
	'{"events": [{"currency": "USD", "amount": 5}]}');

-- ------------------------------------------------------------- governance
\! test/doc-example.sh docs/engines.md governance > test/results/doc_governance.sql
\i test/results/doc_governance.sql
-- without a voter the gate denies
SELECT passed, message FROM ecl.run_governance('budget', NULL, 'shop',
	'{"proposal": {"id": "b-8", "yes": 6, "no": 2, "total": 10, "status": "open"}}');

-- ------------------------------------------------------------- controller
\! test/doc-example.sh docs/engines.md controller > test/results/doc_controller.sql
\i test/results/doc_controller.sql
SELECT who, (ecl.run_controller('docs.read', did, 'shop',
	'{"permission": "docs.read", "resource": {"owner": "did:example:bob", "level": 0.5}}')).value AS reads_bobs_half
  FROM (VALUES ('alice', 'did:example:alice'), ('bob', 'did:example:bob')) AS c (who, did);
SELECT passed, message FROM ecl.run_controller('docs.write', 'did:example:bob', 'shop',
	'{"permission": "docs.write", "resource": {"owner": "did:example:alice", "level": 0}}');

-- every handler the document registers, with its kind and realm
SELECT h.engine, h.key, p.kind, p.realm_id
  FROM ecl.handlers h JOIN ecl.policies p ON p.name = h.policy_name
 ORDER BY h.engine, h.key;

-- --------------------------------------------------------------- clean up
SELECT count(*) AS handlers_dropped FROM ecl.handlers h, LATERAL ecl.drop_handler(h.engine, h.key)
 WHERE h.policy_name LIKE ANY (ARRAY['api:POST /orders/:id', 'api:GET /orders', 'ui:%', 'datalogic:%', 'governance:budget', 'controller:docs.%']);
DROP TABLE payments;
DELETE FROM ecl.events WHERE realm_id = 'shop';
DELETE FROM ecl.store WHERE realm_id = 'shop';
DELETE FROM ecl.identities WHERE did LIKE 'did:example:%';
DELETE FROM ecl.realms WHERE realm_id = 'shop';
