-- Demo chapter 30: one handler per engine (API, UI, DataLogic, Governance,
-- Controller), a store write, and an event received with LISTEN.
\pset footer off

\echo
\echo '######## Engines: one handler each (docs/engines.md has the full examples)'
\echo
\echo '=== 1. API. The route "POST /listings/:id" validates the body, writes the listing to'
\echo '       the market''s "listings" store, emits "listing_created" and returns the response.'
\echo '       This session LISTENs on ecl_events, so the notification shows up below.'
LISTEN ecl_events;
SELECT ecl.register_handler('api', 'POST /listings/:id', $ecl$
require has(input, "body") && has(body, "title") && has(body, "price"), "title and price required"
require body.price > 0, "price must be positive"
store_put("listings", params.id, {title: body.title, price: body.price, seller: caller})
emit "listing_created", {id: params.id, price: body.price}
return {status: 201, id: params.id}
$ecl$, 'market') IS NOT NULL AS registered;
SELECT p.name, r.passed, r.value, r.message
  FROM people p, LATERAL ecl.run_api('POST /listings/:id', p.did, 'market',
       jsonb_build_object('method', 'POST', 'path', '/listings/l-1', 'params', '{"id": "l-1"}'::jsonb,
                          'body', '{"title": "Old lamp", "price": 25}'::jsonb)) AS r
 WHERE p.name = 'alice';
\echo 'A bad body is denied, and nothing is written or emitted:'
SELECT passed, message
  FROM people p, LATERAL ecl.run_api('POST /listings/:id', p.did, 'market',
       '{"method": "POST", "path": "/listings/l-2", "params": {"id": "l-2"}, "body": {"title": "Free", "price": 0}}') AS r
 WHERE p.name = 'bob';
\echo 'An input of the wrong shape is rejected before anything runs (22023):'
\set ON_ERROR_STOP 0
SELECT ecl.run_api('POST /listings/:id', NULL, 'market', '{"path": "/listings/l-3"}');
\set ON_ERROR_STOP 1
\echo 'The store now holds one listing:'
SELECT s.key, s.value->>'title' AS title, s.value->'price' AS price, p.name AS seller
  FROM ecl.store s JOIN people p ON p.did = s.value->>'seller'
 WHERE s.realm_id = 'market' AND s.store_name = 'listings';
UNLISTEN ecl_events;

\echo
\echo '=== 2. UI. Show the "seller tools" panel only to callers with reliability >= 0.8'
\echo '       (value = visible). Bob has 0.7 in the market.'
SELECT ecl.register_handler('ui', 'seller-tools', $ecl$
return trust.r >= 0.8
$ecl$, 'market') IS NOT NULL AS registered;
SELECT p.name, (ecl.run_ui('seller-tools', p.did, 'market', '{"component": "seller-tools"}')).value AS visible
  FROM people p WHERE p.name IN ('alice', 'bob') ORDER BY p.name;

\echo
\echo '=== 3. DataLogic. A filter used in WHERE over a table, and an aggregation over it.'
CREATE TABLE offers (id int PRIMARY KEY, listing text, amount numeric, bidder text);
INSERT INTO offers VALUES (1, 'l-1', 20, 'bob'), (2, 'l-1', 24, 'carol'), (3, 'l-1', 31, 'dave');
SELECT ecl.register_handler('datalogic', 'serious-offers', $ecl$
return event.amount >= 22
$ecl$, 'market') IS NOT NULL AS registered;
SELECT ecl.register_handler('datalogic', 'best-offer', $ecl$
let best = 0
for e in events { best = max(best, e.amount) }
return best
$ecl$, 'market') IS NOT NULL AS registered;
SELECT o.* FROM offers o
 WHERE (ecl.run_datalogic('serious-offers', NULL, 'market', jsonb_build_object('event', to_jsonb(o)))).passed
 ORDER BY o.id;
SELECT (ecl.run_datalogic('best-offer', NULL, 'market',
        jsonb_build_object('events', jsonb_agg(to_jsonb(o))))).value AS best_offer
  FROM offers o;

\echo
\echo '=== 4. Governance. A fee-change vote: voters need reliability >= 0.8; with a quorum'
\echo '       of half the members, a simple majority decides the next status.'
SELECT ecl.register_handler('governance', 'fee-change', $ecl$
require has(input, "voter") && voter.trust.r >= 0.8, "voter not trusted enough"
if proposal.yes + proposal.no < proposal.total / 2 { return proposal.status }
return proposal.yes > proposal.no ? "accepted" : "rejected"
$ecl$, 'market') IS NOT NULL AS registered;
SELECT p.name AS voter, r.passed, r.value AS next_status, r.message
  FROM people p, LATERAL ecl.run_governance('fee-change', NULL, 'market',
       jsonb_build_object('proposal', '{"id": "fee-1", "yes": 5, "no": 2, "total": 10, "status": "open"}'::jsonb,
                          'voter', p.did)) AS r
 WHERE p.name IN ('alice', 'bob') ORDER BY p.name;

\echo
\echo '=== 5. Controller. Editing a listing: the seller may; others need reliability >= 0.8.'
SELECT ecl.register_handler('controller', 'listing.edit', $ecl$
if resource.seller == caller { return true }
require trust.r >= 0.8, "only the seller or a highly reliable member may edit"
return true
$ecl$, 'market') IS NOT NULL AS registered;
SELECT p.name, r.passed AS may_edit_alices_listing, r.message
  FROM people p, LATERAL ecl.run_controller('listing.edit', p.did, 'market',
       jsonb_build_object('permission', 'listing.edit',
                          'resource', jsonb_build_object('seller', (SELECT did FROM people WHERE name = 'alice')))) AS r
 WHERE p.name IN ('alice', 'bob') ORDER BY p.name;

\echo
\echo '=== 6. Handlers are registered policies named engine:key.'
SELECT h.engine, h.key, h.policy_name, p.kind, p.realm_id
  FROM ecl.handlers h JOIN ecl.policies p ON p.name = h.policy_name ORDER BY h.engine, h.key;
