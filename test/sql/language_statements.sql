--
-- ECL statements and program shape: let, assignment, blocks, if / else if /
-- else, for, require, return, emit, constants, policy wrapper, comments,
-- statement separators and line continuation.
--

-- let and assignment; falling off the end returns true
SELECT ecl.eval('let x = 1') AS falls_off_end;
SELECT ecl.eval('let x = a
x = x + 1
x = x * 10
return x', '{"a": 1}') AS reassigned;
-- ; separates statements on one line; a line may continue after an operator,
-- a comma or an open bracket
SELECT ecl.eval('let a = 1; let b = 2; return a + b') AS semicolons,
       ecl.eval('let total = 1 +
    2 +
    3
return [total,
        total * 2]') AS continued;
-- a trailing comma is allowed after call arguments, array items and object
-- fields, also before a closing bracket on its own line
SELECT ecl.eval('return [max(1, 2,), min(
    a,
    b,
), [1, 2,], {k: 1,}]', '{"a": 3, "b": 4}') AS trailing_commas;
SELECT ecl.eval('return max(1,,)');
SELECT ecl.eval('return max(,)');

-- comments; a block comment that spans lines ends the statement like a
-- newline does
SELECT ecl.eval('// a line comment
let x = 2 /* inline */ + 3
/* a block
   comment */
return x // trailing') AS comments;
SELECT ecl.eval('let x = 2 /* spans
lines */ + 3');

-- if / else if / else
SELECT n, ecl.eval('if n > 100 {
    return "large"
} else if n > 10 {
    return "medium"
} else if n > 0 {
    return "small"
} else {
    return "none"
}', jsonb_build_object('n', n)) AS bucket
FROM (VALUES (500), (50), (5), (0)) AS t(n);
-- if without else; truthiness of the condition
SELECT ecl.eval('let r = "unchanged"
if s { r = "changed" }
return r', jsonb_build_object('s', s)) AS result
FROM (VALUES ('""'::jsonb), ('"x"'), ('[]'), ('[0]'), ('0'), ('null')) AS t(s);

-- blocks scope their lets: the inner x shadows, the outer is untouched
SELECT ecl.eval('let x = 1
if true {
    let x = 2
    x = x + 10
}
return x') AS outer_x;
-- outside its block the name is no longer a local: it means an input field
SELECT ecl.eval('if a { let inner = 1 }
return inner', '{"a": true}');
-- assigning to something that is not a let is a compile error
SELECT ecl.eval('amount = 5');
SELECT ecl.eval('undefined_local = 5');

-- for over an array; loops nest; the loop variable is scoped to the loop
SELECT ecl.eval('let sum = 0
for x in xs { sum = sum + x }
return sum', '{"xs": [1, 2, 3, 4.5]}') AS sum,
       ecl.eval('let pairs = 0
for a in xs { for b in xs { if a < b { pairs = pairs + 1 } } }
return pairs', '{"xs": [1, 2, 3, 4]}') AS pairs,
       ecl.eval('let n = 0
for x in [] { n = n + 1 }
return n') AS empty_loop;
SELECT ecl.eval('let found = "none"
for item in items {
    if item.ok { found = item.name; return found }
}
return found', '{"items": [{"ok": false, "name": "a"}, {"ok": true, "name": "b"}, {"ok": true, "name": "c"}]}') AS return_from_loop;
-- for needs an array
SELECT ecl.eval('for x in s { log(x) }', '{"s": "abc"}');

-- require: a failed require denies (value false); a passed one continues
SELECT amount, ecl.eval('require amount > 0, "amount must be positive"
require amount < 100
return "ok"', jsonb_build_object('amount', amount)) AS result
FROM (VALUES (50), (-1), (100)) AS t(amount);
-- gas, as the reference ECLVM's assert and require: without a message a
-- require is ASSERT (3), with one REQUIRE (5); one that can never pass is
-- DENY (5) either way
SELECT pc, opcode, operand, gas FROM ecl.disassemble(ecl.compile('require a
require a, "no a"
return true'));
SELECT opcode, gas FROM ecl.disassemble(ecl.compile('require false'));
-- a run charges it: 2 + 3 + 1 + 5 (LOAD_INPUT_FIELD, ASSERT, PUSH_TRUE,
-- RETURN), and 2 more for the message
SELECT ecl.register_policy('regress_require_gas', 'require a
return true') IS NOT NULL AS registered;
SELECT passed, gas_used FROM ecl.run_policy('regress_require_gas', NULL, NULL, '{"a": 1}');
SELECT ecl.register_policy('regress_require_gas', 'require a, "no a"
return true') IS NOT NULL AS registered;
SELECT passed, gas_used FROM ecl.run_policy('regress_require_gas', NULL, NULL, '{"a": 1}');
-- a failing one stops there: 2 + 5 with the message, 2 + 3 without
SELECT passed, message, gas_used FROM ecl.run_policy('regress_require_gas', NULL, NULL, '{"a": 0}');
SELECT ecl.register_policy('regress_require_gas', 'require a
return true') IS NOT NULL AS registered;
SELECT passed, message, gas_used FROM ecl.run_policy('regress_require_gas', NULL, NULL, '{"a": 0}');
SELECT ecl.drop_policy('regress_require_gas');

-- return ends the run; the value can be any value; code after it is dead
SELECT ecl.eval('return {"a": [1, 2], "b": null}') AS object_value,
       ecl.eval('return null') AS null_value,
       ecl.eval('return x
log("never")', '{"x": 0}') AS zero_value;

-- policy wrapper with constants at program and policy level
SELECT ecl.eval('const MAX = 10000
policy transfer_guard {
    const MIN = 0.5
    require score >= MIN, "score too low"
    let limit = score * MAX
    require amount <= limit, "amount exceeds limit"
    return limit - amount
}', jsonb_build_object('score', score, 'amount', amount)) AS headroom
FROM (VALUES (0.9, 1000), (0.4, 10), (0.6, 7000)) AS t(score, amount);
-- a policy name may be a string
SELECT ecl.eval('policy "transfer guard v2" { return true }') AS string_name;
-- constants cannot be assigned
SELECT ecl.eval('const K = 1
K = 2');
-- several policies in one source need a name to pick one
SELECT ecl.eval('policy a { return 1 }
policy b { return 2 }');

-- emit records an event in ecl.events (with or without a payload); a
-- denied run keeps none of its writes
SELECT ecl.eval('emit "regress_lang_event", {"amount": 5}') AS emitted,
       ecl.eval('emit "regress_lang_event"') AS emitted_no_payload;
SELECT ecl.eval('emit "regress_lang_event", {"amount": 6}
require false, "no"') AS denied;
SELECT event, payload FROM ecl.events WHERE event = 'regress_lang_event' ORDER BY id;
DELETE FROM ecl.events WHERE event = 'regress_lang_event';

-- expression statements: a call (log) is fine
SELECT ecl.eval('log("x")
return 1') AS call_statement;
