#!/bin/bash
# bench/planner.sh — R1, R2 and B2r: ECL policies in RLS and WHERE, which
# the planner translates into SQL (docs/planner.md), against the
# hand-written SQL policy a DBA would write, in one session, 500,000 rows.
# Prints each pair's median time, the ratio, and R1's plan.  Run by
# `make bench` (BENCH_ONLY containing R) or alone:
#   BENCH_ONLY=R make bench      or      bench/planner.sh
# Needs the extension installed (make install).
set -euo pipefail
ROWS="${BENCH_ROWS:-500000}"
REPS="${BENCH_REPS:-5}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

cat > /tmp/ecl-bench-planner.sql <<SQL
\set ON_ERROR_STOP 1
\pset footer off
CREATE EXTENSION IF NOT EXISTS ecl;
CREATE TABLE r_docs (id int PRIMARY KEY, owner text NOT NULL, classification text NOT NULL, amount int NOT NULL);
INSERT INTO r_docs
SELECT g, 'did:bench:u' || (g % 5000), CASE WHEN g % 4 = 0 THEN 'secret' ELSE 'public' END, g % 1000
  FROM generate_series(1, $ROWS) g;
CREATE INDEX ON r_docs (owner);
VACUUM ANALYZE r_docs;
INSERT INTO ecl.identities (did) VALUES ('did:bench:u7');
INSERT INTO ecl.trust (did, realm_id, r) VALUES ('did:bench:u7', '', 0.7);
CREATE ROLE bench_r_user;
SELECT ecl.bind_role('bench_r_user', 'did:bench:u7');
GRANT SELECT ON r_docs TO bench_r_user;
SELECT ecl.register_policy('r1', 'policy r1 { return owner == caller }');
SELECT ecl.register_policy('r2', 'policy r2 { return owner == caller || (classification != "secret" && trust.r >= 0.6) }');
SELECT ecl.register_policy('b2r', 'policy b2r { return amount * 2 + 1 > 500 && amount < 900 }');

-- the same table twice: ecl's policy and the hand-written one
CREATE TABLE r_docs_sql (LIKE r_docs INCLUDING ALL);
INSERT INTO r_docs_sql SELECT * FROM r_docs;
VACUUM ANALYZE r_docs_sql;
GRANT SELECT ON r_docs_sql TO bench_r_user;
CREATE FUNCTION bench_trust_r() RETURNS float8 LANGUAGE sql STABLE SECURITY DEFINER
	AS \$\$ SELECT coalesce((SELECT r FROM ecl.trust WHERE did = ecl.current_did() AND realm_id = ''), 0) \$\$;

CREATE FUNCTION bench_time(q text, reps int) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; times float8[] := '{}';
BEGIN
	EXECUTE q;			-- warm-up
	FOR i IN 1..reps LOOP
		t0 := clock_timestamp();
		EXECUTE q;
		times := times || extract(epoch FROM clock_timestamp() - t0) * 1000;
	END LOOP;
	RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(times) x);
END \$\$;
GRANT EXECUTE ON FUNCTION bench_time(text, int) TO bench_r_user;

CREATE TABLE bench_out (bench text, ecl_ms float8, sql_ms float8);
GRANT INSERT, SELECT ON bench_out TO bench_r_user;

-- R1 and R2: RLS as the role bound to a DID
ALTER TABLE r_docs ENABLE ROW LEVEL SECURITY;
ALTER TABLE r_docs_sql ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON r_docs FOR SELECT USING (ecl.allowed('r1', NULL, jsonb_build_object('owner', owner)));
CREATE POLICY p ON r_docs_sql FOR SELECT USING (owner = ecl.current_did());
SET ROLE bench_r_user;
\echo R1 plan (ecl):
EXPLAIN (COSTS OFF) SELECT count(*) FROM r_docs;
INSERT INTO bench_out SELECT 'R1', bench_time('SELECT count(*) FROM r_docs', $REPS), bench_time('SELECT count(*) FROM r_docs_sql', $REPS);
RESET ROLE;
DROP POLICY p ON r_docs;
DROP POLICY p ON r_docs_sql;
CREATE POLICY p ON r_docs FOR SELECT USING (ecl.allowed('r2', NULL,
	jsonb_build_object('owner', owner, 'classification', classification)));
