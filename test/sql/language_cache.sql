--
-- ecl.eval caches compiled programs per backend, keyed by the source text.
-- The cache is bounded; evicted programs are recompiled on their next use,
-- and results never depend on what is cached.
--

-- the same source with different inputs: one program, different results
SELECT n, ecl.eval('return n * n', jsonb_build_object('n', n)) AS square
FROM generate_series(1, 5) AS n;

-- many more distinct sources than the cache holds, twice over
SELECT count(*) FILTER (WHERE ecl.eval('return ' || i || ' * 2 + x', '{"x": 1}') = to_jsonb(i * 2 + 1)) AS correct,
       count(*) AS total
FROM generate_series(1, 600) AS i;
SELECT count(*) FILTER (WHERE ecl.eval('return ' || i || ' * 2 + x', '{"x": 1}') = to_jsonb(i * 2 + 1)) AS correct_again
FROM generate_series(1, 600) AS i;

-- sources that differ only in whitespace are different cache keys but
-- give the same result
SELECT ecl.eval('return x + 1', '{"x": 1}') AS a, ecl.eval('return  x + 1', '{"x": 1}') AS b;

-- a source that failed to compile is not cached: it fails every time
SELECT ecl.eval('return (');
SELECT ecl.eval('return (');

-- a cache miss is a compile and counts in ecl.stat_eclvm as a registration
-- does; a hit does not; a failed compile counts as an error; ecl.compile
-- (IMMUTABLE, no side effects) counts nothing
SELECT policies_compiled AS compiled0, policy_compile_errors AS errors0 FROM ecl.stat_eclvm \gset
SELECT ecl.eval('return 7 * 6 + 0 * 424242') AS miss;
SELECT ecl.eval('return 7 * 6 + 0 * 424242') AS hit;
SELECT ecl.eval('return 7 * 6 + 0 *');
SELECT octet_length(ecl.compile('return 7 * 6 + 0 * 434343')) > 0 AS compiled;
SELECT policies_compiled - :compiled0 AS compiled, policy_compile_errors - :errors0 AS compile_errors
  FROM ecl.stat_eclvm;
