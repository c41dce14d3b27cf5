-- 90_report.sql — one markdown table from bench.timings (B1, B2: medians of
-- the repetitions after the warm-up) and bench.results (B3, B4, B5).
--
-- ratio = peer's median / ECL's median (above 1: the peer is slower).
\set ON_ERROR_STOP 1

CREATE TABLE bench.targets (
	bench	text,
	peer	text,
	target	text,
	min_ratio float8,			-- met when ratio >= min_ratio
	PRIMARY KEY (bench, peer)
);
INSERT INTO bench.targets VALUES
	('B1', 'plpgsql', 'ECL >= 10x faster', 10),
	('B1', 'join', 'ECL <= 3x the join', 1.0 / 3),
	('B1', 'ecl-log', 'decision log costs <= 10% (ratio <= 1.10)', NULL),
	('B2', 'plpgsql', 'ECL >= 2x faster', 2),
	('B2', 'floor', 'ECL <= 3x the floor', 1.0 / 3),
	('B2b', 'plpgsql', 'ECL >= 2x faster', 2),
	('B2b', 'floor', 'ECL <= 3x the floor', 1.0 / 3);

CREATE TABLE bench.peer_labels (bench text, peer text, label text, ord int, checks_answer bool);
INSERT INTO bench.peer_labels VALUES
	('B1', 'ecl', 'ECL: ecl.check in WHERE', 1, true),
	('B1', 'plpgsql', 'PL/pgSQL function', 2, true),
	('B1', 'sql', 'SQL function (inlined)', 3, true),
	('B1', 'pllua', 'PL/Lua, prepared plans', 4, true),
	('B1', 'join', 'set-based join', 5, true),
	('B1', 'ecl-log', 'ECL with ecl.decision_log = all (inputs off)', 6, true),
	('B2', 'ecl', 'ECL: ecl.check, registered', 1, true),
	('B2', 'ecl-eval', 'ECL: ecl.eval of source', 2, true),
	('B2', 'plpgsql', 'PL/pgSQL function', 3, true),
	('B2', 'sql', 'SQL function (inlined)', 4, true),
	('B2', 'pllua', 'PL/Lua function', 5, true),
	('B2', 'floor', 'floor: C function on the input (jsonb ?)', 6, false),
	('B2', 'scan-only', 'scan of the input, no call', 7, false),
	('B2b', 'ecl', 'ECL: ecl.check, registered', 1, true),
	('B2b', 'plpgsql', 'PL/pgSQL function', 3, true),
	('B2b', 'sql', 'SQL function (inlined)', 4, true),
	('B2b', 'pllua', 'PL/Lua function', 5, true),
	('B2b', 'floor', 'floor: jsonb_build_object + jsonb ? (C)', 6, false);

CREATE TABLE bench.report AS
WITH med AS (
	SELECT bench, peer,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms,
		   min(ms) AS lo, max(ms) AS hi, count(*) AS reps,
		   min(n) AS n, count(DISTINCT n) AS answers
	  FROM bench.timings
	 WHERE bench IN ('B1', 'B2', 'B2b') AND rep >= 1
	 GROUP BY bench, peer),
rows AS (
	SELECT m.bench, l.ord, coalesce(l.label, m.peer) AS peer,
		   round(m.ms::numeric, 1) || ' ms' AS figure,
		   m.ms / e.ms AS ratio,
		   t.target, t.min_ratio,
		   format('%s..%s ms over %s', round(m.lo::numeric), round(m.hi::numeric), m.reps)
		   || CASE WHEN NOT coalesce(l.checks_answer, false) THEN ''
				   WHEN m.n = e.n AND m.answers = 1 THEN format('; %s rows pass', m.n)
				   ELSE format('; ANSWER DIFFERS: %s rows (ECL: %s)', m.n, e.n) END AS note
	  FROM med m
	  JOIN med e ON e.bench = m.bench AND e.peer = 'ecl'
	  LEFT JOIN bench.peer_labels l ON l.bench = m.bench AND l.peer = m.peer
	  LEFT JOIN bench.targets t ON t.bench = m.bench AND t.peer = m.peer),
lines AS (
	SELECT 0 AS ord, '| workload | peer | median | ratio vs ECL | target | met | notes |' AS line
	UNION ALL
	SELECT 1, '|---|---|---:|---:|---|---|---|'
	UNION ALL
	SELECT 10 + row_number() OVER (ORDER BY bench, ord),
		   format('| %s | %s | %s | %s | %s | %s | %s |',
				  CASE bench WHEN 'B1' THEN 'B1 WHERE/RLS lookups'
							 WHEN 'B2' THEN 'B2 compute, stored input'
							 ELSE 'B2b compute, input built per row' END,
				  peer, figure, to_char(ratio, 'FM9990.00') || 'x',
				  coalesce(target, ''),
				  CASE WHEN min_ratio IS NULL THEN ''
					   WHEN ratio >= min_ratio THEN 'met' ELSE 'NOT met' END,
				  note)
	  FROM rows
	UNION ALL
	SELECT 1000 + r.ord,
		   format('| %s | %s | %s | %s | %s | %s | %s |', r.bench, r.peer, r.figure,
				  coalesce(r.ratio, ''), coalesce(r.target, ''), coalesce(r.met, ''),
				  coalesce(r.note, ''))
	  FROM bench.results r)
SELECT ord, line FROM lines;
