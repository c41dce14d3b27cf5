#!/bin/bash
# examples/: every policy has a test file, and `ecl test --coverage
# --threshold 90 examples/` passes (every case, at least 90% of the lines of
# each policy run).  Then `ecl test` itself: a wrong expectation of each kind
# (passed, message, error) is reported with its case and counted, a policy
# whose lines are not all run fails the threshold, exit codes 0 / 1 / 2.
# No cluster: the ecl command runs on the snapshot host of src/core.
set -eu
ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
make -s -C "$ROOT" cli >/dev/null
ECL="$ROOT/src/cli/ecl"
WORK=$(mktemp -d /tmp/ecl-examples.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

n=0
for f in "$ROOT"/examples/*.ecl; do
	[ -f "${f%.ecl}.test.json" ] || fail "$f has no test file ${f%.ecl}.test.json"
	n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "only $n example policies"

"$ECL" test --coverage --threshold 90 "$ROOT/examples" >"$WORK/out" || { cat "$WORK/out" >&2; fail "ecl test examples/"; }
cat "$WORK/out"
tail -1 "$WORK/out" | grep -qx '[1-9][0-9]* passed, 0 failed' || fail "last line: $(tail -1 "$WORK/out")"
[ "$(grep -c '^coverage .*\.ecl: ' "$WORK/out")" -eq "$n" ] || fail "coverage is not printed for each of the $n policies"

# --- ecl test reports what differs ---------------------------------------------
cp "$ROOT"/examples/kyc_gate.ecl "$ROOT"/examples/state.json "$WORK/"
python3 - "$ROOT/examples/kyc_gate.test.json" "$WORK/kyc_gate.test.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
# drop the only case that reaches the level-2 branch, break three others
d["cases"] = [c for c in d["cases"] if c["name"] != "large payment with level 2 and integrity"]
byname = {c["name"]: c for c in d["cases"]}
byname["small payments need only a registered caller"]["expect"]["passed"] = False
byname["nothing for an unknown caller"]["expect"]["message"] = "nope"
byname["the amount must be a number"]["expect"]["error"] = "EC002"
json.dump(d, open(sys.argv[2], "w"))
PY
rc=0
"$ECL" test --coverage --threshold 95 "$WORK" >"$WORK/out" || rc=$?
[ "$rc" -eq 1 ] || fail "ecl test with failing cases exited $rc"
grep -qx "FAIL $WORK/kyc_gate.test.json: case \"small payments need only a registered caller\": expected passed false, got true" "$WORK/out" \
	|| fail "passed mismatch not reported: $(cat "$WORK/out")"
grep -qx "FAIL $WORK/kyc_gate.test.json: case \"nothing for an unknown caller\": expected message \"nope\", got \"unknown or revoked caller\"" "$WORK/out" \
	|| fail "message mismatch not reported: $(cat "$WORK/out")"
grep -q "^FAIL $WORK/kyc_gate.test.json: case \"the amount must be a number\": expected error EC002, got error EC006: " "$WORK/out" \
	|| fail "error mismatch not reported: $(cat "$WORK/out")"
grep -qx "coverage $WORK/kyc_gate.ecl: 80.0% of lines (8 of 10); not run: lines 15, 16" "$WORK/out" \
	|| fail "coverage of the unrun branch: $(cat "$WORK/out")"
grep -qx "coverage below the threshold of 95%" "$WORK/out" || fail "threshold not reported"
tail -1 "$WORK/out" | grep -qx '4 passed, 3 failed' || fail "counts: $(tail -1 "$WORK/out")"

# only the threshold fails: exit 1 as well; without cases: 2
python3 - "$ROOT/examples/kyc_gate.test.json" "$WORK/kyc_gate.test.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["cases"] = [c for c in d["cases"] if c["name"] != "large payment with level 2 and integrity"]
json.dump(d, open(sys.argv[2], "w"))
PY
rc=0
"$ECL" test --threshold 90 "$WORK" >"$WORK/out" || rc=$?
[ "$rc" -eq 1 ] || fail "ecl test below the threshold exited $rc: $(cat "$WORK/out")"
rc=0
"$ECL" test --threshold 80 "$WORK" >"$WORK/out" || rc=$?
[ "$rc" -eq 0 ] || fail "ecl test at the threshold exited $rc: $(cat "$WORK/out")"
mkdir "$WORK/empty"
rc=0
"$ECL" test "$WORK/empty" >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "ecl test without cases exited $rc"
rc=0
"$ECL" test --threshold 120 "$WORK" >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "ecl test --threshold 120 exited $rc"

# --- ecl explain over a snapshot: host calls answered from the state -----------------
rc=0
"$ECL" explain "$ROOT/examples/kyc_gate.ecl" --state "@$ROOT/examples/state.json" --realm shop \
	--caller did:example:bob --input '{"amount": 20000}' >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "explain of a denied run exited $rc"
grep -q $'\thost_call\t{"function": "has_credential", "args": \\["did:example:bob", "kyc-level-2"\\], "result": false}\t' "$WORK/out" \
	|| fail "explain --state: no host call answered from the state: $(cat "$WORK/out")"
tail -1 "$WORK/out" | grep -q $'^[0-9]*\t14\t9\trequire\t{"passed": false, "value": false, "message": "KYC level 2 required above 10000"}' \
	|| fail "explain --state: the denying require: $(tail -1 "$WORK/out")"
echo "ok"
