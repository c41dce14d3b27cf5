--
-- ECL operators: arithmetic, comparison, logic, precedence, short-circuit,
-- the conditional operator, string concatenation and truthiness.
-- Values come from the input where constant folding would otherwise decide
-- the result at compile time, so the VM's operators are exercised too.
--

-- arithmetic on constants (folded by the compiler) and on input (VM)
SELECT ecl.eval('return 1 + 2') AS folded_add,
       ecl.eval('return a + b', '{"a": 1, "b": 2}') AS vm_add;
SELECT ecl.eval('return a - b', '{"a": 1, "b": 2.5}') AS sub,
       ecl.eval('return a * b', '{"a": 6, "b": 7}') AS mul,
       ecl.eval('return a / b', '{"a": 1, "b": 4}') AS div,
       ecl.eval('return a % b', '{"a": 7, "b": 3}') AS mod,
       ecl.eval('return a % b', '{"a": -7, "b": 3}') AS mod_negative,
       ecl.eval('return a % b', '{"a": 5.5, "b": 2}') AS mod_fraction,
       ecl.eval('return -a', '{"a": 3}') AS neg,
       ecl.eval('return - -a', '{"a": 3}') AS double_neg;
-- doubles, not decimals: the exact double result is shown
SELECT ecl.eval('return a + b', '{"a": 0.1, "b": 0.2}') AS point_three,
       ecl.eval('return 0.1 + 0.2') AS folded_point_three;

-- precedence: * / % bind tighter than + -, unary minus tighter still
SELECT ecl.eval('return 2 + 3 * 4') AS c14,
       ecl.eval('return a + b * c', '{"a": 2, "b": 3, "c": 4}') AS v14,
       ecl.eval('return (a + b) * c', '{"a": 2, "b": 3, "c": 4}') AS v20,
       ecl.eval('return a - b - c', '{"a": 10, "b": 3, "c": 2}') AS left_assoc_5,
       ecl.eval('return a / b / c', '{"a": 24, "b": 4, "c": 2}') AS left_assoc_3,
       ecl.eval('return -a * b', '{"a": 2, "b": 3}') AS neg_first,
       ecl.eval('return a + b % c', '{"a": 1, "b": 7, "c": 4}') AS mod_first;
-- comparison below arithmetic, equality below comparison, && below ==, || lowest before ?:
SELECT ecl.eval('return a + 1 > b * 2', '{"a": 5, "b": 2}') AS arith_before_cmp,
       ecl.eval('return a < b == b < a', '{"a": 1, "b": 2}') AS cmp_before_eq,
       ecl.eval('return a == 1 && b == 2', '{"a": 1, "b": 2}') AS eq_before_and,
       ecl.eval('return a || b && c', '{"a": true, "b": false, "c": false}') AS and_before_or,
       ecl.eval('return (a || b) && c', '{"a": true, "b": false, "c": false}') AS parens,
       ecl.eval('return a || b ? "yes" : "no"', '{"a": false, "b": true}') AS or_before_cond,
       ecl.eval('return !a == b', '{"a": true, "b": false}') AS not_before_eq;
-- the conditional operator, nested to the right
SELECT ecl.eval('return n > 10 ? "big" : n > 5 ? "medium" : "small"', jsonb_build_object('n', n)) AS size
FROM (VALUES (1), (7), (20)) AS t(n);

-- comparisons of numbers and of strings (bytewise)
SELECT ecl.eval('return [a < b, a <= b, a > b, a >= b, a == b, a != b]', '{"a": 1, "b": 2}') AS numbers,
       ecl.eval('return [a < b, a <= b, a > b, a >= b, a == b, a != b]', '{"a": 2, "b": 2}') AS equal_numbers,
       ecl.eval('return [a < b, a > b, a == b]', '{"a": "apple", "b": "banana"}') AS strings;
-- == and != across types are false/true, never errors
SELECT ecl.eval('return [a == b, a != b]', '{"a": 1, "b": "1"}') AS number_vs_string,
       ecl.eval('return [a == null, b == null]', '{"a": null, "b": 0}') AS null_checks,
       ecl.eval('return [a == b, a == c]', '{"a": [1, {"x": 2}], "b": [1, {"x": 2}], "c": [1, {"x": 3}]}') AS structural,
       ecl.eval('return a == b', '{"a": {"x": 1, "y": 2}, "b": {"y": 2, "x": 1}}') AS object_key_order;

-- logic: results are booleans; ! negates truthiness
SELECT ecl.eval('return [a && b, a || b, !a, !b]', '{"a": true, "b": false}') AS logic,
       ecl.eval('return [!0, !1, !"", !"x", ![], ![0], !null, !{}]') AS truthiness;

-- short-circuit: the right side is not evaluated, so neither the type error
-- nor the missing input field happens
SELECT ecl.eval('return f && (1 < "x")', '{"f": false}') AS and_skips_error,
       ecl.eval('return t || missing_field', '{"t": true}') AS or_skips_missing;
-- ... but it is when the left side does not decide
SELECT ecl.eval('return t && (1 < s)', '{"t": true, "s": "x"}');
SELECT ecl.eval('return f || missing_field', '{"f": false}');
-- short-circuit saves gas: the skipped side is never executed
SET ecl.gas_limit = 40;
SELECT ecl.eval('return f && (a + a + a + a + a + a + a + a + a + a + a + a + a + a > 0)',
                '{"f": false, "a": 1}') AS cheap_enough;
SELECT ecl.eval('return t && (a + a + a + a + a + a + a + a + a + a + a + a + a + a > 0)',
                '{"t": true, "a": 1}') AS too_expensive;
RESET ecl.gas_limit;

-- + concatenates when either side is a string
SELECT ecl.eval('return s + n', '{"s": "n = ", "n": 42}') AS string_number,
       ecl.eval('return n + s', '{"s": " apples", "n": 1.5}') AS number_string,
       ecl.eval('return s + b + x', '{"s": "", "b": true, "x": null}') AS bool_null,
       ecl.eval('return "a" + "b" + "c"') AS folded_concat;

-- arithmetic and ordering on the wrong types are type errors (EC006)
SELECT ecl.eval('return a - b', '{"a": "x", "b": 1}');
SELECT ecl.eval('return a * b', '{"a": true, "b": 2}');
SELECT ecl.eval('return -a', '{"a": "x"}');
SELECT ecl.eval('return a < b', '{"a": 1, "b": "2"}');
SELECT ecl.eval('return a >= b', '{"a": null, "b": null}');
