-- 60_b5_memory.sql — B5: 1,000,000 calls in one session (5 statements of
-- 200,000), memory before and after.  Memory = the sum of pg_backend_memory_contexts (what PostgreSQL
-- has allocated) and VmRSS of the backend (/proc/<pid>/status).  The
-- "before" figure is taken after a warm-up of 200,000 calls, so caches that
-- fill once (policy, plans, libsodium) are already in it.
\set ON_ERROR_STOP 1

CREATE FUNCTION bench.backend_memory(OUT contexts_bytes bigint, OUT rss_kb bigint)
LANGUAGE sql VOLATILE AS $$
	SELECT (SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts),
		   (SELECT substring(line FROM '([0-9]+)')::bigint
			  FROM regexp_split_to_table(
					pg_read_file('/proc/' || pg_backend_pid() || '/status'), E'\n') line
			 WHERE line LIKE 'VmRSS:%')
$$;

-- 200,000 calls of B2's policy over its stored input
CREATE FUNCTION bench.b5_batch() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
	SELECT count(*) FILTER (WHERE ecl.check('b2', NULL, NULL, doc))
	  FROM bench.b2_input
$$;

SELECT bench.b5_batch() AS warmup;
SELECT contexts_bytes AS ctx_before, rss_kb AS rss_before FROM bench.backend_memory() \gset
SELECT policies_executed AS exec_before FROM ecl.stat_eclvm WHERE datname = current_database() \gset
SELECT pg_catalog.clock_timestamp() AS t0 \gset
SELECT bench.b5_batch();
SELECT bench.b5_batch();
SELECT bench.b5_batch();
SELECT bench.b5_batch();
SELECT bench.b5_batch();
SELECT extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'::timestamptz) AS b5_seconds \gset
SELECT contexts_bytes AS ctx_after, rss_kb AS rss_after FROM bench.backend_memory() \gset
SELECT policies_executed AS exec_after FROM ecl.stat_eclvm WHERE datname = current_database() \gset

INSERT INTO bench.results (bench, peer, figure, target, met, note)
VALUES ('B5 memory', 'memory contexts, 1,000,000 calls',
		format('%s -> %s MB', round(:ctx_before / 1048576.0, 2), round(:ctx_after / 1048576.0, 2)),
		'flat',
		CASE WHEN :ctx_after - :ctx_before <= 1048576 THEN 'met' ELSE 'NOT met' END,
		format('delta %s kB; %s runs counted in %s s',
			   round((:ctx_after - :ctx_before) / 1024.0, 1),
			   :exec_after - :exec_before, round(:b5_seconds::numeric, 1))),
	   ('B5 memory', 'backend VmRSS',
		format('%s -> %s MB', round(:rss_before / 1024.0, 1), round(:rss_after / 1024.0, 1)),
		'flat',
		CASE WHEN :rss_after - :rss_before <= 4096 THEN 'met' ELSE 'NOT met' END,
		format('delta %s kB (shared buffers touched count here too)', :rss_after - :rss_before));
