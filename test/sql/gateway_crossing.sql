--
-- The unified crossing gateway (docs/sql-api.md, "The crossing gateway"): ecl.validate_crossing,
-- ecl.allow_crossing and ecl.join_realm.  Identity, min_trust at the
-- boundary, trust in the realm vs the global row vs none, required
-- credentials (signed with generated keys), required rules, the entry
-- policy and its trust-scaled budget, dampening, errors.
--
-- Generated DIDs and keys are random: they live in psql variables and only
-- booleans and violations that do not name them are printed.
--
\set VERBOSITY terse

-- trust vectors rounded for printing
CREATE FUNCTION pg_temp.rounded(a float8[]) RETURNS numeric[]
	LANGUAGE sql IMMUTABLE
	AS $$ SELECT array_agg(round(x::numeric, 4) ORDER BY n)
		  FROM unnest(a) WITH ORDINALITY AS u(x, n) $$;

-- ------------------------------------------------------------ the cast
-- alice: realm rows for gw-open and gw-strict plus a global row;
-- bob: only a global row; carol: no trust at all; dave: revoked.
INSERT INTO ecl.identities (did) VALUES
	('did:regress:gw-alice'), ('did:regress:gw-bob'),
	('did:regress:gw-carol'), ('did:regress:gw-dave');
UPDATE ecl.identities SET revoked = true WHERE did = 'did:regress:gw-dave';
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:gw-alice', 'gw-open',   0.9, 0.8, 0.7, 0.6, 0.5, 0.4),
	('did:regress:gw-alice', 'gw-strict', 1,   1,   1,   0.5, 0.5, 0.5),
	('did:regress:gw-alice', '',          0.1, 0.1, 0.1, 0.1, 0.1, 0.1),
	('did:regress:gw-bob',   '',          0.5, 0.5, 0.5, 0.5, 0.5, 0.5),
	('did:regress:gw-dave',  '',          1,   1,   1,   1,   1,   1);

-- gw-open: no requirements at all; gw-strict: min_trust 0.75
INSERT INTO ecl.realms (realm_id, name, min_trust) VALUES
	('gw-open', 'Open', 0), ('gw-strict', 'Strict', 0.75);

-- ------------------------------------------------- trust and its source
-- realm row / global row / no row (zero vector); default dampening
SELECT allowed, violations, original_trust,
	   pg_temp.rounded(dampened_trust) AS dampened, policy, gas_used, mana_used
  FROM ecl.validate_crossing('did:regress:gw-alice', 'gw-home', 'gw-open');
SELECT allowed, violations, original_trust,
	   pg_temp.rounded(dampened_trust) AS dampened, policy, gas_used, mana_used
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-open');
SELECT allowed, violations, original_trust, dampened_trust
  FROM ecl.validate_crossing('did:regress:gw-carol', 'gw-home', 'gw-open');

-- the default factors are 0.7 × (0.8, 0.9, 0.4, 0.3) and 1 for V and Omega
-- (read through dave's all-ones row, his revocation lifted for the moment:
-- a revoked identity has the zero vector)
UPDATE ecl.identities SET revoked = false WHERE did = 'did:regress:gw-dave';
SELECT pg_temp.rounded(dampened_trust) AS factors
  FROM ecl.validate_crossing('did:regress:gw-dave', 'gw-home', 'gw-open');
UPDATE ecl.identities SET revoked = true WHERE did = 'did:regress:gw-dave';

-- --------------------------------------------------------------- identity
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gw-nobody', 'gw-home', 'gw-open');
-- revoked: the violation names no DID, and the trust it kept counts as zero
SELECT allowed, violations, original_trust
  FROM ecl.validate_crossing('did:regress:gw-dave', 'gw-home', 'gw-open');

-- ------------------------------------------------- min_trust at the boundary
-- alice's gw-strict row averages exactly 0.75: equal to min_trust passes
SELECT allowed, violations, original_trust
  FROM ecl.validate_crossing('did:regress:gw-alice', 'gw-home', 'gw-strict');
UPDATE ecl.realms SET min_trust = 0.7500001 WHERE realm_id = 'gw-strict';
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gw-alice', 'gw-home', 'gw-strict');
-- bob has no gw-strict row: his global 0.5 is used; carol has nothing
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-strict');
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gw-carol', 'gw-home', 'gw-strict');
-- every violation is reported, in order: identity, trust
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gw-nobody', 'gw-home', 'gw-strict');
UPDATE ecl.realms SET min_trust = 0.75 WHERE realm_id = 'gw-strict';

