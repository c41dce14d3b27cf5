--
-- Memory is a budget like gas: ecl.memory_limit (per run, default 64MB,
-- superuser-only).  Past it a run fails with EC008 naming the policy, the
-- line and the limit, whatever allocated the memory: strings, arrays or
-- objects built in loops, a large input, a large stored value, log
-- messages, written values, the result.  An input field is converted at
-- most once per run; the budget starts afresh with every run.  Writes pay
-- mana by size (1 per started KB of JSON beyond the first), the same on
-- the table host (run_policy) and the state host (simulate).
--
\set VERBOSITY terse

SHOW ecl.memory_limit;

-- a normal role cannot raise (or lower) it
CREATE ROLE mem_regress_user;
SET ROLE mem_regress_user;
SET ecl.memory_limit = '1GB';
SHOW ecl.memory_limit;
RESET ROLE;

SET ecl.memory_limit = '1MB';
SHOW ecl.memory_limit;
SET ecl.gas_limit = 10000000;
SET ecl.mana_limit = 1000000;

-- ------------------------------------------------------- built in a loop
-- strings: 16 bytes doubled; 2^16 of them is 1 MB
SELECT ecl.eval(E'let s = "0123456789abcdef"\nfor i in r {\n  s = s + s\n}\nreturn str_len(s)',
				jsonb_build_object('r', (SELECT jsonb_agg(g) FROM generate_series(1, 20) g)));
-- within the budget the same loop is unaffected
SELECT ecl.eval(E'let s = "0123456789abcdef"\nfor i in r {\n  s = s + s\n}\nreturn str_len(s)',
				jsonb_build_object('r', (SELECT jsonb_agg(g) FROM generate_series(1, 14) g)));
-- arrays and objects
SELECT ecl.eval(E'let a = []\nfor i in r {\n  a = [a, i, i, i, i, i, i, i]\n}\nreturn 1',
				jsonb_build_object('r', (SELECT jsonb_agg(g) FROM generate_series(1, 20000) g)));
SELECT ecl.eval(E'let o = {}\nfor i in r {\n  o = {up: o, i: i, j: i, k: i, l: i}\n}\nreturn 1',
				jsonb_build_object('r', (SELECT jsonb_agg(g) FROM generate_series(1, 20000) g)));

-- --------------------------------------------------------------- input
-- a 2 MB field is refused where it is read (line 2)
SELECT ecl.eval(E'let n = 1\nreturn str_len(v) + n', jsonb_build_object('v', repeat('x', 2 * 1024 * 1024)));
-- converted once per run: a 400 kB field read 100 times fits in 1 MB
SELECT ecl.eval(E'let n = 0\nfor i in r { n = n + str_len(v) }\nreturn n',
				jsonb_build_object('v', repeat('w', 400 * 1024),
								   'r', (SELECT jsonb_agg(g) FROM generate_series(1, 100) g)));
-- the same for an input with more keys than the index holds
SELECT ecl.eval(E'let n = 0\nfor i in r { n = n + str_len(v) }\nreturn n',
				(SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 40) g)
				|| jsonb_build_object('v', repeat('w', 400 * 1024),
									  'r', (SELECT jsonb_agg(g) FROM generate_series(1, 100) g)));
-- and `input` reuses the fields already converted (600 kB once, not twice)
SELECT ecl.eval(E'let a = str_len(v)\nreturn a + str_len(input.v) + str_len(v)',
				jsonb_build_object('v', repeat('w', 600 * 1024)));
SELECT ecl.eval(E'let a = str_len(v)\nreturn a + str_len(input.v) + str_len(v)',
				(SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 40) g)
				|| jsonb_build_object('v', repeat('w', 600 * 1024)));

-- -------------------------------------------- logs, result, store, emit
SELECT ecl.eval(E'let s = v\nfor i in r {\n  log(s)\n}\nreturn true',
				jsonb_build_object('v', repeat('l', 100 * 1024),
								   'r', (SELECT jsonb_agg(g) FROM generate_series(1, 20) g)));
-- a result that shares one part 2^20 times is refused before it is built
SELECT ecl.eval(E'let a = [v]\nfor i in r { a = [a, a] }\nreturn a',
				jsonb_build_object('v', repeat('d', 1000),
								   'r', (SELECT jsonb_agg(g) FROM generate_series(1, 20) g)));

INSERT INTO ecl.realms (realm_id) VALUES ('mem-realm');
INSERT INTO ecl.store (realm_id, store_name, owner_did, key, value)
VALUES ('mem-realm', 'big', '', 'blob', to_jsonb(repeat('b', 2 * 1024 * 1024))),
	   ('mem-realm', 'big', '', 'small', to_jsonb(repeat('s', 1000)));
SELECT ecl.register_policy('mem_store_get', $$policy mem_store_get {
    let v = store_get("big", key)
    return str_len(v)
}$$) IS NOT NULL AS registered;
SELECT passed, value FROM ecl.run_policy('mem_store_get', NULL, 'mem-realm', '{"key": "small"}');
SELECT passed, value FROM ecl.run_policy('mem_store_get', NULL, 'mem-realm', '{"key": "blob"}');

