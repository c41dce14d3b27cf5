-- one repetition of B6 (included by 70_b6_tokens.sql with :rep set), run
-- as bench_b6_app; each measured statement is its own transaction's read
BEGIN;
SELECT pg_catalog.clock_timestamp() AS t0 \gset
SELECT count(ecl.authenticate(token)) AS n FROM bench.b6_tokens \gset
INSERT INTO bench.b6_times VALUES ('authenticate', :rep,
	extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'::timestamptz) * 1000, :n);
COMMIT;
BEGIN;
SELECT ecl.authenticate(token) IS NOT NULL FROM bench.b6_tokens WHERE n = :rep;
SELECT pg_catalog.clock_timestamp() AS t0 \gset
SELECT count(*) AS n FROM bench.b6_notes \gset
INSERT INTO bench.b6_times VALUES ('token', :rep,
	extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'::timestamptz) * 1000, :n);
COMMIT;
SET ROLE bench_b6_bound;
SELECT pg_catalog.clock_timestamp() AS t0 \gset
SELECT count(*) AS n FROM bench.b6_notes \gset
INSERT INTO bench.b6_times VALUES ('role binding', :rep,
	extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'::timestamptz) * 1000, :n);
SET ROLE bench_b6_app;