CREATE POLICY p ON r_docs_sql FOR SELECT
	USING (owner = ecl.current_did() OR (classification <> 'secret' AND (SELECT bench_trust_r()) >= 0.6));
SET ROLE bench_r_user;
INSERT INTO bench_out SELECT 'R2', bench_time('SELECT count(*) FROM r_docs', $REPS), bench_time('SELECT count(*) FROM r_docs_sql', $REPS);
RESET ROLE;
-- R2 with every decision logged (inputs off): a superuser's setting, kept
-- across SET ROLE; the log keeps the call in the VM (no translation), so
-- R2 in the VM without the log is measured too: the log's own cost is the
-- ratio of those two
SET ecl.translate = off;
SET ROLE bench_r_user;
INSERT INTO bench_out SELECT 'R2 (VM)', bench_time('SELECT count(*) FROM r_docs', $REPS), bench_time('SELECT count(*) FROM r_docs_sql', $REPS);
RESET ROLE;
RESET ecl.translate;
SET ecl.decision_log = 'all';
SET ROLE bench_r_user;
INSERT INTO bench_out SELECT 'R2 (decision_log = all)', bench_time('SELECT count(*) FROM r_docs', $REPS), bench_time('SELECT count(*) FROM r_docs_sql', $REPS);
RESET ROLE;
RESET ecl.decision_log;
ALTER TABLE r_docs DISABLE ROW LEVEL SECURITY;
ALTER TABLE r_docs_sql DISABLE ROW LEVEL SECURITY;

-- B2r: row values in WHERE
INSERT INTO bench_out SELECT 'B2r',
	bench_time(\$q\$SELECT count(*) FROM r_docs WHERE ecl.check('b2r', 'did:bench:u7', NULL, jsonb_build_object('amount', amount))\$q\$, $REPS),
	bench_time(\$q\$SELECT count(*) FROM r_docs_sql WHERE amount * 2 + 1 > 500 AND amount < 900\$q\$, $REPS);

-- the same workloads in the VM, for reference: the call stays in the VM
-- and gets the field values without a jsonb (ecl.policy_check_fields)
SET ecl.translate = off;
INSERT INTO bench_out SELECT 'B2r (VM)',
	bench_time(\$q\$SELECT count(*) FROM r_docs WHERE ecl.check('b2r', 'did:bench:u7', NULL, jsonb_build_object('amount', amount))\$q\$, 1),
	bench_time(\$q\$SELECT count(*) FROM r_docs_sql WHERE amount * 2 + 1 > 500 AND amount < 900\$q\$, 1);
-- B2 in the VM, two fields: the field values (ecl_ms) against the jsonb
-- built per row (sql_ms; a sub-select the planner cannot see through keeps
-- the jsonb), so the ratio is fields / jsonb
INSERT INTO bench_out SELECT 'B2 VM fields/jsonb',
	bench_time(\$q\$SELECT count(*) FROM r_docs WHERE ecl.check('b2r', 'did:bench:u7', NULL, jsonb_build_object('amount', amount, 'classification', classification))\$q\$, $REPS),
	bench_time(\$q\$SELECT count(*) FROM (SELECT jsonb_build_object('amount', amount, 'classification', classification) AS j FROM r_docs OFFSET 0) q WHERE ecl.check('b2r', 'did:bench:u7', NULL, q.j)\$q\$, $REPS);
RESET ecl.translate;

SELECT bench, round(ecl_ms::numeric, 2) AS ecl_ms, round(sql_ms::numeric, 2) AS sql_ms,
	   round((ecl_ms / nullif(sql_ms, 0))::numeric, 2) AS ratio
  FROM bench_out;
SELECT round((l.ecl_ms / nullif(r.ecl_ms, 0))::numeric, 2) AS "R2: decision_log = all vs off (translated)",
	   round((l.ecl_ms / nullif(v.ecl_ms, 0))::numeric, 2) AS "R2: decision_log = all vs off (both in the VM)"
  FROM bench_out l, bench_out r, bench_out v
 WHERE l.bench = 'R2 (decision_log = all)' AND r.bench = 'R2' AND v.bench = 'R2 (VM)';
SQL

cd /tmp
pg_virtualenv -t -o shared_preload_libraries=ecl -o shared_buffers=256MB -o jit=off \
	psql -X -q -f /tmp/ecl-bench-planner.sql
