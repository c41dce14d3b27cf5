--
-- Bad input to the language functions (docs/sql-api.md, "The language"; docs/sql-api.md, "Errors"): ecl.compile,
-- ecl.disassemble, ecl.eval with NULLs, empty and huge sources, invalid
-- UTF-8, deep nesting, wrong JSON shapes, garbage, truncated and bit-flipped
-- bytecode.  Each case shows the SQLSTATE and message it ends with (or "ok:"
-- and the start of its result); the backend stays up throughout.
--
\set VERBOSITY terse

-- 'ok: <start of the result>' or '<SQLSTATE>: <message>'
CREATE FUNCTION pg_temp.try(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE q INTO r;
	RETURN 'ok: ' || coalesce(left(r, 60), 'NULL');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || left(SQLERRM, 140);
END
$$;

-- ------------------------------------------------------------ ecl.compile
-- STRICT: NULL in, NULL out
SELECT ecl.compile(NULL) IS NULL AS null_source_gives_null;
-- an empty program (and one of blanks and comments) is a program that
-- returns true
SELECT pg_temp.try($$SELECT ecl.eval('')$$) AS empty_source,
	   pg_temp.try($$SELECT ecl.eval(E'  \n\t ;; // nothing\n/* at all */')$$) AS blank_source;
SELECT pg_temp.try($$SELECT ecl.compile('/* unterminated')$$) AS open_comment;
SELECT pg_temp.try($$SELECT ecl.compile('return "unterminated')$$) AS open_string;
SELECT pg_temp.try($$SELECT ecl.compile(E'return 1\u0001')$$) AS control_character;
SELECT pg_temp.try($$SELECT ecl.compile('policy { return 1 }')$$) AS nameless_policy;
SELECT pg_temp.try($$SELECT ecl.compile('policy "" { return 1 }')$$) AS empty_policy_name;
SELECT pg_temp.try($$SELECT ecl.compile('return nosuchfunction(1)')$$) AS unknown_function;
SELECT pg_temp.try($$SELECT ecl.compile('return abs()')$$) AS too_few_arguments;
SELECT pg_temp.try($$SELECT ecl.compile('return abs(1, 2)')$$) AS too_many_arguments;
SELECT pg_temp.try($$SELECT ecl.compile('x = 1')$$) AS assign_to_undeclared;
SELECT pg_temp.try($$SELECT ecl.compile('return 1e999')$$) AS number_literal_overflow;

-- invalid UTF-8 never reaches ECL as text: the server refuses it first
SELECT pg_temp.try($$SELECT ecl.compile(convert_from('\x72657475726e2022ff22'::bytea, 'UTF8'))$$)
	AS invalid_utf8_source;
SELECT pg_temp.try($$SELECT ecl.compile(E'return "\xc3\x28"')$$) AS invalid_utf8_escape;
-- ... while bytes that are valid in another encoding arrive converted
SELECT pg_temp.try($$SELECT ecl.eval(convert_from('\x72657475726e2022ff22'::bytea, 'LATIN1'))$$)
	AS latin1_converted;
-- ECL's own \u escapes are checked by the lexer
SELECT pg_temp.try($$SELECT ecl.compile('return "\ud800"')$$) AS lone_high_surrogate;
SELECT pg_temp.try($$SELECT ecl.compile('return "\udc00"')$$) AS lone_low_surrogate;
SELECT pg_temp.try($$SELECT ecl.eval('return "\u0000"')$$) AS nul_escape;
SELECT pg_temp.try($$SELECT ecl.eval('return "\ud83d\ude00" + "\u00e9"')$$) AS surrogate_pair;

-- huge sources (about 1 MB each)
SELECT pg_temp.try($$SELECT octet_length(ecl.compile('return "' || repeat('x', 1000000) || '"'))$$)
	AS one_mb_string_literal;
SELECT pg_temp.try($$SELECT ecl.eval('return str_len("' || repeat('é', 500000) || '")')$$)
	AS one_mb_multibyte_literal;
SELECT pg_temp.try($$SELECT ecl.eval(repeat(E'// comment line\n', 62500) || 'return 7')$$)
	AS one_mb_of_comments;
SELECT pg_temp.try($$SELECT ecl.eval(repeat(E'require amount > 1, "small"\n', 40000), '{"amount": 5}')$$)
	AS forty_thousand_requires_out_of_gas;
SELECT pg_temp.try($$SELECT ecl.eval('return len([' || repeat('1, ', 100000) || '1])')$$)
	AS array_literal_100k;
SELECT pg_temp.try($$SELECT ecl.eval('return len([' || repeat('a, ', 100000) || 'a])', '{"a": 1}')$$)
	AS array_of_fields_100k;
SELECT pg_temp.try($$SELECT ecl.eval('let o = {' || string_agg('k' || i || ': ' || i, ', ') || '}; return len(o)')
	FROM generate_series(1, 20000) i$$) AS object_literal_20k_keys;
SELECT pg_temp.try($$SELECT ecl.eval('return ' || repeat('1 + ', 200000) || '1')$$)
	AS chain_of_200k_additions;
SELECT pg_temp.try($$SELECT ecl.eval('return ' || repeat('1 + ', 999) || '1')$$)
	AS chain_at_the_limit;
SELECT pg_temp.try($$SELECT ecl.eval(string_agg('let v' || i || ' = ' || i, E'\n') || E'\nreturn v1')
	FROM generate_series(1, 70000) i$$) AS seventy_thousand_locals;

-- deep nesting: expressions, blocks, arrays; the compiler stops at 200
SELECT pg_temp.try($$SELECT ecl.compile('return ' || repeat('(', 100000) || '1' || repeat(')', 100000))$$)
	AS parentheses_100k;
SELECT pg_temp.try($$SELECT ecl.eval('return ' || repeat('(', 199) || '1' || repeat(')', 199))$$)
	AS parentheses_199;
SELECT pg_temp.try($$SELECT ecl.compile('return ' || repeat('[', 5000) || repeat(']', 5000))$$)
	AS arrays_5000_deep;
SELECT pg_temp.try($$SELECT ecl.compile(repeat('if true { ', 5000) || repeat('} ', 5000))$$)
	AS blocks_5000_deep;
SELECT pg_temp.try($$SELECT ecl.compile('return ' || repeat('-', 100000) || '1')$$)
	AS unary_minus_100k;
SELECT pg_temp.try($$SELECT ecl.compile('return ' || repeat('!', 100000) || 'true')$$)
	AS negation_100k;
SELECT pg_temp.try($$SELECT ecl.compile('return a' || repeat('.b', 100000))$$)
	AS field_chain_100k;
SELECT pg_temp.try($$SELECT ecl.compile('return ' || repeat('a ? ', 5000) || '1' || repeat(' : 2', 5000))$$)
	AS conditionals_5000_deep;

-- --------------------------------------------------------------- ecl.eval
SELECT pg_temp.try($$SELECT ecl.eval(NULL)$$) AS null_source;
SELECT pg_temp.try($$SELECT ecl.eval('return input', NULL)$$) AS null_input_is_empty_object;
SELECT pg_temp.try($$SELECT ecl.eval('return 1', '[1, 2]')$$) AS array_input;
SELECT pg_temp.try($$SELECT ecl.eval('return 1', '"text"')$$) AS string_input;
SELECT pg_temp.try($$SELECT ecl.eval('return 1', '5')$$) AS number_input;
SELECT pg_temp.try($$SELECT ecl.eval('return 1', 'null')$$) AS json_null_input;
SELECT pg_temp.try($$SELECT ecl.eval('return 1', '{}', NULL, NULL)$$) AS null_caller_and_realm;
SELECT pg_temp.try($$SELECT ecl.eval('return [caller, realm]', '{}', '', '')$$) AS empty_caller_and_realm;
SELECT pg_temp.try($$SELECT ecl.eval('return str_len(caller)', '{}', repeat('d', 1000000))$$)
	AS one_mb_caller;
SELECT pg_temp.try($$SELECT ecl.eval('return amount')$$) AS missing_field;
SELECT pg_temp.try($$SELECT ecl.eval('return amount + 1', '{"amount": "1"}')$$) AS wrong_field_type;
SELECT pg_temp.try($$SELECT ecl.eval('return amount > 1', '{"amount": [1]}')$$) AS array_compared;
SELECT pg_temp.try($$SELECT ecl.eval('for x in xs { log(x) }', '{"xs": {"a": 1}}')$$) AS loop_over_object;
SELECT pg_temp.try($$SELECT ecl.eval('return a', '{"a": 1e400}')$$) AS number_beyond_double;
SELECT pg_temp.try($$SELECT ecl.eval('return a', '{"a": 1e-400}')$$) AS number_below_double;
SELECT pg_temp.try($$SELECT ecl.eval('return a * 10', '{"a": 1e308}')$$) AS overflow_in_vm;
SELECT pg_temp.try($$SELECT ecl.eval('return a', '{"a": 123456789012345678901234567890}')$$) AS long_integer;
SELECT pg_temp.try($$SELECT ecl.eval('return a', '{"a": "\u0000"}')$$) AS nul_in_jsonb;
SELECT pg_temp.try($$SELECT ecl.eval('return str_len(a)', '{"a": "\ud83d\ude00"}')$$) AS emoji_field;
SELECT pg_temp.try($$SELECT ecl.eval('return 1 / a', '{"a": 0}')$$) AS division_by_zero;
SELECT pg_temp.try($$SELECT ecl.eval('return sqrt(a)', '{"a": -1}')$$) AS sqrt_of_negative;

-- huge inputs: 100k-element arrays (converted only when used)
SELECT pg_temp.try($$SELECT ecl.eval('return len(arr)',
	jsonb_build_object('arr', (SELECT jsonb_agg(i) FROM generate_series(1, 100000) i)))$$) AS array_100k_len;
SELECT pg_temp.try($$SELECT ecl.eval('let n = 0; for x in arr { n = n + x }; return n',
	jsonb_build_object('arr', (SELECT jsonb_agg(i) FROM generate_series(1, 100000) i)))$$) AS array_100k_loop;
SELECT pg_temp.try($$SELECT ecl.eval('return 1',
	jsonb_build_object('arr', (SELECT jsonb_agg(i) FROM generate_series(1, 100000) i)))$$) AS array_100k_unused;
SELECT pg_temp.try($$SELECT jsonb_array_length(ecl.eval('return input.arr',
	jsonb_build_object('arr', (SELECT jsonb_agg(repeat('v', 10)) FROM generate_series(1, 100000) i))))::text$$)
	AS array_100k_round_trip;
SELECT pg_temp.try($$SELECT ecl.eval('return len(keys(input))',
	(SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 100000) i))$$) AS object_100k_keys;
