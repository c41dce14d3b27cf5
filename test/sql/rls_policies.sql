--
-- Row-level security with ECL (docs/engines.md, "Row-level security"): the
-- documented table and policies, run verbatim, with two real roles bound to
-- DIDs of different trust.  They see different rows of the same table, the
-- WITH CHECK policy decides their inserts, and the results stay the same
-- under forced parallel mode (ecl.allowed is PARALLEL RESTRICTED: it runs in
-- the leader).  Exact statistics: one run per row evaluated.
--
\set VERBOSITY terse

-- the documented setup, controller handlers and RLS table
\! test/doc-example.sh docs/engines.md setup > test/results/rls_setup.sql
\i test/results/rls_setup.sql
\! test/doc-example.sh docs/engines.md controller > test/results/rls_controller.sql
\i test/results/rls_controller.sql
\! test/doc-example.sh docs/engines.md rls > test/results/rls_table.sql
\i test/results/rls_table.sql

-- two application roles, bound to Alice (reliability 0.9) and Bob (0.3),
-- and one without a DID
CREATE ROLE regress_rls_alice;
CREATE ROLE regress_rls_bob;
CREATE ROLE regress_rls_nobody;
SELECT ecl.bind_role('regress_rls_alice', 'did:example:alice');
SELECT ecl.bind_role('regress_rls_bob', 'did:example:bob');
GRANT SELECT, INSERT ON documents TO regress_rls_alice, regress_rls_bob, regress_rls_nobody;

-- the functions RLS uses: STABLE and PARALLEL RESTRICTED
SELECT p.proname, p.provolatile, p.proparallel,
	   has_function_privilege('regress_rls_nobody', p.oid, 'EXECUTE') AS public_may_call
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'ecl' AND p.proname IN ('allowed', 'check', 'current_did')
 ORDER BY p.proname;

-- ------------------------------------------------------------------ reading
SET ROLE regress_rls_alice;
SELECT ecl.current_did() AS me, id, owner_did, title, level FROM documents ORDER BY id;
RESET ROLE;
SET ROLE regress_rls_bob;
SELECT ecl.current_did() AS me, id, owner_did, title, level FROM documents ORDER BY id;
RESET ROLE;
SET ROLE regress_rls_nobody;
SELECT ecl.current_did() AS me, count(*) AS visible FROM documents;
RESET ROLE;
-- the owner (superuser here) is not subject to the policies
SELECT count(*) AS owner_sees FROM documents;

-- a user's own conditions combine with the policy
SET ROLE regress_rls_alice;
SELECT id FROM documents WHERE title LIKE 'B%' ORDER BY id;
RESET ROLE;

-- ------------------------------------------------------ forced parallel mode
-- ecl.allowed is PARALLEL RESTRICTED, so PostgreSQL keeps it in the leader:
-- the answers do not change when parallel plans are forced
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
					   THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
				  'on', false) AS forced_parallel;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET ROLE regress_rls_alice;
SELECT array_agg(id ORDER BY id) AS alice_sees FROM documents;
RESET ROLE;
SET ROLE regress_rls_bob;
SELECT array_agg(id ORDER BY id) AS bob_sees FROM documents;
RESET ROLE;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
					   THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
				  'off', false) AS forced_parallel;

-- ----------------------------------------------------------- WITH CHECK
SET ROLE regress_rls_bob;
-- in somebody else's name
INSERT INTO documents VALUES (10, 'did:example:alice', 'Forged', 0);
\echo :LAST_ERROR_SQLSTATE
-- above his own reliability
INSERT INTO documents VALUES (11, 'did:example:bob', 'Too secret', 0.5);
\echo :LAST_ERROR_SQLSTATE
-- his own, low enough: allowed, and he sees it
INSERT INTO documents VALUES (12, 'did:example:bob', 'Shopping list', 0.1);
SELECT array_agg(id ORDER BY id) AS bob_sees FROM documents;
RESET ROLE;
SET ROLE regress_rls_alice;
INSERT INTO documents VALUES (13, 'did:example:alice', 'Strategy', 0.9);
-- Alice sees Bob's new low-level document too
SELECT array_agg(id ORDER BY id) AS alice_sees FROM documents;
RESET ROLE;
SET ROLE regress_rls_nobody;
INSERT INTO documents VALUES (14, 'did:example:bob', 'Anonymous', 0);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT array_agg(id ORDER BY id) AS stored FROM documents;

-- -------------------------------------------- trust and bindings are live
-- raising Bob's trust shows him more from the next statement on
UPDATE ecl.trust SET r = 0.85 WHERE did = 'did:example:bob' AND realm_id = 'shop';
SET ROLE regress_rls_bob;
SELECT array_agg(id ORDER BY id) AS bob_sees FROM documents;
RESET ROLE;
UPDATE ecl.trust SET r = 0.3 WHERE did = 'did:example:bob' AND realm_id = 'shop';
-- rebinding a role changes whose rows it sees
SELECT ecl.bind_role('regress_rls_bob', 'did:example:alice');
SET ROLE regress_rls_bob;
SELECT array_agg(id ORDER BY id) AS bob_as_alice_sees FROM documents;
RESET ROLE;
SELECT ecl.bind_role('regress_rls_bob', 'did:example:bob');

-- ------------------------------------------------------------- statistics
-- one controller run per row the policy evaluates: 6 rows as Alice, of
-- which she may read 5; one insert check as Bob, denied
SELECT ecl.stat_reset();
SET ROLE regress_rls_alice;
SELECT count(*) AS alice_count FROM documents;
RESET ROLE;
SET ROLE regress_rls_bob;
INSERT INTO documents VALUES (15, 'did:example:alice', 'Forged again', 0);
RESET ROLE;
SELECT policy_type, executions, passed, denied, errors
  FROM ecl.stat_eclvm_by_type WHERE policy_type = 'controller';
SELECT policy, calls, passed, denied, errors
  FROM ecl.stat_eclvm_policies WHERE policy LIKE 'controller:docs.%' ORDER BY policy;

-- ------------------------------------------------------------------ clean up
DROP TABLE documents;
SELECT ecl.unbind_role('regress_rls_alice'), ecl.unbind_role('regress_rls_bob');
DROP ROLE regress_rls_alice;
DROP ROLE regress_rls_bob;
DROP ROLE regress_rls_nobody;
SELECT ecl.drop_handler('controller', 'docs.read'), ecl.drop_handler('controller', 'docs.write');
DELETE FROM ecl.identities WHERE did LIKE 'did:example:%';
DELETE FROM ecl.realms WHERE realm_id = 'shop';
