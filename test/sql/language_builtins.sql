--
-- Every pure built-in function (docs/language.md §6), with arguments from the input so
-- the VM computes them, plus their argument errors.
--

-- numbers
SELECT ecl.eval('return [abs(a), abs(b), abs(c)]', '{"a": -3.5, "b": 2, "c": 0}') AS abs,
       ecl.eval('return [sqrt(a), sqrt(b), sqrt(c)]', '{"a": 16, "b": 2, "c": 0}') AS sqrt,
       ecl.eval('return [floor(a), floor(b), ceil(a), ceil(b)]', '{"a": 2.5, "b": -2.5}') AS floor_ceil,
       ecl.eval('return [round(a), round(b), round(c), round(d)]', '{"a": 2.5, "b": -2.5, "c": 2.4999, "d": 7}') AS round_half_away;
SELECT ecl.eval('return [min(a, b), max(a, b), min(b, a), max(b, a)]', '{"a": -1, "b": 3}') AS min_max,
       ecl.eval('return [clamp(x, 0, 10), clamp(y, 0, 10), clamp(z, 0, 10)]', '{"x": -5, "y": 5, "z": 50}') AS clamp,
       ecl.eval('return [lerp(a, b, 0), lerp(a, b, 0.25), lerp(a, b, 1)]', '{"a": 10, "b": 20}') AS lerp;
SELECT ecl.eval('return [surprisal(p), surprisal(q), surprisal(r)]', '{"p": 1, "q": 0.5, "r": 0.125}') AS surprisal;
SELECT ecl.eval('return sqrt(x)', '{"x": -1}');
SELECT ecl.eval('return surprisal(p)', '{"p": 0}');
SELECT ecl.eval('return surprisal(p)', '{"p": 1.5}');
SELECT ecl.eval('return abs(s)', '{"s": "-1"}');

-- strings (lengths count characters, not bytes)
SELECT ecl.eval('return [str_len(a), str_len(b), str_len(c)]', '{"a": "hello", "b": "", "c": "größe"}') AS str_len,
       ecl.eval('return [str_contains(s, "lo w"), str_contains(s, "xyz"), str_contains(s, "")]', '{"s": "hello world"}') AS str_contains,
       ecl.eval('return [str_eq_ignore_case(a, b), str_eq_ignore_case(a, c)]', '{"a": "Hello", "b": "hELLO", "c": "Help"}') AS str_eq_ignore_case;
SELECT ecl.eval('return str_len(n)', '{"n": 5}');

-- arrays and objects
SELECT ecl.eval('return [array_len(a), array_len([])]', '{"a": [1, 2, 3]}') AS array_len,
       ecl.eval('return [array_get(a, 0), array_get(a, 2), a[3], a[-1]]', '{"a": ["x", "y", "z"]}') AS array_get,
       ecl.eval('return [contains(2, a), contains("2", a), contains([1], b)]', '{"a": [1, 2, 3], "b": [[1], [2]]}') AS contains;
-- array_get out of range is a type error (EC006), as in the reference
-- ECLVM; indexing with a[i] stays null there
SELECT ecl.eval('return array_get(a, 3)', '{"a": ["x", "y", "z"]}');
\echo :LAST_ERROR_SQLSTATE
SELECT ecl.eval('return array_get(a, -1)', '{"a": ["x"]}');
SELECT ecl.eval('return array_get([], 0)');
SELECT ecl.eval('return [len(s), len(a), len(o)]', '{"s": "abcd", "a": [1, 2], "o": {"k": 1, "l": 2, "m": 3}}') AS len,
       ecl.eval('return keys(o)', '{"o": {"b": 1, "a": 2, "c": 3}}') AS keys,
       ecl.eval('return [has(o, "a"), has(o, "z")]', '{"o": {"a": null}}') AS has;
SELECT ecl.eval('return array_len(s)', '{"s": "abc"}');
SELECT ecl.eval('return len(n)', '{"n": 12}');
SELECT ecl.eval('return keys(a)', '{"a": [1]}');

