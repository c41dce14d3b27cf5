--
-- No identity, no access (docs/security.md, "Callers without an identity"):
-- ecl.allowed with no caller identity (ecl.current_did() is NULL: a role
-- without a binding, or bound to a revoked DID) is false without running
-- the policy, counted as a denied run, unless the superuser setting
-- ecl.allow_anonymous is on.  The reproduction: an RLS policy
-- "owner == caller" must not show a role without a DID the rows whose owner
-- is NULL (null == null would be true if the policy ran).  Real roles.
-- Also: ecl.current_did() is memoized per statement, the SQL function as
-- well as the copy ecl.allowed uses.
--
\set VERBOSITY terse
-- This suite counts the VM runs of ecl.allowed: keep every call in the VM (translated calls are
-- not runs; planner_translate covers them).
SET ecl.translate = off;

INSERT INTO ecl.identities (did) VALUES ('did:regress:ni-alice'), ('did:regress:ni-carol');
INSERT INTO ecl.realms (realm_id) VALUES ('ni-realm');
SELECT ecl.register_policy('ni_owner', 'policy ni_owner { return owner == caller }')
	IS NOT NULL AS registered;

CREATE TABLE ni_notes (id int PRIMARY KEY, owner text, body text);
INSERT INTO ni_notes VALUES
	(1, 'did:regress:ni-alice', 'alice''s'),
	(2, NULL, 'nobody''s'),
	(3, 'did:regress:ni-carol', 'carol''s'),
	(4, NULL, 'nobody''s too');
ALTER TABLE ni_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY ni_read ON ni_notes FOR SELECT
	USING (ecl.allowed('ni_owner', 'ni-realm', jsonb_build_object('owner', owner)));

CREATE ROLE regress_ni_alice;
CREATE ROLE regress_ni_carol;
CREATE ROLE regress_ni_nobody;
SELECT ecl.bind_role('regress_ni_alice', 'did:regress:ni-alice');
SELECT ecl.bind_role('regress_ni_carol', 'did:regress:ni-carol');
GRANT SELECT ON ni_notes TO regress_ni_alice, regress_ni_carol, regress_ni_nobody;

CREATE TEMP TABLE ni_stats AS
	SELECT 0::bigint AS calls, 0::bigint AS passed, 0::bigint AS denied,
		   0::bigint AS errors, 0::bigint AS total_gas WHERE false;
GRANT ALL ON ni_stats TO PUBLIC;
CREATE FUNCTION pg_temp.ni_counters() RETURNS TABLE (calls bigint, passed bigint,
	denied bigint, errors bigint, total_gas bigint)
LANGUAGE sql AS $$
	SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(passed), 0)::bigint,
		   coalesce(sum(denied), 0)::bigint, coalesce(sum(errors), 0)::bigint,
		   coalesce(sum(total_gas), 0)::bigint
	  FROM ecl.stat_eclvm_policies WHERE policy = 'ni_owner'
$$;

-- ------------------------------------------------------------------ reading
-- alice sees her row only
SET ROLE regress_ni_alice;
SELECT ecl.current_did() AS me, array_agg(id ORDER BY id) AS visible FROM ni_notes;
RESET ROLE;
INSERT INTO ni_stats SELECT * FROM pg_temp.ni_counters();
-- nobody has no DID: nothing, in particular not the rows without an owner
SET ROLE regress_ni_nobody;
SELECT ecl.current_did() IS NULL AS no_identity, count(*) AS visible FROM ni_notes;
SELECT count(*) AS visible_null_owner FROM ni_notes WHERE owner IS NULL;
-- the reason, at DEBUG1
SET client_min_messages = debug1;
SELECT ecl.allowed('ni_owner', 'ni-realm', '{"owner": null}') AS allowed;
RESET client_min_messages;
-- bad input is still an error without an identity
SELECT ecl.allowed('ni_owner', 'ni-realm', '[1]');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- each row nobody asked about is a denied run that used no gas: 4 rows of
-- the count, 2 of the filtered count (the WHERE runs first), 1 direct call
SELECT c.calls - s.calls AS calls, c.passed - s.passed AS passed,
	   c.denied - s.denied AS denied, c.errors - s.errors AS errors,
	   c.total_gas - s.total_gas AS gas
  FROM pg_temp.ni_counters() c, ni_stats s;