SELECT pg_temp.try($$SELECT ecl.eval('return str_len(s)', jsonb_build_object('s', repeat('x', 1000000)))$$)
	AS one_mb_string_field;

-- deeply nested JSON: ECL values nest at most 256 levels
SELECT pg_temp.try($$SELECT ecl.eval('return 1', (repeat('{"a":', 10000) || '1' || repeat('}', 10000))::jsonb)$$)
	AS nested_10000_unused;
SELECT pg_temp.try($$SELECT ecl.eval('return len(input)', (repeat('{"a":', 10000) || '1' || repeat('}', 10000))::jsonb)$$)
	AS nested_10000_materialised;
SELECT pg_temp.try($$SELECT ecl.eval('return a', (repeat('{"a":', 257) || '1' || repeat('}', 257))::jsonb)$$)
	AS nested_257;
SELECT pg_temp.try($$SELECT length(ecl.eval('return a', (repeat('{"a":', 256) || '1' || repeat('}', 256))::jsonb)::text)::text$$)
	AS nested_256;
SELECT pg_temp.try($$SELECT ecl.eval('return a', ('{"a":' || repeat('[', 10000) || repeat(']', 10000) || '}')::jsonb)$$)
	AS nested_arrays_10000;

-- ------------------------------------------------------- ecl.disassemble
SELECT count(*) AS null_bytecode_rows FROM ecl.disassemble(NULL);
SELECT pg_temp.try($$SELECT count(*) FROM ecl.disassemble('')$$) AS empty_bytea;
SELECT pg_temp.try($$SELECT count(*) FROM ecl.disassemble('\xdeadbeef')$$) AS garbage;
SELECT pg_temp.try($$SELECT count(*) FROM ecl.disassemble('ECLB')$$) AS magic_only;
SELECT pg_temp.try($$SELECT count(*) FROM ecl.disassemble(decode(repeat('00', 1000000), 'hex'))$$)
	AS one_mb_of_zeros;
