--
-- Every SQLSTATE that ecl.compile / ecl.eval / ecl.disassemble can raise
-- (docs/sql-api.md, "Errors"), with the message and hint a user sees.  A helper shows
-- "SQLSTATE: message" for compact checks; plain statements show the hints.
--
CREATE FUNCTION pg_temp.ecl_error(src text, input jsonb DEFAULT '{}')
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM ecl.eval(src, input);
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- 42601: syntax and compile errors, with line:column and what was expected
SELECT pg_temp.ecl_error('return 1 +');
SELECT pg_temp.ecl_error('let x = (1 + 2
return x');
SELECT pg_temp.ecl_error('policy p {
    require amount > , "bad"
}');
SELECT pg_temp.ecl_error('policy p { return 1 ');
SELECT pg_temp.ecl_error('return @');
SELECT pg_temp.ecl_error('let = 3');
SELECT ecl.compile('policy broken {
    let x = 1
    return x +* 2
}');

-- EC002: out of gas, with the limit; the hint names ecl.gas_limit
SET ecl.gas_limit = 20;
SELECT ecl.eval('let n = 0
for x in xs { n = n + x }
return n', '{"xs": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}');
SELECT ecl.eval('return 1') AS small_program_fits;
RESET ecl.gas_limit;
SELECT ecl.eval('let n = 0
for x in xs { n = n + x }
return n', '{"xs": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}') AS default_limit_suffices;

-- EC003: mana; every run costs a base of 10 mana before anything else
SET ecl.mana_limit = 5;
SELECT ecl.eval('return 1');
RESET ecl.mana_limit;

-- EC004: the ecl.timeout_ms wall-clock limit (which instruction was running
-- when the clock ran out varies, so the position is masked)
SET ecl.timeout_ms = 1;
SET ecl.gas_limit = 2000000000;
SET statement_timeout = '60s';	-- a safety net should the ECL limit not work
SELECT regexp_replace(pg_temp.ecl_error('let n = 0
for a in xs { for b in xs { for c in xs { for d in xs { n = n + 1 } } } }
return n', jsonb_build_object('xs', (SELECT jsonb_agg(i) FROM generate_series(1, 100) i))),
	'line \d+:\d+', 'line L:C') AS timeout;
RESET ecl.timeout_ms;
RESET ecl.gas_limit;
RESET statement_timeout;

-- EC005: a program needing more operand stack than ecl.max_stack_depth
SET ecl.max_stack_depth = 4;
SELECT ecl.eval('return [a, b, c, d, e]', '{"a":1,"b":2,"c":3,"d":4,"e":5}');
SELECT ecl.eval('return [a, b]', '{"a":1,"b":2}') AS shallow_fits;
RESET ecl.max_stack_depth;
-- a cached program is also checked against the current limit
SELECT ecl.eval('return [a, b, c, d, e]', '{"a":1,"b":2,"c":3,"d":4,"e":5}') AS cached_now;
SET ecl.max_stack_depth = 4;
SELECT ecl.eval('return [a, b, c, d, e]', '{"a":1,"b":2,"c":3,"d":4,"e":5}');
RESET ecl.max_stack_depth;
-- nesting deeper than the parser allows
SELECT pg_temp.ecl_error('return ' || repeat('(', 500) || '1' || repeat(')', 500));
SELECT pg_temp.ecl_error('return ' || repeat('[', 300) || repeat(']', 300));
-- its hint does not point at ecl.max_stack_depth, which cannot raise it
SELECT ecl.compile('return ' || repeat('-', 250) || '1');
-- a value nested deeper than 1024 levels cannot be converted to text (EC005)
SELECT ecl.eval($$let a = []
for i in x { a = [a] }
return "" + a$$, (SELECT jsonb_build_object('x', jsonb_agg(g)) FROM generate_series(1, 1100) g));

-- EC006: type errors name the operation and the types; missing input fields
-- name the identifier
SELECT pg_temp.ecl_error('return a < b', '{"a": 1, "b": "x"}');
SELECT pg_temp.ecl_error('return a + b', '{"a": 1, "b": [2]}');
SELECT pg_temp.ecl_error('policy guard {
    require amount > limit
}', '{"amount": 1}');
SELECT ecl.eval('policy guard {
    let x = 1
    return x - name
}', '{"name": "bob"}');

-- 22012: division and modulo by zero, with line:column
SELECT ecl.eval('return a / b', '{"a": 1, "b": 0}');
SELECT pg_temp.ecl_error('let q = 1
return a % b', '{"a": 5, "b": 0}');

-- 22003: a result that is not a finite number, or an input out of range
SELECT ecl.eval('return a * a', '{"a": 1e200}');
SELECT pg_temp.ecl_error('return -a * a', '{"a": 1e200}');
SELECT pg_temp.ecl_error('return a', '{"a": -1e400}');

-- 22023: input not an object; bad arguments to built-ins
SELECT pg_temp.ecl_error('return 1', '[]');
SELECT pg_temp.ecl_error('return 1', 'null');
SELECT pg_temp.ecl_error('return trust_create(a, 0, 0, 0, 0, 0)', '{"a": -0.1}');

-- a NULL source is NULL, not an error, whatever the other arguments; it is
-- not a run, so nothing is counted.  NULL caller and realm mean none, a
-- NULL input {} (so ecl.eval is not STRICT)
SELECT ecl.stat_reset();
SELECT ecl.eval(NULL) IS NULL AS null_source,
	   ecl.eval(NULL, '{}') IS NULL AS with_input,
	   ecl.eval(NULL, NULL, NULL, NULL) IS NULL AS all_null,
	   ecl.eval(NULL, '[1]', 'did:x', 'r') IS NULL AS bad_input_unread;
SELECT count(*) AS kept_rows FROM (VALUES (1), (2)) AS t(n) WHERE ecl.eval(NULL)::boolean;
SELECT policies_executed FROM ecl.stat_eclvm;
SELECT ecl.eval('return [input, caller, realm]', NULL, NULL, NULL) AS nulls_mean_none;
-- ecl.compile and ecl.disassemble are STRICT: NULL in, NULL out
SELECT ecl.compile(NULL) IS NULL AS compile_null, (SELECT count(*) FROM ecl.disassemble(NULL)) AS disassemble_null;

-- 58000: a host failure.  ecl.eval runs on the table host, where lookups of
-- unknown DIDs just find nothing; but a personal store needs a caller to
-- own it
SELECT ecl.eval('return store_get("notes", "k", true)');
SELECT pg_temp.ecl_error('return store_count("notes", true)');
-- a null did needs no lookup at all: deny by default
SELECT ecl.eval('return [load_trust(null), has_credential(null, "kyc"), resolve_did(null), get_balance(null)]') AS null_did;

-- 42501: code that reads or writes data through the host is for
-- ecl_executor / ecl_admin; pure code is open to everyone (docs/security.md)
CREATE ROLE regress_ecl_plain_user;
SET ROLE regress_ecl_plain_user;
SELECT ecl.eval('return a * 2', '{"a": 21}') AS pure_code_is_public;
SELECT ecl.eval('log("fine"); return get_timestamp() > 0') AS log_and_time_are_pure;
SELECT ecl.eval('return resolve_did("did:example:x")');
SELECT pg_temp.ecl_error('emit "x"');
SELECT * FROM ecl.disassemble(ecl.compile('return 1')) LIMIT 1;
RESET ROLE;
DROP ROLE regress_ecl_plain_user;

-- an error inside a transaction aborts it like any SQL error, and the
-- session goes on normally afterwards
BEGIN;
SELECT ecl.eval('return a / b', '{"a": 1, "b": 0}');
ROLLBACK;
SELECT ecl.eval('return "still fine"') AS after_rollback;