-- trust vectors: trust_create, dimensions, norm, combine, thresholds, weights, distance
SELECT ecl.eval('return trust_create(0.9, 0.8, 0.7, 0.6, 0.5, 0.4)') AS created;
SELECT ecl.eval('let t = trust_create(a, 0.8, 0.7, 0.6, 0.5, 0.4)
return [t.r, t.i, t.c, t.p, t.v, t.omega]', '{"a": 0.9}') AS dims_lower,
       ecl.eval('let t = trust_create(a, 0.8, 0.7, 0.6, 0.5, 0.4)
return [t.R, t.I, t.C, t.P, t.V, t.Ω]', '{"a": 0.9}') AS dims_upper;
SELECT ecl.eval('return trust_norm(trust_create(a, 0.5, 0.5, 0.5, 0.5, 0.5))', '{"a": 0.5}') AS norm_half,
       ecl.eval('return trust_norm(trust_create(a, 0, 0, 0, 0, 0))', '{"a": 0.6}') AS norm_one_dim;
SELECT ecl.eval('return trust_combine(trust_create(a, 0, 1, 0.2, 0.9, 0), trust_create(0.5, 0, 0.3, 0.5, 0.9, 1))', '{"a": 0.5}') AS combined;
SELECT ecl.eval('let t = trust_create(a, 0.6, 0.7, 0.8, 0.9, 1)
return [trust_above_threshold(t, 0.5), trust_above_threshold(t, 0.6), trust_above_threshold(t, 0.61)]', '{"a": 0.6}') AS above;
SELECT ecl.eval('return trust_weighted_avg(trust_create(a, 0, 0, 0, 0, 0), [1, 1, 0, 0, 0, 0])', '{"a": 1}') AS wavg_half,
       ecl.eval('return trust_weighted_avg(trust_create(a, 0.5, 0.5, 0.5, 0.5, 0.5), [0, 0, 0, 0, 0, 2])', '{"a": 1}') AS wavg_omega;
SELECT ecl.eval('return trust_distance(trust_create(a, 0, 0, 0, 0, 0), trust_create(0, 0, 0, 0, 0, 0))', '{"a": 1}') AS distance_one,
       ecl.eval('return trust_distance(trust_create(a, 0.3, 0.4, 0, 0, 0), trust_create(0, 0.3, 0, 0, 0, 0))', '{"a": 0.3}') AS distance_half;
SELECT ecl.eval('return trust_create(a, 0, 0, 0, 0, 0)', '{"a": 1.5}');
SELECT ecl.eval('return trust_norm(x)', '{"x": 0.5}');
SELECT ecl.eval('return trust_weighted_avg(trust_create(1, 1, 1, 1, 1, 1), w)', '{"w": [1, 2]}');

-- time: get_timestamp() is the transaction start (Unix seconds), the same
-- for every call in a transaction; time_since(ts) = get_timestamp() - ts,
-- never negative (a timestamp in the future is 0 seconds ago)
BEGIN;
SELECT ecl.eval('return get_timestamp()') = to_jsonb(extract(epoch FROM transaction_timestamp())::float8) AS is_transaction_start,
       ecl.eval('return get_timestamp()') = ecl.eval('return get_timestamp()') AS stable_in_transaction;
SELECT ecl.eval('return round(time_since(ts))', jsonb_build_object('ts', extract(epoch FROM transaction_timestamp())::float8 - 60)) AS sixty_seconds,
       ecl.eval('return time_since(ts)', jsonb_build_object('ts', extract(epoch FROM transaction_timestamp())::float8 + 3600)) AS future_hour,
       ecl.eval('return time_since(get_timestamp())') AS now,
       ecl.eval('return time_since(1e300)') AS far_future;
COMMIT;

-- log(msg) is collected and sent at DEBUG1; it does not change the result
SET client_min_messages = debug1;
SELECT ecl.eval('log("checking " + n)
return n', '{"n": 3}') AS logged;
RESET client_min_messages;

-- wrong number of arguments and unknown functions are compile errors
SELECT ecl.eval('return abs(1, 2)');
SELECT ecl.eval('return no_such_function(1)');