SELECT pg_temp.try($$SELECT count(*) FROM ecl.disassemble('ECLB'::bytea || decode(repeat('ff', 1000000), 'hex'))$$)
	AS one_mb_of_ff;
SELECT pg_temp.try($$SELECT count(*) FROM ecl.disassemble(ecl.compile('return 1') || '\x00'::bytea)$$)
	AS trailing_byte;
SELECT pg_temp.try($$SELECT count(*) FROM ecl.disassemble(set_byte(ecl.compile('return 1'), 4, 2))$$)
	AS other_version;
SELECT pg_temp.try($$SELECT count(*) FROM ecl.disassemble(set_byte(ecl.compile('return 1'), 6, 2))$$)
	AS reserved_flags;

-- a program with every kind of constant, cut at every length and with every
-- byte inverted: every cut is rejected (EC007); inverted bytes are rejected
-- or still form a valid program (line numbers, name bytes, a number)
CREATE TEMP TABLE sample AS
	SELECT ecl.compile($ecl$policy "p" {
    require amount > 1, "amount too small"
    let t = trust_create(0.5, 0.5, 0.5, 0.5, 0.5, 0.5)
    return [1, "x", {a: 2, b: [true, null]}, t.r, caller]
}$ecl$) AS b;
SELECT split_part(pg_temp.try(format('SELECT count(*) FROM ecl.disassemble(%L::bytea)', substr(b, 1, n))), ':', 1)
		AS truncated, count(*)
  FROM sample, generate_series(0, octet_length(b) - 1) AS n
 GROUP BY 1 ORDER BY 1;
