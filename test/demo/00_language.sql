-- Demo chapter 00: the language itself — compile, look inside, evaluate.
\pset footer off

\echo
\echo '=== 1. A policy is plain text. ecl.compile turns it into verified bytecode (a bytea).'
SELECT length(ecl.compile($$
policy transfer_guard {
    require amount > 0, "amount must be positive"
    require amount <= 1000, "amount exceeds the limit"
    return true
}
$$)) AS bytecode_bytes;

\echo
\echo '=== 2. ecl.disassemble shows the instructions, the source line of each, and its gas cost.'
SELECT pc, line, opcode, operand, gas
FROM ecl.disassemble(ecl.compile($$
policy transfer_guard {
    require amount > 0, "amount must be positive"
    require amount <= 1000, "amount exceeds the limit"
    return true
}
$$));

\echo
\echo '=== 3. ecl.eval runs code directly. Bare names like "amount" are fields of the JSON input.'
SELECT ecl.eval($$ return amount * 2 + fee $$, '{"amount": 21, "fee": 0.5}') AS doubled_plus_fee;

\echo
\echo '=== 4. The same policy allows one transfer and denies another (a denial returns false).'
SELECT amount, ecl.eval($$
policy transfer_guard {
    require amount > 0, "amount must be positive"
    require amount <= 1000, "amount exceeds the limit"
    return true
}
$$, jsonb_build_object('amount', amount)) AS allowed
FROM (VALUES (250), (5000)) AS t(amount);

\echo
\echo '=== 5. Values map to JSON: objects, arrays, strings, and trust vectors (six dimensions).'
SELECT ecl.eval($$
let scores = [0.9, 0.7, 0.8]
let t = trust_create(0.9, 0.8, 0.7, 0.6, 0.5, 0.4)
return {
    "count": len(scores),
    "best": max(max(scores[0], scores[1]), scores[2]),
    "trust": t,
    "trust_norm": round(trust_norm(t) * 100) / 100,
    "greeting": "hello, " + name
}
$$, '{"name": "Ada"}') AS result;

\echo
\echo '=== 6. Loops are bounded by their array, and every instruction costs gas.'
SELECT ecl.eval($$
let total = 0
for item in items {
    if item.kind == "fee" {
        total = total + item.amount
    }
}
return total
$$, '{"items": [{"kind": "fee", "amount": 2}, {"kind": "pay", "amount": 50}, {"kind": "fee", "amount": 3}]}') AS total_fees;

\echo
\echo '=== 7. Errors are SQL errors with a SQLSTATE, naming the source line and column.'
\set ON_ERROR_STOP 0
SELECT ecl.eval($$
policy limits {
    let cap = (amount + 1
    return cap
}
$$, '{"amount": 5}');
\echo 'SQLSTATE' :LAST_ERROR_SQLSTATE '(syntax error)'
SELECT ecl.eval($$ return amount > "ten" $$, '{"amount": 5}');
\echo 'SQLSTATE' :LAST_ERROR_SQLSTATE '(type error)'
SET ecl.gas_limit = 50;
SELECT ecl.eval($$
let n = 0
for i in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] { n = n + i }
return n
$$);
\echo 'SQLSTATE' :LAST_ERROR_SQLSTATE '(out of gas)'
RESET ecl.gas_limit;
\set ON_ERROR_STOP 1
