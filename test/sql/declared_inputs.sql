--
-- Declared inputs (docs/authoring.md, "Declared inputs"): a policy that
-- names its input fields and their types is checked at registration (an
-- undeclared or misspelt name is 42601 with "did you mean") and its input
-- is checked once per run before the first instruction (EC006 naming the
-- field); a call site's constant jsonb_build_object keys are checked
-- against it at plan time (42703, docs/planner.md).  Policies without a
-- declaration behave as before.
--
\set VERBOSITY terse

SELECT ecl.register_policy('di_doc_read', $$
policy di_doc_read(owner: did, classification: string, level?: number) {
    require classification != "secret" || level != null && level >= 3, "clearance too low"
    return owner == caller || classification == "public"
}
$$) IS NOT NULL AS registered;

SELECT * FROM ecl.policy_inputs('di_doc_read');

-- the typo of the issue: refused at registration, naming the declared field
SELECT ecl.register_policy('di_typo', $$
policy di_typo(owner: did, classification: string) {
    return class == "public"
}
$$);
\echo :LAST_ERROR_SQLSTATE
-- and the silent hole: input.class on a declaring policy
SELECT ecl.register_policy('di_typo', $$
policy di_typo(owner: did, classification: string) {
    return input.class != "secret"
}
$$);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.register_policy('di_typo', $$
policy di_typo(owner: did, level: numbr) { return true }
$$);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS typo_registered FROM ecl.policies WHERE name = 'di_typo';

-- runs: passed, denied, the optional field absent or null
SELECT ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 '{"owner": "did:key:z6MkAlice", "classification": "internal"}') AS own_doc;
SELECT ecl.check('di_doc_read', 'did:key:z6MkBob', NULL,
				 '{"owner": "did:key:z6MkAlice", "classification": "public", "level": null}') AS public_doc;
SELECT ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 '{"owner": "did:key:z6MkAlice", "classification": "secret", "level": 1}') AS low_clearance;
SELECT (ecl.run_policy('di_doc_read', 'did:key:z6MkAlice', NULL,
		'{"owner": "did:key:z6MkAlice", "classification": "secret"}')).message AS denied_without_level;

-- the input check: missing, null, mistyped fields name themselves (EC006)
\set VERBOSITY default
SELECT ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 '{"owner": "did:key:z6MkAlice"}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 '{"owner": "did:key:z6MkAlice", "classification": 3}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 '{"owner": "alice", "classification": "public"}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 '{"owner": "did:key:z6MkAlice", "classification": "public", "level": "3"}');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
-- with ecl.rls_errors = deny an ill-typed row is a denial like any error
SET ecl.rls_errors = deny;
SELECT ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL, '{"owner": "did:key:z6MkAlice"}') AS missing_denied;
RESET ecl.rls_errors;

-- undeclared policies keep today's behaviour: any field, misspelt or not
SELECT ecl.register_policy('di_open', $$
policy di_open { return input.class != "secret" }
$$) IS NOT NULL AS registered;
SELECT ecl.check('di_open', NULL, NULL, '{"classification": "secret"}') AS open_lets_typo_through;
SELECT count(*) AS open_declares_nothing FROM ecl.policy_inputs('di_open');

-- ecl.eval of ad-hoc source checks declarations too
SELECT ecl.eval('policy p(n: number) { return n * 2 }', '{"n": 21}') AS eval_declared;
SELECT ecl.eval('policy p(n: number) { return n * 2 }', '{"n": "21"}');
SELECT ecl.eval('policy p(n: number) { return m * 2 }', '{"n": 21}');
\echo :LAST_ERROR_SQLSTATE

SELECT ecl.policy_inputs('di_nope');


-- ------------------------------------------------- the call site, at plan time
-- Where a call passes jsonb_build_object with constant keys, the keys are
-- checked against the declaration while the statement is planned: a key
-- the policy does not declare, or a required field not passed, is 42703
-- before any row is read, for every role alike.  EXPLAIN plans without
-- running, so each error below comes from the planner.
CREATE TABLE di_docs (id int PRIMARY KEY, owner text, classification text, level int);
INSERT INTO di_docs VALUES (1, 'did:key:z6MkAlice', 'internal', 1),
						   (2, 'did:key:z6MkBob', 'public', NULL);
INSERT INTO ecl.identities (did) VALUES ('did:key:z6MkAlice');
CREATE ROLE regress_di_alice;
CREATE ROLE regress_di_bob;
SELECT ecl.bind_role('regress_di_alice', 'did:key:z6MkAlice');
GRANT SELECT ON di_docs TO regress_di_alice, regress_di_bob;

