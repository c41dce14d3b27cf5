--
-- Revoked identities lose everything (docs/security.md, "Revoked
-- identities"): once ecl.identities.revoked is true, that DID has the zero
-- trust vector, no credentials (as subject or as issuer, signed or not), a
-- balance of 0, resolve_did false, no identity through its role binding,
-- and every crossing is refused with the violation 'identity revoked'.  All
-- from the next statement of the same session on (per-statement memo,
-- per-backend signature cache), for ECL runs, the SQL twins, the gateway and
-- the snapshot.  Lifting the revocation gives everything back: the rows
-- stay, the flag decides.  Keys are random: DIDs live in psql variables.
--
\set VERBOSITY terse

SELECT did AS issuer, secret_key AS issuer_sk FROM ecl.generate_identity() \gset
SELECT did AS subject FROM ecl.generate_identity() \gset
SELECT did AS other FROM ecl.generate_identity() \gset
INSERT INTO ecl.realms (realm_id, min_trust, required_credentials) VALUES
	('ir-open', 0, '{}'), ('ir-kyc', 0.5, '{kyc}');
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	(:'subject', '', 0.9, 0.9, 0.9, 0.9, 0.9, 0.9),
	(:'subject', 'ir-kyc', 0.8, 0.8, 0.8, 0.8, 0.8, 0.8);
INSERT INTO ecl.balances (did, amount) VALUES (:'subject', 100);
-- the subject: kyc signed by the issuer, plain unsigned without an issuer;
-- the other: vouched signed by the issuer, note unsigned naming the issuer
SELECT ecl.issue_credential(:'subject', 'kyc', :'issuer', :'issuer_sk') AS kyc \gset
INSERT INTO ecl.credentials (subject_did, schema) VALUES (:'subject', 'plain')
	RETURNING id AS plain \gset
SELECT ecl.issue_credential(:'other', 'vouched', :'issuer', :'issuer_sk') AS vouched \gset
INSERT INTO ecl.credentials (subject_did, schema, issuer_did) VALUES (:'other', 'note', :'issuer')
	RETURNING id AS note \gset

SELECT ecl.register_policy('ir_view', $$policy ir_view {
    return [trust.r, load_trust(caller).omega, get_balance(caller),
            has_credential(caller, "kyc"), has_credential(caller, "plain"),
            resolve_did(caller)]
}$$) IS NOT NULL AS registered;
SELECT ecl.register_policy('ir_other', $$policy ir_other {
    return [has_credential(other, "vouched"), has_credential(other, "note"),
            resolve_did(issuer)]
}$$) IS NOT NULL AS registered;
SELECT ecl.register_policy('ir_gate', 'policy ir_gate { return trust.r >= 0.5 }')
	IS NOT NULL AS registered;

CREATE ROLE regress_ir_user;
SELECT ecl.bind_role('regress_ir_user', :'subject');

-- Everything about the subject, one statement each, in this session.
CREATE FUNCTION pg_temp.subject_view(did text, realm text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT (ecl.run_policy('ir_view', did, realm)).value $$;
CREATE FUNCTION pg_temp.sql_twins(did text, kyc bigint, plain bigint,
	OUT has_kyc boolean, OUT has_plain boolean, OUT kyc_valid boolean, OUT plain_valid boolean)
LANGUAGE sql AS $$
	SELECT ecl.has_credential(did, 'kyc'), ecl.has_credential(did, 'plain'),
		   ecl.verify_credential(kyc), ecl.verify_credential(plain)
$$;

-- ----------------------------------------------------------------- before
SELECT pg_temp.subject_view(:'subject', 'ir-kyc') AS in_realm,
	   pg_temp.subject_view(:'subject', NULL) AS global;
SELECT * FROM pg_temp.sql_twins(:'subject', :kyc, :plain);
SELECT allowed, violations FROM ecl.validate_crossing(:'subject', 'ir-open', 'ir-kyc');
SET ROLE regress_ir_user;
SELECT ecl.current_did() = :'subject' AS bound, ecl.allowed('ir_gate', 'ir-kyc') AS allowed;
RESET ROLE;
-- the same through ecl.check in a WHERE clause, memoized within the statement
SELECT count(*) FILTER (WHERE ecl.check('ir_gate', :'subject', 'ir-kyc')) AS passed
  FROM generate_series(1, 20);

-- ----------------------------------------------------------------- revoked
UPDATE ecl.identities SET revoked = true WHERE did = :'subject';

-- trust zero (realm and global rows alike), balance 0, no credentials,
-- does not resolve
SELECT pg_temp.subject_view(:'subject', 'ir-kyc') AS in_realm,
	   pg_temp.subject_view(:'subject', NULL) AS global;
-- the SQL twins agree, including a signature verified before (cached)
SELECT * FROM pg_temp.sql_twins(:'subject', :kyc, :plain);
-- the rows are still there
SELECT (SELECT count(*) FROM ecl.trust WHERE did = :'subject') AS trust_rows,
	   (SELECT count(*) FROM ecl.credentials WHERE subject_did = :'subject') AS credential_rows,
	   (SELECT amount FROM ecl.balances WHERE did = :'subject') AS balance_row;
-- crossings: 'identity revoked' first, and the zero trust and missing
-- credential follow from it; allow_crossing and join_realm refuse (EC001)
SELECT allowed, violations, original_trust, dampened_trust
  FROM ecl.validate_crossing(:'subject', 'ir-open', 'ir-kyc');
SELECT allowed, violations FROM ecl.validate_crossing(:'subject', 'ir-kyc', 'ir-open');
SELECT ecl.allow_crossing(:'subject', 'ir-kyc', 'ir-open');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.join_realm(:'subject', 'ir-kyc', 'ir-open');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS memberships FROM ecl.realm_members WHERE did = :'subject';
-- the role bound to it has no identity: ecl.allowed is false
SET ROLE regress_ir_user;
SELECT ecl.current_did() IS NULL AS no_identity, ecl.allowed('ir_gate', 'ir-kyc') AS allowed;
RESET ROLE;
SELECT count(*) FILTER (WHERE ecl.check('ir_gate', :'subject', 'ir-kyc')) AS passed
  FROM generate_series(1, 20);
-- the snapshot carries the flag; simulate answers as run_policy did
SELECT s -> 'identities' -> :'subject' AS identity,
	   s -> 'credentials' -> :'subject' AS credentials,
	   s -> 'trust' -> :'subject' -> 'global' IS NOT NULL AS trust_row_kept,
	   (ecl.simulate('ir_view', :'subject', 'ir-kyc', '{}', s)).value
		   = pg_temp.subject_view(:'subject', 'ir-kyc') AS simulate_agrees
  FROM ecl.snapshot('ir-kyc') AS s;

-- ------------------------------------------------------------------ issuer
SELECT (ecl.run_policy('ir_other', NULL, NULL,
		jsonb_build_object('other', :'other', 'issuer', :'issuer'))).value AS before,
	   ecl.verify_credential(:vouched) AS vouched_valid,
	   ecl.verify_credential(:note) AS note_valid;
UPDATE ecl.identities SET revoked = true WHERE did = :'issuer';
-- what a revoked issuer issued no longer counts, signed or not
SELECT (ecl.run_policy('ir_other', NULL, NULL,
		jsonb_build_object('other', :'other', 'issuer', :'issuer'))).value AS after,
	   ecl.verify_credential(:vouched) AS vouched_valid,
	   ecl.verify_credential(:note) AS note_valid,
	   ecl.has_credential(:'other', 'vouched') AS has_vouched,
	   ecl.has_credential(:'other', 'note') AS has_note;
SELECT s -> 'credentials' -> :'other' AS other_credentials,
	   (ecl.simulate('ir_other', NULL, NULL,
					 jsonb_build_object('other', :'other', 'issuer', :'issuer'), s)).value
		   AS simulated
  FROM ecl.snapshot(NULL) AS s;

-- ------------------------------------------------------------------ lifted
UPDATE ecl.identities SET revoked = false WHERE did IN (:'subject', :'issuer');
SELECT pg_temp.subject_view(:'subject', 'ir-kyc') AS in_realm;
SELECT * FROM pg_temp.sql_twins(:'subject', :kyc, :plain);
SELECT allowed, violations FROM ecl.validate_crossing(:'subject', 'ir-open', 'ir-kyc');
SELECT (ecl.run_policy('ir_other', NULL, NULL,
		jsonb_build_object('other', :'other', 'issuer', :'issuer'))).value AS lifted;
SET ROLE regress_ir_user;
SELECT ecl.current_did() = :'subject' AS bound, ecl.allowed('ir_gate', 'ir-kyc') AS allowed;
RESET ROLE;

-- ------------------------------------------------------------------ cleanup
SELECT ecl.unbind_role('regress_ir_user');
DROP ROLE regress_ir_user;
SELECT count(ecl.drop_policy(p)) AS dropped FROM unnest(ARRAY['ir_view', 'ir_other', 'ir_gate']) p;
DELETE FROM ecl.identities WHERE did IN (:'issuer', :'subject', :'other');
DELETE FROM ecl.realms WHERE realm_id IN ('ir-open', 'ir-kyc');
