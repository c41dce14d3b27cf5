--
-- Values <-> JSON (docs/language.md §3): literals, numbers, strings with escapes and
-- Unicode, arrays, objects, trust vectors, dids; the input object and its
-- fields; the run context (caller, realm, input, trust).
--

-- literals of every kind
SELECT ecl.eval('return null') AS n, ecl.eval('return true') AS t, ecl.eval('return false') AS f,
       ecl.eval('return [1, 0.5, 1e3, 2.5e-3]') AS numbers,
       ecl.eval('return {key: 1, "other key": [true, null]}') AS object_literal;

-- numbers are doubles; the shortest text that reads back exactly is shown
SELECT ecl.eval('return [a * 3, a / 3]', '{"a": 0.1}') AS inexact,
       ecl.eval('return a + 1', '{"a": 9007199254740992}') AS beyond_2_53,
       ecl.eval('return a', '{"a": 123456789012}') AS integral,
       ecl.eval('return a * -1', '{"a": 0}') AS negative_zero;
-- jsonb prints numerics without exponent, so very large and very small
-- values are shown through float8 (which prints the same shortest text)
SELECT ecl.eval('return a * a', '{"a": 1e150}')::float8 AS big,
       ecl.eval('return a / 1e10', '{"a": 1e-300}')::float8 AS subnormal,
       ecl.eval('return a * a', '{"a": 1e150}') = to_jsonb(1e150::float8 * 1e150::float8) AS same_as_float8;
-- input numbers: jsonb numeric to double (rounded to the nearest double)
SELECT ecl.eval('return a', '{"a": 0.1000000000000000055511151231257827}') AS rounds_to_double,
       ecl.eval('return a', '{"a": 1e-400}') AS underflows_to_zero,
       ecl.eval('return a', '{"a": -1.7976931348623157e308}')::float8 AS most_negative;
-- subnormal doubles are numbers too: read exactly, printed as their
-- shortest text, so they come back as the same jsonb value
SELECT ecl.eval('return a', '{"a": 5e-324}') = '5e-324'::jsonb AS smallest_subnormal,
       ecl.eval('return a', '{"a": 2.5e-310}') = '2.5e-310'::jsonb AS subnormal,
       ecl.eval('return a / 2', '{"a": 1e-323}') = '5e-324'::jsonb AS computed_subnormal,
       ecl.eval('return a * 1e300', '{"a": 5e-324}')::float8 AS scaled_up;
-- every integer from -20000 to 20000 (the short-form fast paths) and some
-- with a display scale read exactly as the numeric's float8
SELECT count(*) AS numbers,
	   count(*) FILTER (WHERE ecl.eval('return a', jsonb_build_object('a', x))::float8 = x::float8) AS equal
  FROM (SELECT g::numeric AS x FROM generate_series(-20000, 20000) g
		UNION ALL
		SELECT v FROM unnest('{5.00, -7.000, 9999.0, 10000.00, 0.0, -0.00, 123456789.50}'::numeric[]) v) t;
-- a jsonb number outside the double range is 22003
SELECT ecl.eval('return a', '{"a": 1e400}');

-- strings: escapes and Unicode round-trip through jsonb
SELECT ecl.eval($$return "quote \" backslash \\ newline \n tab \t"$$) AS escapes,
       ecl.eval($$return "\u00e9\u4e2d"$$) AS unicode_escapes,
       ecl.eval($$return "grüße, 日本, 🎉"$$) AS utf8_literal,
       ecl.eval('return s + "!"', '{"s": "Ünïcødé ✓"}') AS utf8_input,
       ecl.eval($$return str_len("🎉x")$$) AS chars_not_bytes;
-- a NUL character is refused already by the lexer (jsonb cannot hold it)
SELECT ecl.eval($$return "a\u0000b"$$);
-- bad escapes are syntax errors
SELECT ecl.eval($$return "\q"$$);
SELECT ecl.eval($$return "\u12"$$);
SELECT ecl.eval($$return "unterminated$$);

-- arrays and objects, nested, from input and built in the program
SELECT ecl.eval('return a', '{"a": [1, [2, [3, {"x": [4]}]]]}') AS nested_array,
       ecl.eval('return {"sum": a + b, "list": [a, b], "inner": {"deep": {"er": a}}}', '{"a": 1, "b": 2}') AS built_object,
       ecl.eval('return o', '{"o": {"b": 1, "a": {"c": null}}}') AS input_object;
-- member access: .field, ["field"], [index]; absent -> null
SELECT ecl.eval('return [o.a, o["a"], o.missing, a[0], a[2], a[5]]', '{"o": {"a": 1}, "a": ["x", "y", "z"]}') AS access,
       ecl.eval('return o.p.q.r', '{"o": {"p": {"q": {"r": "deep"}}}}') AS chained,
       ecl.eval('return o["with space"]', '{"o": {"with space": 7}}') AS quoted_key;
SELECT ecl.eval('return n.field', '{"n": 5}');

-- trust vectors serialise as objects with six dimensions
SELECT ecl.eval('return trust_create(1, 0, 0.25, 0.5, 0.75, 1)') AS trust_vector,
       ecl.eval('return [trust_create(0, 0, 0, 0, 0, 0)]') AS in_array;

-- the input: bare names are its fields, `input` is the whole object
SELECT ecl.eval('return amount', '{"amount": 12}') AS bare_field,
       ecl.eval('return input', '{"b": 2, "a": [1]}') AS whole_input,
       ecl.eval('return input.amount + amount', '{"amount": 5}') AS both_forms,
       ecl.eval('return keys(input)', '{"y": 1, "x": 2}') AS input_keys;
-- a missing field is an error naming it (EC006); an explicit null is fine
SELECT ecl.eval('return amount');
SELECT ecl.eval('return amount', '{"amount": null}') AS explicit_null;
-- NULL input means {}; input must be an object (22023)
SELECT ecl.eval('return input', NULL) AS null_input;
SELECT ecl.eval('return 1', '[1, 2]');
SELECT ecl.eval('return 1', '"text"');
SELECT ecl.eval('return 1', '42');
-- only the fields used are converted: a field that cannot be converted
-- (out of double range) does not matter unless the program reads it
SELECT ecl.eval('return ok', '{"ok": 1, "huge": 1e400}') AS lazy_input;
SELECT ecl.eval('return input', '{"ok": 1, "huge": 1e400}');

-- the run context: caller is a did, realm a string; both null when absent
SELECT ecl.eval('return [caller, realm]') AS no_context,
       ecl.eval('return [caller, realm]', '{}', 'did:key:z6MkAlice', 'realm-1') AS with_context,
       ecl.eval('return [sender == caller, requester == caller]', '{}', 'did:example:bob') AS aliases,
       ecl.eval('return caller + "@" + realm', '{}', 'did:example:bob', 'eu') AS concat_did;
-- without a caller, trust is the zero vector (no host needed: deny by default)
SELECT ecl.eval('return trust') AS no_caller_trust,
       ecl.eval('return trust.r >= 0.5') AS no_caller_check;
-- with a caller, trust comes from ecl.trust; an unknown DID has the zero vector
SELECT ecl.eval('return trust.r', '{}', 'did:example:regress-unknown') AS unknown_did_trust;