DELETE FROM ni_stats;
INSERT INTO ni_stats SELECT * FROM pg_temp.ni_counters();

-- --------------------------------------------------------- allow_anonymous
-- superuser only: a role cannot switch it on for itself
SET ROLE regress_ni_nobody;
SET ecl.allow_anonymous = on;
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('ecl.allow_anonymous', 'on', true);
\echo :LAST_ERROR_SQLSTATE
SHOW ecl.allow_anonymous;
RESET ROLE;
-- set by the superuser, the policy runs with a null caller: null == null
SET ecl.allow_anonymous = on;
SET ROLE regress_ni_nobody;
SELECT array_agg(id ORDER BY id) AS visible FROM ni_notes;
RESET ROLE;
RESET ecl.allow_anonymous;
SELECT c.calls - s.calls AS calls, c.passed - s.passed AS passed,
	   c.denied - s.denied AS denied, c.total_gas - s.total_gas > 0 AS used_gas
  FROM pg_temp.ni_counters() c, ni_stats s;

-- ------------------------------------------------ a binding to a revoked DID
SET ROLE regress_ni_carol;
SELECT ecl.current_did() AS me, array_agg(id ORDER BY id) AS visible FROM ni_notes;
RESET ROLE;
UPDATE ecl.identities SET revoked = true WHERE did = 'did:regress:ni-carol';
-- the same session, the next statement: no identity, no rows
SET ROLE regress_ni_carol;
SELECT ecl.current_did() IS NULL AS no_identity, count(*) AS visible FROM ni_notes;
RESET ROLE;
-- lifting the revocation gives the binding back
UPDATE ecl.identities SET revoked = false WHERE did = 'did:regress:ni-carol';
SET ROLE regress_ni_carol;
SELECT ecl.current_did() AS me, array_agg(id ORDER BY id) AS visible FROM ni_notes;
RESET ROLE;

-- ------------------------------------------- current_did memoized per statement
-- 500 calls of ecl.current_did() in one statement, and an RLS scan over
-- 500 rows, each read ecl.role_dids once: the backend's scan counts of the
-- table, not sent to the statistics collector inside a transaction block
INSERT INTO ni_notes SELECT n, 'did:regress:ni-alice', 'bulk' FROM generate_series(100, 599) n;
CREATE FUNCTION pg_temp.role_dids_scans() RETURNS bigint LANGUAGE sql AS $$
	SELECT seq_scan + coalesce(idx_scan, 0)
	  FROM pg_stat_xact_all_tables WHERE relid = 'ecl.role_dids'::regclass
$$;
BEGIN;
SELECT pg_temp.role_dids_scans() AS scans_before \gset
SET LOCAL ROLE regress_ni_alice;
SELECT count(DISTINCT ecl.current_did()) AS distinct_dids FROM generate_series(1, 500);
SELECT pg_temp.role_dids_scans() - :scans_before AS role_dids_scans;
SELECT count(*) AS visible FROM ni_notes WHERE body = 'bulk';
SELECT pg_temp.role_dids_scans() - :scans_before AS role_dids_scans;
COMMIT;

-- ------------------------------------------------------------------ cleanup
DROP TABLE ni_notes;
SELECT ecl.unbind_role('regress_ni_alice'), ecl.unbind_role('regress_ni_carol');
DROP ROLE regress_ni_alice;
DROP ROLE regress_ni_carol;
DROP ROLE regress_ni_nobody;
SELECT ecl.drop_policy('ni_owner');
DELETE FROM ecl.identities WHERE did IN ('did:regress:ni-alice', 'did:regress:ni-carol');
DELETE FROM ecl.realms WHERE realm_id = 'ni-realm';