-- ------------------------------------------------------- required credentials
SELECT did AS issuer, secret_key AS issuer_sk FROM ecl.generate_identity() \gset
SELECT did AS holder FROM ecl.generate_identity() \gset
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega)
	VALUES (:'holder', '', 0.6, 0.6, 0.6, 0.6, 0.6, 0.6);
INSERT INTO ecl.realms (realm_id, min_trust, required_credentials)
	VALUES ('gw-kyc', 0.5, '{kyc, over-18}');

-- none yet: both missing, in the realm's order
SELECT allowed, violations FROM ecl.validate_crossing(:'holder', 'gw-home', 'gw-kyc');
SELECT ecl.issue_credential(:'holder', 'kyc', :'issuer', :'issuer_sk') IS NOT NULL AS issued;
SELECT allowed, violations FROM ecl.validate_crossing(:'holder', 'gw-home', 'gw-kyc');
-- an expired credential counts as absent
SELECT ecl.issue_credential(:'holder', 'over-18', :'issuer', :'issuer_sk',
							now() - interval '1 day') IS NOT NULL AS issued_expired;
SELECT allowed, violations FROM ecl.validate_crossing(:'holder', 'gw-home', 'gw-kyc');
-- so does one whose signature does not verify
INSERT INTO ecl.credentials (subject_did, schema, issuer_did, signature)
	VALUES (:'holder', 'over-18', :'issuer', decode(repeat('00', 64), 'hex'));
SELECT allowed, violations FROM ecl.validate_crossing(:'holder', 'gw-home', 'gw-kyc');
-- a valid one: allowed
SELECT ecl.issue_credential(:'holder', 'over-18', :'issuer', :'issuer_sk',
							now() + interval '1 day') AS over18 \gset
SELECT allowed, violations FROM ecl.validate_crossing(:'holder', 'gw-home', 'gw-kyc');
-- revoked: absent again
UPDATE ecl.credentials SET revoked_at = now() - interval '1 second' WHERE id = :over18;
SELECT allowed, violations FROM ecl.validate_crossing(:'holder', 'gw-home', 'gw-kyc');

-- ----------------------------------------------------------- required rules
-- A rule is a registered policy run with caller = the DID, realm = the
-- target realm, input {from_realm, to_realm}, under its own kind.
SELECT ecl.register_policy('gw_rule_origin',
	'policy gw_rule_origin {
		require from_realm != "gw-banned", "origin realm is banned"
		return to_realm == realm
	}', 'membership') IS NOT NULL AS registered;
SELECT ecl.register_policy('gw_rule_integrity',
	'policy gw_rule_integrity { return trust.i >= 0.5 }', 'custom') IS NOT NULL AS registered;
INSERT INTO ecl.realms (realm_id, required_rules)
	VALUES ('gw-ruled', '{gw_rule_origin, gw_rule_integrity}');

-- bob passes both; alice has no gw-ruled row, and her global i = 0.1 fails
-- the second
SELECT allowed, violations, policy, gas_used > 0 AS rules_ran, mana_used
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-ruled');
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gw-alice', 'gw-home', 'gw-ruled');
-- a denying require names its message; every rule still runs
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gw-alice', 'gw-banned', 'gw-ruled');
-- a rule that is not a registered policy is a violation, not an error
UPDATE ecl.realms SET required_rules = '{gw_rule_origin, gw_rule_missing}'
 WHERE realm_id = 'gw-ruled';
SELECT allowed, violations
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-ruled');
-- rules do not run for an unregistered or revoked identity
SELECT allowed, violations, gas_used
  FROM ecl.validate_crossing('did:regress:gw-dave', 'gw-banned', 'gw-ruled');

-- ------------------------------------------------------------ entry policy
SELECT ecl.register_policy('gw_entry',
	'policy gw_entry {
		require trust.c >= 0.5, "confidence too low for this realm"
		return from_realm == "gw-home"
	}', 'crossing') IS NOT NULL AS registered;
INSERT INTO ecl.realms (realm_id, min_trust, entry_policy)
	VALUES ('gw-gated', 0.2, 'gw_entry');

-- allowed: the policy ran and its costs are reported
SELECT allowed, violations, policy, gas_used > 0 AS gas, mana_used > 0 AS mana,
	   duration_us >= 0 AS timed
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-gated');
-- denied by a require: its message
UPDATE ecl.trust SET c = 0.4 WHERE did = 'did:regress:gw-bob' AND realm_id = '';
SELECT allowed, violations, policy
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-gated');
UPDATE ecl.trust SET c = 0.5 WHERE did = 'did:regress:gw-bob' AND realm_id = '';
-- denied by a falsy return value: "returned <value>"
SELECT allowed, violations, policy
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-elsewhere', 'gw-gated');
-- the entry policy runs only when every rule check passed
SELECT allowed, violations, policy, gas_used
  FROM ecl.validate_crossing('did:regress:gw-carol', 'gw-home', 'gw-gated');