-- the typo of the issue in a WHERE clause: "class" for "classification"
\set VERBOSITY default
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', ecl.current_did(), NULL,
				 jsonb_build_object('owner', owner, 'class', classification));
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SET ROLE regress_di_alice;
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', ecl.current_did(), NULL,
				 jsonb_build_object('owner', owner, 'class', classification));
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_di_bob;
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', ecl.current_did(), NULL,
				 jsonb_build_object('owner', owner, 'class', classification));
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- a required field not passed at all (here: "classification" left out)
\set VERBOSITY default
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', ecl.current_did(), NULL, jsonb_build_object('owner', owner));
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
-- the same statement with the declared keys plans (and runs); the optional
-- "level" may be left out
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 jsonb_build_object('owner', owner, 'classification', classification));
SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 jsonb_build_object('owner', owner, 'classification', classification,
									'level', level))
 ORDER BY id;

-- the check is not a translation: it holds with ecl.translate = off, and
-- with the settings that keep calls in the VM
SET ecl.translate = off;
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 jsonb_build_object('owner', owner, 'class', classification));
\echo :LAST_ERROR_SQLSTATE
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 jsonb_build_object('owner', owner, 'classification', classification));
RESET ecl.translate;
SET ecl.rls_errors = deny;
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL, jsonb_build_object('owner', owner));
\echo :LAST_ERROR_SQLSTATE
RESET ecl.rls_errors;

-- in an RLS policy: every role subject to it gets the error when planning
CREATE POLICY di_read ON di_docs FOR SELECT
	USING (ecl.allowed('di_doc_read', NULL,
					   jsonb_build_object('owner', owner, 'clasification', classification)));
ALTER TABLE di_docs ENABLE ROW LEVEL SECURITY;
SET ROLE regress_di_alice;
EXPLAIN (COSTS OFF) SELECT id FROM di_docs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_di_bob;
EXPLAIN (COSTS OFF) SELECT id FROM di_docs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- fixed, both roles plan and see what the policy lets them see (Bob, who
-- has no DID, nothing)
DROP POLICY di_read ON di_docs;
CREATE POLICY di_read ON di_docs FOR SELECT
	USING (ecl.allowed('di_doc_read', NULL,
					   jsonb_build_object('owner', owner, 'classification', classification)));
SET ROLE regress_di_alice;
SELECT id FROM di_docs ORDER BY id;
RESET ROLE;
SET ROLE regress_di_bob;
SELECT id FROM di_docs ORDER BY id;
RESET ROLE;
DROP POLICY di_read ON di_docs;
ALTER TABLE di_docs DISABLE ROW LEVEL SECURITY;

-- keys known only per row are left to the run (EC006, as before); keys the
-- planner folds to constants are checked
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 jsonb_build_object('owner', owner, lower('CLASS'), classification));
\echo :LAST_ERROR_SQLSTATE
SELECT id FROM di_docs
 WHERE ecl.check('di_doc_read', 'did:key:z6MkAlice', NULL,
				 jsonb_build_object('owner', owner,
									CASE WHEN id > 0 THEN 'class' END, classification))
 ORDER BY id;
\echo :LAST_ERROR_SQLSTATE

-- undeclared policies: any keys plan and run as before
EXPLAIN (COSTS OFF) SELECT id FROM di_docs
 WHERE ecl.check('di_open', NULL, NULL, jsonb_build_object('class', classification));
SELECT id FROM di_docs
 WHERE ecl.check('di_open', NULL, NULL, jsonb_build_object('class', classification))
 ORDER BY id;

-- a cached plan depends on the declaration: a policy that starts declaring
-- its inputs replans the statements that call it
SELECT ecl.register_policy('di_later', $$
policy di_later { return input.x == "a" }
$$) IS NOT NULL AS registered;
PREPARE di_later_q AS SELECT count(*) FROM di_docs
 WHERE ecl.check('di_later', NULL, NULL, jsonb_build_object('x', classification));
EXECUTE di_later_q;
SELECT ecl.register_policy('di_later', $$
policy di_later(y: string) { return y == "a" }
$$) IS NOT NULL AS registered;
EXECUTE di_later_q;
\echo :LAST_ERROR_SQLSTATE
DEALLOCATE di_later_q;
SELECT ecl.drop_policy('di_later');

DROP TABLE di_docs;
SELECT ecl.unbind_role('regress_di_alice');
DROP ROLE regress_di_alice;
DROP ROLE regress_di_bob;
DELETE FROM ecl.identities WHERE did = 'did:key:z6MkAlice';

SELECT ecl.drop_policy('di_doc_read'), ecl.drop_policy('di_open');
