-- 50_b4_compile.sql — B4: compile a generated 1,000-line policy.
--
-- ecl.compile is timed 21 times (distinct sources: the last line differs)
-- inside one statement with clock_timestamp() around each call; the median
-- is reported.  Then the policy is registered and run 1,000 times through
-- ecl.check, and 1,000 times through ecl.eval of the same source: the
-- statistics must show no compilation for the registered runs, and a cached
-- ecl.eval must cost a small fraction of a compile.
\set ON_ERROR_STOP 1

CREATE FUNCTION bench.b4_source(variant int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT 'policy big {' || chr(10)
		|| '    let x = 0' || chr(10)
		|| '    let y = 1' || chr(10)
		|| string_agg(
			CASE k % 4
				WHEN 0 THEN format('    x = x + amount * %s - %s', k % 7 + 1, k % 5)
				WHEN 1 THEN format('    if x > %s { x = x - %s } else { y = y + 1 }', 100000 + k, k)
				WHEN 2 THEN format('    require y >= 1 && x > -%s, "step %s"', 1000000 + k, k)
				ELSE format('    let v%s = x * 0.5 + y / %s', k, k % 9 + 1)
			END, chr(10) ORDER BY k) || chr(10)
		|| format('    return x > %s', -variant) || chr(10)
		|| '}'
	  FROM generate_series(1, 994) k
$$;

CREATE TEMP TABLE b4_times (ms float8);
DO $$
DECLARE
	src		text;
	t0		timestamptz;
	code	bytea;
BEGIN
	FOR v IN 0..20 LOOP
		src := bench.b4_source(v);
		t0 := clock_timestamp();
		code := ecl.compile(src);
		INSERT INTO b4_times
			VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
	END LOOP;
END
$$;

SELECT array_length(string_to_array(bench.b4_source(0), chr(10)), 1) AS lines,
	   length(bench.b4_source(0)) AS bytes,
	   length(ecl.compile(bench.b4_source(0))) AS bytecode_bytes \gset
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS compile_ms FROM b4_times \gset

INSERT INTO bench.results (bench, peer, figure, target, met, note)
VALUES ('B4 compile', 'ecl.compile, ' || :lines || ' lines',
		round(:compile_ms::numeric, 2) || ' ms',
		'< 5 ms', CASE WHEN :compile_ms < 5 THEN 'met' ELSE 'NOT met' END,
		format('median of 21; %s bytes of source, %s of bytecode', :bytes, :bytecode_bytes));

SELECT ecl.register_policy('b4', bench.b4_source(0)) IS NOT NULL AS registered;
SELECT ecl.check('b4', NULL, NULL, '{"amount": 3}') AS first_run;

SELECT policies_compiled AS compiled_before FROM ecl.stat_eclvm WHERE datname = current_database() \gset
SELECT pg_catalog.clock_timestamp() AS t0 \gset
SELECT count(*) FILTER (WHERE ecl.check('b4', NULL, NULL, jsonb_build_object('amount', g % 10)))
  FROM generate_series(1, 1000) g;
SELECT extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'::timestamptz) * 1000 / 1000 AS check_ms \gset
SELECT policies_compiled AS compiled_after FROM ecl.stat_eclvm WHERE datname = current_database() \gset

-- ecl.eval of the same source: the first call compiles, the rest hit the cache
SELECT pg_catalog.clock_timestamp() AS t0 \gset
SELECT ecl.eval(bench.b4_source(1), '{"amount": 3}') IS NOT NULL AS first_eval;
SELECT extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'::timestamptz) * 1000 AS first_eval_ms \gset
SELECT pg_catalog.clock_timestamp() AS t0 \gset
SELECT count(ecl.eval(s.src, jsonb_build_object('amount', g % 10)))
  FROM (SELECT bench.b4_source(1) AS src OFFSET 0) s, generate_series(1, 1000) g;
SELECT extract(epoch FROM pg_catalog.clock_timestamp() - :'t0'::timestamptz) * 1000 / 1000 AS eval_ms \gset

INSERT INTO bench.results (bench, peer, figure, target, met, note)
VALUES ('B4 compile', 'ecl.check of it, 1,000 runs',
		round(:check_ms::numeric * 1000, 1) || ' us/run',
		'no recompilation',
		CASE WHEN :compiled_after = :compiled_before THEN 'met' ELSE 'NOT met' END,
		format('stat_eclvm.policies_compiled %s -> %s', :compiled_before, :compiled_after)),
	   ('B4 compile', 'ecl.eval of it, cached',
		round(:eval_ms::numeric * 1000, 1) || ' us/run',
		'cached: << compile',
		CASE WHEN :eval_ms < :compile_ms / 2 THEN 'met' ELSE 'NOT met' END,
		format('first ecl.eval (compile + run) %s ms', round(:first_eval_ms::numeric, 2)));