-- a written value is converted to jsonb: 600 kB of string and its copy
SELECT ecl.register_policy('mem_store_put', $$policy mem_store_put {
    let s = v + v
    store_put("big", "written", s)
    return str_len(s)
}$$) IS NOT NULL AS registered;
SELECT passed, value FROM ecl.run_policy('mem_store_put', NULL, 'mem-realm',
										 jsonb_build_object('v', repeat('p', 100 * 1024)));
SELECT passed, value FROM ecl.run_policy('mem_store_put', NULL, 'mem-realm',
										 jsonb_build_object('v', repeat('p', 300 * 1024)));
SELECT octet_length(value #>> '{}') AS stored FROM ecl.store
 WHERE realm_id = 'mem-realm' AND key = 'written';
-- the state host keeps the same budget
SELECT passed, value FROM ecl.simulate('mem_store_put', NULL, 'mem-realm',
									   jsonb_build_object('v', repeat('p', 300 * 1024)),
									   ecl.snapshot('mem-realm'));

-- the message carries a hint naming the setting
\set VERBOSITY default
SELECT ecl.eval('return str_len(v)', jsonb_build_object('v', repeat('x', 2 * 1024 * 1024)));
\set VERBOSITY terse

-- --------------------------------------------- the budget is per run
-- 50 runs in one statement, each close to the limit (600 kB), all pass
SELECT count(*) AS runs,
	   count(*) FILTER (WHERE ecl.eval(E'let s = v + v\nreturn str_len(s)',
									   jsonb_build_object('v', repeat('r', 150 * 1024)))
						= to_jsonb(300 * 1024)) AS passed
  FROM generate_series(1, 50);
-- and a run that failed does not leave its memory to the next one
SELECT ecl.eval(E'let n = 1\nreturn str_len(v) + n', jsonb_build_object('v', repeat('x', 2 * 1024 * 1024)));
SELECT ecl.eval(E'let s = v + v\nreturn str_len(s)', jsonb_build_object('v', repeat('r', 150 * 1024)));

-- ------------------------------------------ write mana per KB, both hosts
-- store_put costs 100 mana, emit 50; a value of n bytes of JSON adds
-- ceil(n / 1024) - 1; a 5000-byte string is 5002 bytes of JSON: +4
RESET ecl.memory_limit;
SELECT ecl.register_policy('mem_write_mana', $$policy mem_write_mana {
    store_put("wm", "k", v)
    return true
}$$) IS NOT NULL AS registered;
SELECT ecl.register_policy('mem_write_mana_all', $$policy mem_write_mana_all {
    store_put_nested("wm", "doc", "a.b", v)
    store_append_list("wm", "list", v)
    emit "written", v
    return true
}$$) IS NOT NULL AS registered;
CREATE TEMP TABLE mem_inputs (label text, input jsonb);
INSERT INTO mem_inputs VALUES
	('1 byte', '{"v": "x"}'),
	('1022 bytes', jsonb_build_object('v', repeat('x', 1022))),
	('1023 bytes', jsonb_build_object('v', repeat('x', 1023))),
	('5000 bytes', jsonb_build_object('v', repeat('x', 5000))),
	('100 kB', jsonb_build_object('v', repeat('x', 100 * 1024)));
SELECT label, s.mana_used AS simulated, r.mana_used AS ran
  FROM mem_inputs,
	   LATERAL ecl.simulate('mem_write_mana', NULL, 'mem-realm', input, ecl.snapshot('mem-realm')) s,
	   LATERAL ecl.run_policy('mem_write_mana', NULL, 'mem-realm', input) r
 ORDER BY octet_length(input::text);
-- the nested forms pay for the entry as written, emit for its payload
DELETE FROM ecl.store WHERE realm_id = 'mem-realm' AND store_name = 'wm';
SELECT label, s.mana_used AS simulated, r.mana_used AS ran
  FROM mem_inputs,
	   LATERAL ecl.simulate('mem_write_mana_all', NULL, 'mem-realm', input, ecl.snapshot('mem-realm')) s,
	   LATERAL ecl.run_policy('mem_write_mana_all', NULL, 'mem-realm', input) r
 WHERE label IN ('1 byte', '5000 bytes')
 ORDER BY octet_length(input::text);
-- a write whose size is beyond the mana budget is refused before it is made
SELECT passed FROM ecl.run_policy('mem_write_mana', NULL, 'mem-realm', '{"v": "before"}');
SELECT passed FROM ecl.run_policy('mem_write_mana', NULL, 'mem-realm',
								  jsonb_build_object('v', repeat('y', 20 * 1024)), NULL, 120);
SELECT count(*) AS unchanged FROM ecl.store
 WHERE realm_id = 'mem-realm' AND store_name = 'wm' AND key = 'k'
   AND value = '"before"';

-- ------------------------------------------------------------- cleanup
RESET ecl.gas_limit;
RESET ecl.mana_limit;
SELECT count(ecl.drop_policy(p)) AS dropped
  FROM unnest(ARRAY['mem_store_get', 'mem_store_put', 'mem_write_mana', 'mem_write_mana_all']) p;
DELETE FROM ecl.store WHERE realm_id = 'mem-realm';
DELETE FROM ecl.events WHERE policy LIKE 'mem\_%';
DELETE FROM ecl.realms WHERE realm_id = 'mem-realm';
DROP ROLE mem_regress_user;
