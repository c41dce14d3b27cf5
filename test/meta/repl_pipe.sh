#!/bin/bash
# ecl repl driven through a pipe (no terminal: no prompt, plain lines):
# expressions print their value, statements are kept for the next lines
# (let, a for loop typed over several lines, a store_put whose write the next
# line reads back), a failing require is reported as denied and not kept,
# compile and run-time errors are reported with their SQLSTATE and the
# session goes on, host functions answer from --state, :reset forgets.
# And the command is linked with libedit when its headers are installed.
set -eu
ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
make -s -C "$ROOT" cli >/dev/null
ECL="$ROOT/src/cli/ecl"
WORK=$(mktemp -d /tmp/ecl-repl.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >"$WORK/in" <<'IN'
let x = 2
x * 21
let items = [1, 2,
    3]
for v in items {
    x = x + v
}
x
require x > 100, "too small"
x
unknwn + 1
let y =
has_credentail(caller, "kyc")
get_balance(caller)
has_credential(caller, "kyc")
trust.r
store_put("notes", "a", {n: x})
store_get("notes", "a")
log("x is " + x)
x + 1
:reset
x
:quit
IN
"$ECL" repl --caller did:example:alice --realm shop --state "@$ROOT/examples/state.json" <"$WORK/in" >"$WORK/out" 2>&1 \
	|| fail "ecl repl exited $?: $(cat "$WORK/out")"
cat >"$WORK/want" <<'WANT'
42
8
denied: too small
8
error EC006: missing input field 'unknwn'
error 42601: expected an expression, found end of input
error 42601: unknown function 'has_credentail' (did you mean 'has_credential'?)
25000
true
0.9
true
{"n":8}
log: x is 8
null
9
error EC006: missing input field 'x'
WANT
diff -u "$WORK/want" "$WORK/out" || fail "ecl repl output"

if pkg-config --exists libedit 2>/dev/null; then
	ldd "$ECL" | grep -q libedit || fail "libedit is installed but ecl is not linked with it"
fi
echo "ok"