SELECT split_part(pg_temp.try(format('SELECT count(*) FROM ecl.disassemble(%L::bytea)',
									 set_byte(b, n, get_byte(b, n) # 255))), ':', 1) AS inverted,
	   count(*) > 0 AS some
  FROM sample, generate_series(0, octet_length(b) - 1) AS n
 GROUP BY 1 ORDER BY 1;
-- invalid UTF-8 inside a string constant of the bytecode: the "x" constant
SELECT pg_temp.try(format('SELECT count(*) FROM ecl.disassemble(%L::bytea)',
		   set_byte(b, position('\x0401000000'::bytea || 'x'::bytea IN b) + 4, 255)))
	   AS invalid_utf8_constant
  FROM sample;
-- a jump out of the code, an unknown opcode, a constant index out of range:
-- hand-made from a compiled program by rewriting its first instruction word
CREATE TEMP TABLE tiny AS SELECT ecl.compile('return 1') AS b;
SELECT octet_length(b) AS tiny_length FROM tiny;
SELECT n AS first_instruction_at, pg_temp.try(format('SELECT count(*) FROM ecl.disassemble(%L::bytea)',
		   overlay(b PLACING w FROM n + 1))) AS rewritten
  FROM tiny, (SELECT octet_length(b) - 12 * 2 AS n FROM tiny) AS pos,
	   (VALUES ('\xff000000'::bytea), ('\x00ffffff'::bytea), ('\x20630000'::bytea)) AS words(w);
DROP TABLE sample, tiny;

SELECT 1 AS backend_alive;
