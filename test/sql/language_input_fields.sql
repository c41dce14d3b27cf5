--
-- Reading input fields (jsonb_bridge.c): a field is found by its index among
-- the object's sorted keys, with a remembered index per field name tried
-- first.  Whatever the shape of each row, every field read must equal the
-- jsonb's own answer (doc -> 'key'), for every type, for keys of equal
-- length, for objects too large to be indexed, and when rows of different
-- shapes alternate in one statement (so a remembered index is often wrong).
--
\set VERBOSITY terse

SELECT ecl.register_policy('if_fields',
	'policy if_fields { return [a, bb, cc, ddd, k07, k15, k16, zz] }') IS NOT NULL AS registered;

-- Each row has the eight keys the policy reads plus 0..24 filler keys, so the
-- keys read sit at different indexes from row to row; values of every type.
CREATE TEMP TABLE if_docs AS
	SELECT g AS id,
		   jsonb_build_object(
			 'a', g, 'bb', CASE g % 4 WHEN 0 THEN to_jsonb('text ' || g) WHEN 1 THEN 'true'::jsonb
								   WHEN 2 THEN 'null'::jsonb ELSE to_jsonb(g * 0.5) END,
			 'cc', jsonb_build_object('nested', g, 'list', jsonb_build_array(g, 'x')),
			 'ddd', jsonb_build_array(g, g + 1), 'k07', g % 2 = 0, 'k15', 'fifteen',
			 'k16', -g, 'zz', 1e300)
		   || (SELECT coalesce(jsonb_object_agg('f' || lpad(f::text, 2, '0'), f), '{}')
				 FROM generate_series(1, g % 25) f) AS doc
	  FROM generate_series(1, 400) g;

SELECT count(*) AS rows,
	   count(*) FILTER (WHERE (SELECT count(*) FROM jsonb_object_keys(doc)) > 16) AS rows_over_16_keys,
	   count(*) FILTER (WHERE ecl_value = expected) AS equal
  FROM (SELECT doc,
			   (ecl.run_policy('if_fields', NULL, NULL, doc)).value AS ecl_value,
			   jsonb_build_array(doc -> 'a', doc -> 'bb', doc -> 'cc', doc -> 'ddd',
								 doc -> 'k07', doc -> 'k15', doc -> 'k16', doc -> 'zz') AS expected
		  FROM if_docs) r;

-- Rows of one layout (the remembered index is right), then two layouts
-- with the same key lengths but different keys, one row each: "kb" is key
-- 1 of {"ka","kb"} and key 0 of {"kb","kc"}.
SELECT ecl.register_policy('if_kb', 'policy if_kb { return kb }') IS NOT NULL AS registered;
SELECT count(*) AS rows,
	   count(*) FILTER (WHERE (ecl.run_policy('if_kb', NULL, NULL, doc)).value = doc -> 'kb') AS equal
  FROM (SELECT g, CASE WHEN g <= 50 OR g % 2 = 0
					   THEN jsonb_build_object('ka', g, 'kb', g * 10)
					   ELSE jsonb_build_object('kb', g * 10, 'kc', -g) END AS doc
		  FROM generate_series(1, 200) g ORDER BY g) d;
SELECT ecl.drop_policy('if_kb');

-- A policy replaced in a later transaction may get its constants at the
-- addresses of the old ones; a field read through a remembered index must
-- still be the field asked for.
CREATE TEMP TABLE if_pairs AS
	SELECT jsonb_build_object('ka', g, 'kb', -g) AS doc FROM generate_series(1, 50) g;
SELECT ecl.register_policy('if_swap', 'policy if_swap { return ka }') IS NOT NULL AS registered;
SELECT count(*) FILTER (WHERE (ecl.run_policy('if_swap', NULL, NULL, doc)).value = doc -> 'ka') AS ka_read
  FROM if_pairs;
SELECT ecl.register_policy('if_swap', 'policy if_swap { return kb }') IS NOT NULL AS registered;
SELECT count(*) FILTER (WHERE (ecl.run_policy('if_swap', NULL, NULL, doc)).value = doc -> 'kb') AS kb_read
  FROM if_pairs;
SELECT ecl.drop_policy('if_swap');

-- a key of the same length as one present, and a missing key: not found
SELECT ecl.check('if_fields', NULL, NULL, '{"a": 1, "bb": 2, "cc": 3, "ddd": 4, "k07": 5, "k15": 6, "k16": 7, "zy": 8}');
SELECT ecl.check('if_fields', NULL, NULL, '{"a": 1, "bb": 2, "cc": 3, "ddd": 4, "k07": 5, "k15": 6, "k16": 7}');
-- the same names read twice in a run, and in ecl.check over many rows
SELECT ecl.register_policy('if_twice',
	'policy if_twice { return a + a + k16 + k16 == 0 && ddd[0] == a && (bb == null || bb == bb) }') IS NOT NULL AS registered;
SELECT count(*) FILTER (WHERE ecl.check('if_twice', NULL, NULL, doc)) AS passed, count(*) AS rows
  FROM if_docs;

-- an input that is not an object
SELECT ecl.check('if_fields', NULL, NULL, '[1, 2]');

SELECT ecl.drop_policy('if_fields'), ecl.drop_policy('if_twice');
