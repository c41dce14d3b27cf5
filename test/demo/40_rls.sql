-- Demo chapter 40: a table protected by row-level security, queried as two
-- database roles bound to DIDs with different trust.
\pset footer off

\echo
\echo '######## Row-level security with ECL'
\echo
\echo '=== 1. A notes table. Its RLS policy asks a controller handler: you see a note if it is'
\echo '       yours or your reliability reaches its level.'
SELECT ecl.register_handler('controller', 'notes.read', $ecl$
if resource.owner == caller { return true }
require trust.r >= resource.level, "reliability below the note's level"
return true
$ecl$, 'market') IS NOT NULL AS registered;
CREATE TABLE notes (id int PRIMARY KEY, owner_did text NOT NULL, body text, level float8);
INSERT INTO notes
    SELECT 1, did, 'Alice: shop opening hours', 0.1 FROM people WHERE name = 'alice' UNION ALL
    SELECT 2, did, 'Alice: supplier prices',    0.8 FROM people WHERE name = 'alice' UNION ALL
    SELECT 3, did, 'Bob: my private list',      0.95 FROM people WHERE name = 'bob' UNION ALL
    SELECT 4, did, 'Bob: market gossip',        0.3 FROM people WHERE name = 'bob';
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_read ON notes FOR SELECT
    USING (ecl.allowed('controller:notes.read', 'market',
           jsonb_build_object('permission', 'notes.read',
                              'resource', jsonb_build_object('owner', owner_did, 'level', level))));

\echo
\echo '=== 2. Two database roles, each bound to its DID with ecl.bind_role.'
CREATE ROLE demo_alice;
CREATE ROLE demo_bob;
SELECT ecl.bind_role('demo_alice', (SELECT did FROM people WHERE name = 'alice'));
SELECT ecl.bind_role('demo_bob', (SELECT did FROM people WHERE name = 'bob'));
GRANT SELECT ON notes, people TO demo_alice, demo_bob;

\echo
\echo '=== 3. The same query, two roles, different rows. Alice (R 0.9) sees her notes and'
\echo '       Bob''s gossip; Bob (R 0.7 in the market) sees his own and Alice''s opening hours.'
SET ROLE demo_alice;
SELECT current_user, n.id, p.name AS owner, n.body, n.level FROM notes n JOIN people p ON p.did = n.owner_did ORDER BY n.id;
RESET ROLE;
SET ROLE demo_bob;
SELECT current_user, n.id, p.name AS owner, n.body, n.level FROM notes n JOIN people p ON p.did = n.owner_did ORDER BY n.id;
RESET ROLE;
