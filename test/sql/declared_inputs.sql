--
-- Declared inputs (docs/authoring.md, "Declared inputs"): a policy that
-- names its input fields and their types is checked at registration (an
-- undeclared or misspelt name is 42601 with "did you mean") and its input
-- is checked once per run before the first instruction (EC006 naming the
-- field).  Policies without a declaration behave as before.
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

SELECT ecl.drop_policy('di_doc_read'), ecl.drop_policy('di_open');
