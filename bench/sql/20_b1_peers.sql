-- 20_b1_peers.sql — B1: trust.r >= 0.5 && has_credential(caller, "kyc"),
-- once per row, written idiomatically in each peer.
--
-- Validity rule everywhere (docs/sql-api.md, "The table host"): a kyc credential that is not revoked
-- and not expired at transaction time, and whose issuer is registered and
-- not revoked when it carries a signature.  ECL also verifies the Ed25519
-- signature; the SQL peers do NOT (no Ed25519 in SQL, PL/pgSQL or PL/Lua
-- without extra extensions) — all signatures in the data set are valid, so
-- the answers agree.  Trust: the realm's row, else the global row, else 0.
\set ON_ERROR_STOP 1

SELECT ecl.register_policy('b1', $ecl$
policy b1 {
    return trust.r >= 0.5 && has_credential(caller, "kyc")
}
$ecl$);

-- PL/pgSQL: two lookups, short-circuit like ECL's &&.
CREATE FUNCTION bench.b1_plpgsql(caller text, realm text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
	reliability float8;
BEGIN
	SELECT t.r INTO reliability
	  FROM ecl.trust t
	 WHERE t.did = caller AND (t.realm_id = realm OR t.realm_id = '')
	 ORDER BY t.realm_id = ''
	 LIMIT 1;
	IF NOT FOUND OR reliability < 0.5 THEN
		RETURN false;
	END IF;
	RETURN EXISTS (
		SELECT FROM ecl.credentials c
		  LEFT JOIN ecl.identities iss ON iss.did = c.issuer_did
		 WHERE c.subject_did = caller AND c.schema = 'kyc'
		   AND (c.revoked_at IS NULL OR c.revoked_at > transaction_timestamp())
		   AND (c.expires_at IS NULL OR c.expires_at > transaction_timestamp())
		   AND (c.signature IS NULL OR (iss.did IS NOT NULL AND NOT iss.revoked)));
END
$$;

-- SQL function: one expression (the planner inlines it into the query).
CREATE FUNCTION bench.b1_sql(caller text, realm text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT t.r FROM ecl.trust t
					  WHERE t.did = caller AND (t.realm_id = realm OR t.realm_id = '')
					  ORDER BY t.realm_id = '' LIMIT 1), 0) >= 0.5
	   AND EXISTS (
		SELECT FROM ecl.credentials c
		  LEFT JOIN ecl.identities iss ON iss.did = c.issuer_did
		 WHERE c.subject_did = caller AND c.schema = 'kyc'
		   AND (c.revoked_at IS NULL OR c.revoked_at > transaction_timestamp())
		   AND (c.expires_at IS NULL OR c.expires_at > transaction_timestamp())
		   AND (c.signature IS NULL OR (iss.did IS NOT NULL AND NOT iss.revoked)))
$$;

-- PL/Lua: plans prepared once per session, kept in a global table.
CREATE FUNCTION bench.b1_lua(caller text, realm text) RETURNS boolean
LANGUAGE pllua STABLE AS $$
	local q = b1_plans
	if q == nil then
		q = {
			trust = spi.prepare([[
				SELECT t.r FROM ecl.trust t
				 WHERE t.did = $1 AND (t.realm_id = $2 OR t.realm_id = '')
				 ORDER BY t.realm_id = '' LIMIT 1]], {"text", "text"}),
			kyc = spi.prepare([[
				SELECT FROM ecl.credentials c
				  LEFT JOIN ecl.identities iss ON iss.did = c.issuer_did
				 WHERE c.subject_did = $1 AND c.schema = 'kyc'
				   AND (c.revoked_at IS NULL OR c.revoked_at > transaction_timestamp())
				   AND (c.expires_at IS NULL OR c.expires_at > transaction_timestamp())
				   AND (c.signature IS NULL OR (iss.did IS NOT NULL AND NOT iss.revoked))
				 LIMIT 1]], {"text"}),
		}
		b1_plans = q
	end
	local row = q.trust:execute(caller, realm)[1]
	if row == nil or row.r < 0.5 then
		return false
	end
	return q.kyc:execute(caller)[1] ~= nil
$$;

-- The set-based answer: the eligible callers once, then a join.
CREATE VIEW bench.b1_eligible AS
	SELECT i.did
	  FROM ecl.identities i
	  LEFT JOIN ecl.trust tr ON tr.did = i.did AND tr.realm_id = 'bench'
	  LEFT JOIN ecl.trust tg ON tg.did = i.did AND tg.realm_id = ''
	 WHERE coalesce(tr.r, tg.r, 0) >= 0.5
	   AND EXISTS (
		SELECT FROM ecl.credentials c
		  LEFT JOIN ecl.identities iss ON iss.did = c.issuer_did
		 WHERE c.subject_did = i.did AND c.schema = 'kyc'
		   AND (c.revoked_at IS NULL OR c.revoked_at > transaction_timestamp())
		   AND (c.expires_at IS NULL OR c.expires_at > transaction_timestamp())
		   AND (c.signature IS NULL OR (iss.did IS NOT NULL AND NOT iss.revoked)));

-- ECL with every decision logged (ecl.decision_log = all, inputs off): the
-- same query, with the setting for this call only.  The call counts as a
-- run of its own peer in the table ("ecl-log"), its ratio to "ecl" is the
-- cost of the decision log on this workload.
CREATE FUNCTION bench.b1_decision_logged() RETURNS bigint
LANGUAGE sql SET ecl.decision_log = 'all' SET ecl.decision_log_inputs = off AS $$
	SELECT count(*) FROM bench.docs d WHERE ecl.check('b1', d.owner, 'bench')
$$;

-- The decision log's writer inserts what the call above queued in the
-- background, after ecl.decision_log_flush_interval (1 s).  The harness
-- waits for it after each timed ecl-log query (untimed): otherwise its
-- inserts compete for the CPUs with whichever peer is timed next (in the
-- rotating order that is always "ecl").  Done when the decision counters
-- have not moved for 1.5 s (at most 6 s).
CREATE FUNCTION bench.decision_log_settled() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	last bigint := -1;
	seen bigint;
	quiet int := 0;
BEGIN
	FOR i IN 1..120 LOOP
		SELECT sum(decisions_logged + decisions_dropped) INTO seen FROM ecl.stat_eclvm;
		quiet := CASE WHEN seen = last THEN quiet + 1 ELSE 0 END;
		EXIT WHEN quiet >= 30;
		last := seen;
		PERFORM pg_sleep(0.05);
	END LOOP;
END
$$;
