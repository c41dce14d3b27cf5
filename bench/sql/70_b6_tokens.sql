-- 70_b6_tokens.sql — B6: the caller named by a token (ecl.authenticate once
-- per transaction) against the caller named by a role binding, for the
-- same RLS read: 20,000 rows of 100 owners, ecl.allowed per row.  Reports
-- µs per authenticate and the per-row cost of the read under each, which
-- must be the same (the authenticated DID is one comparison away).
\set ON_ERROR_STOP 1

CREATE TABLE bench.b6_keys (i int, did text, public_key bytea, secret_key bytea);
DO $$ BEGIN
	FOR i IN 1..100 LOOP
		INSERT INTO bench.b6_keys SELECT i, * FROM ecl.generate_identity();
	END LOOP;
END $$;
CREATE TABLE bench.b6_notes AS
	SELECT n AS id, (SELECT did FROM bench.b6_keys WHERE i = 1 + n % 100) AS owner_did
	  FROM generate_series(1, 20000) n;
SELECT ecl.register_policy('b6_owner_only', $ecl$
require input.owner == caller, "not yours"
return true
$ecl$) IS NOT NULL;
ALTER TABLE bench.b6_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY b6_read ON bench.b6_notes FOR SELECT
	USING (ecl.allowed('b6_owner_only', NULL, jsonb_build_object('owner', owner_did)));
CREATE ROLE bench_b6_app;
CREATE ROLE bench_b6_bound;
SELECT ecl.bind_role('bench_b6_bound', (SELECT did FROM bench.b6_keys WHERE i = 1));
GRANT USAGE ON SCHEMA bench TO bench_b6_app, bench_b6_bound;
GRANT SELECT ON bench.b6_notes TO bench_b6_app, bench_b6_bound;
CREATE TABLE bench.b6_tokens AS
	SELECT n, ecl.sign_token(did, secret_key, make_interval(secs => 600 + n)) AS token
	  FROM bench.b6_keys, generate_series(1, 2000) n WHERE i = 1;
GRANT SELECT ON bench.b6_tokens TO bench_b6_app;
CREATE TABLE bench.b6_times (what text, rep int, ms float8, n bigint);
GRANT INSERT ON bench.b6_times TO bench_b6_app, bench_b6_bound;

-- 2,000 authenticates of one DID in one transaction (same DID again is
-- allowed): signature, claims, identities lookup
SET ROLE bench_b6_app;
SELECT count(ecl.authenticate(token)) FROM bench.b6_tokens;	-- warm-up
\set rep 1
\ir 71_b6_rep.sql
\set rep 2
\ir 71_b6_rep.sql
\set rep 3
\ir 71_b6_rep.sql
\set rep 4
\ir 71_b6_rep.sql
\set rep 5
\ir 71_b6_rep.sql
RESET ROLE;

WITH m AS (
	SELECT what, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms, max(n) AS n,
		   count(DISTINCT n) AS answers
	  FROM bench.b6_times GROUP BY what)
INSERT INTO bench.results (bench, peer, figure, ratio, target, met, note)
SELECT 'B6 token identity', 'ecl.authenticate',
	   round((ms * 1000 / 2000)::numeric, 1) || ' us per call', NULL, 'once per transaction', NULL,
	   'EdDSA verify + claims + identities lookup; median of 5 x 2,000'
  FROM m WHERE what = 'authenticate'
UNION ALL
SELECT 'B6 token identity', 'RLS read, ' || what,
	   round((ms * 1000 / 20000)::numeric, 3) || ' us per row',
	   round((ms / (SELECT ms FROM m WHERE what = 'role binding'))::numeric, 3) || ' of binding',
	   'per-row cost unchanged',
	   CASE WHEN ms <= 1.10 * (SELECT ms FROM m WHERE what = 'role binding') THEN 'met' ELSE 'NOT met' END,
	   format('20,000 rows, %s visible, ecl.allowed per row; median of 5', n)
  FROM m WHERE what IN ('role binding', 'token');

DROP TABLE bench.b6_notes, bench.b6_tokens, bench.b6_times;
SELECT ecl.drop_policy('b6_owner_only');
SELECT ecl.unbind_role('bench_b6_bound');
DROP OWNED BY bench_b6_app, bench_b6_bound;
DROP ROLE bench_b6_app;
DROP ROLE bench_b6_bound;