-- rules and the entry policy together: gas is the sum of both runs
UPDATE ecl.realms SET required_rules = '{gw_rule_origin}' WHERE realm_id = 'gw-gated';
SELECT (SELECT gas_used FROM ecl.run_policy('gw_rule_origin', 'did:regress:gw-bob', 'gw-gated',
			'{"from_realm": "gw-home", "to_realm": "gw-gated"}'))
	 + (SELECT gas_used FROM ecl.run_policy('gw_entry', 'did:regress:gw-bob', 'gw-gated',
			'{"from_realm": "gw-home", "to_realm": "gw-gated"}')) AS separate_gas,
	   (SELECT gas_used FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-gated'))
	   AS gateway_gas;
UPDATE ecl.realms SET required_rules = '{}' WHERE realm_id = 'gw-gated';
-- an entry policy that is not registered refuses the crossing
UPDATE ecl.realms SET entry_policy = 'gw_entry_missing' WHERE realm_id = 'gw-gated';
SELECT allowed, violations, policy
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-gated');
UPDATE ecl.realms SET entry_policy = 'gw_entry' WHERE realm_id = 'gw-gated';
-- a runtime error of the entry policy is an SQL error, not a violation
SELECT ecl.register_policy('gw_entry_broken',
	'policy gw_entry_broken { return 1 / (to_realm == "gw-gated" ? 0 : 1) }',
	'crossing') IS NOT NULL AS registered;
UPDATE ecl.realms SET entry_policy = 'gw_entry_broken' WHERE realm_id = 'gw-gated';
SELECT allowed FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-gated');
\echo :LAST_ERROR_SQLSTATE
UPDATE ecl.realms SET entry_policy = 'gw_entry' WHERE realm_id = 'gw-gated';

-- ------------------------------------------------ the trust-scaled budget
-- gw_heavy needs 1073 gas.  With ecl.gas_limit = 1600 a caller gets
-- 1600 × (0.5 + 0.5·R): R = 0 → 800, R = 0.3 → 1040 (both too little),
-- R = 0.35 → 1080, R = 1 → 1600 (enough).  R comes from the target realm's
-- row, else the global row.
SELECT ecl.register_policy('gw_heavy',
	'policy gw_heavy {
		let s = 0
		for a in [1, 2, 3, 4, 5, 6, 7, 8] {
			for b in [1, 2, 3, 4, 5, 6, 7, 8] {
				s = s + a * b
			}
		}
		return s > 0
	}', 'crossing') IS NOT NULL AS registered;
SELECT gas_used AS heavy_gas
  FROM ecl.run_policy('gw_heavy', 'did:regress:gw-carol', 'gw-open');
INSERT INTO ecl.realms (realm_id, entry_policy) VALUES ('gw-heavy', 'gw_heavy');
INSERT INTO ecl.identities (did) VALUES
	('did:regress:gw-r0'), ('did:regress:gw-r30'),
	('did:regress:gw-r35'), ('did:regress:gw-r100');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	('did:regress:gw-r0',   '',         0,    1, 1, 1, 1, 1),
	('did:regress:gw-r30',  'gw-heavy', 0.3,  1, 1, 1, 1, 1),
	('did:regress:gw-r30',  '',         1,    1, 1, 1, 1, 1),
	('did:regress:gw-r35',  '',         0.35, 1, 1, 1, 1, 1),
	('did:regress:gw-r100', '',         1,    0, 0, 0, 0, 0);
SET ecl.gas_limit = 1600;
SELECT allowed FROM ecl.validate_crossing('did:regress:gw-r0', 'gw-home', 'gw-heavy');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT allowed FROM ecl.validate_crossing('did:regress:gw-r30', 'gw-home', 'gw-heavy');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT allowed, violations, policy, gas_used
  FROM ecl.validate_crossing('did:regress:gw-r35', 'gw-home', 'gw-heavy');
SELECT allowed, violations, policy, gas_used
  FROM ecl.validate_crossing('did:regress:gw-r100', 'gw-home', 'gw-heavy');
RESET ecl.gas_limit;
-- mana scales the same way: gw_lookup needs 10 + 100 (one load_trust) mana;
-- with ecl.mana_limit = 200, R = 0 gets 100 (EC003), R = 1 gets 200
SELECT ecl.register_policy('gw_lookup',
	'policy gw_lookup { return load_trust(caller).r >= 0 }', 'crossing') IS NOT NULL AS registered;
SELECT mana_used AS lookup_mana
  FROM ecl.run_policy('gw_lookup', 'did:regress:gw-r0', 'gw-open');
INSERT INTO ecl.realms (realm_id, entry_policy) VALUES ('gw-lookup', 'gw_lookup');
SET ecl.mana_limit = 200;
SELECT allowed FROM ecl.validate_crossing('did:regress:gw-r0', 'gw-home', 'gw-lookup');
\echo :LAST_ERROR_SQLSTATE
SELECT allowed, mana_used
  FROM ecl.validate_crossing('did:regress:gw-r100', 'gw-home', 'gw-lookup');
RESET ecl.mana_limit;

-- ---------------------------------------------------------------- dampening
-- a realm's own factors replace the defaults
INSERT INTO ecl.realms (realm_id, dampening)
	VALUES ('gw-damp', '{1, 0.5, 0.25, 0, 0.5, 0.1}');
SELECT original_trust, pg_temp.rounded(dampened_trust) AS dampened
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-damp');
SELECT original_trust, pg_temp.rounded(dampened_trust) AS dampened
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-open');
-- a denied crossing still reports both vectors
SELECT allowed, pg_temp.rounded(dampened_trust) AS dampened
  FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-strict');

-- -------------------------------------------------------------- allow_crossing
SELECT pg_temp.rounded(ecl.allow_crossing('did:regress:gw-bob', 'gw-home', 'gw-damp'))
	AS dampened;
SELECT ecl.allow_crossing('did:regress:gw-bob', 'gw-home', 'gw-strict');
\echo :LAST_ERROR_SQLSTATE
-- the first violation is the message; the others are in the detail
\set VERBOSITY default
SELECT ecl.allow_crossing('did:regress:gw-nobody', 'gw-home', 'gw-kyc');
SELECT ecl.allow_crossing('did:regress:gw-bob', 'gw-elsewhere', 'gw-gated');
\set VERBOSITY terse

-- ------------------------------------------------------------------ join_realm
SELECT pg_temp.rounded(ecl.join_realm('did:regress:gw-bob', 'gw-home', 'gw-open'))
	AS dampened;
SELECT did, realm_id, from_realm, joined_at <= now() AS joined_before_now
  FROM ecl.realm_members WHERE did LIKE 'did:regress:gw-%' ORDER BY 1, 2;
-- joining again updates the origin (upsert, no duplicate)
SELECT ecl.join_realm('did:regress:gw-bob', 'gw-damp', 'gw-open') IS NOT NULL AS joined;
SELECT did, realm_id, from_realm
  FROM ecl.realm_members WHERE did LIKE 'did:regress:gw-%' ORDER BY 1, 2;
-- a refused join records nothing
SELECT ecl.join_realm('did:regress:gw-bob', 'gw-home', 'gw-strict');
\echo :LAST_ERROR_SQLSTATE :LAST_ERROR_MESSAGE
SELECT count(*) AS strict_members FROM ecl.realm_members WHERE realm_id = 'gw-strict';
-- generated identities join the same way
SELECT ecl.join_realm(:'holder', 'gw-home', 'gw-open') IS NOT NULL AS joined;
SELECT count(*) AS holder_memberships FROM ecl.realm_members WHERE did = :'holder';

-- ------------------------------------------------------------------- errors
SELECT * FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', 'gw-no-such-realm');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.allow_crossing('did:regress:gw-bob', 'gw-home', 'gw-no-such-realm');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.join_realm('did:regress:gw-bob', 'gw-home', 'gw-no-such-realm');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.validate_crossing(NULL, 'gw-home', 'gw-open');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ecl.validate_crossing('did:regress:gw-bob', NULL, 'gw-open');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.allow_crossing('did:regress:gw-bob', 'gw-home', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.join_realm(NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
-- empty strings are ordinary (unregistered / unknown) values
SELECT allowed, violations FROM ecl.validate_crossing('', '', 'gw-open');
SELECT * FROM ecl.validate_crossing('did:regress:gw-bob', 'gw-home', '');
\echo :LAST_ERROR_SQLSTATE

-- ------------------------------------------------------------------ clean up
DELETE FROM ecl.realm_members WHERE realm_id LIKE 'gw-%';
DELETE FROM ecl.realms WHERE realm_id LIKE 'gw-%';
SELECT ecl.drop_policy(p) FROM unnest(ARRAY['gw_rule_origin', 'gw_rule_integrity',
	'gw_entry', 'gw_entry_broken', 'gw_heavy', 'gw_lookup']) AS p;
DELETE FROM ecl.credentials WHERE subject_did = :'holder';
DELETE FROM ecl.identities WHERE did IN (:'holder', :'issuer')
	OR did LIKE 'did:regress:gw-%';
