#!/bin/bash
# The ecl command (src/cli), as installed by make install into PostgreSQL's
# bindir: exit codes, every error of a file reported as file:line:col with
# the same text the database gives for the first, ecl fmt (idempotent,
# comments kept, --check, never rewriting a file that does not parse, and
# never changing the compiled code: checked for every ECL example in docs/
# and README.md and every .ecl file in the repository, examples/ included),
# and ecl disasm
# against ecl.disassemble(ecl.compile(...)).
#
# Runs inside the throw-away cluster of test/run-all-tests.sh.
set -eu

ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
ECL=${ECL:-$("${PG_CONFIG:-pg_config}" --bindir)/ecl}
EXT=${ECL_EXTENSION:-ecl}
DB=ecl_cli_tools_test
WORK=$(mktemp -d /tmp/ecl-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_rc CODE CMD...: run CMD, its status must be CODE (output in $WORK/out)
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" -eq "$want" ] || { cat "$WORK/out" "$WORK/err" >&2; fail "$* exited $rc, expected $want"; }
}

[ -x "$ECL" ] || fail "$ECL is not installed"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION $EXT"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# --- usage ---------------------------------------------------------------------
expect_rc 0 "$ECL" --help
grep -q '^  check' "$WORK/out" || fail "--help lists no check command"
expect_rc 2 "$ECL"
expect_rc 2 "$ECL" frobnicate
expect_rc 2 "$ECL" check
expect_rc 2 "$ECL" check --bogus x.ecl
expect_rc 2 "$ECL" check "$WORK/missing.ecl"
expect_rc 0 "$ECL" version
version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT/ecl.control")
grep -qx "ecl $version (bytecode format [0-9]*)" "$WORK/out" || fail "version: $(cat "$WORK/out")"

# --- check: every error, with file:line:col --------------------------------------
cat >"$WORK/bad.ecl" <<'ECL'
policy p {
    let limit = trust.r * 100
    require has_credentail(caller, "kyc")
    if amount = 1 {
        return false
    }
    limt = 5
    let y = 1 $ 2
    require x = 2
}
ECL
expect_rc 1 "$ECL" check "$WORK/bad.ecl"
cat >"$WORK/want" <<WANT
$WORK/bad.ecl:3:13: unknown function 'has_credentail' (did you mean 'has_credential'?)
$WORK/bad.ecl:4:15: expected '{' after the if condition, found '=' (did you mean '==' to compare?)
$WORK/bad.ecl:7:5: assignment to undeclared variable 'limt' (did you mean 'limit'? otherwise declare it with 'let' first)
$WORK/bad.ecl:8:15: unexpected character '\$'
$WORK/bad.ecl:9:15: expected newline or ';' after the statement, found '=' (did you mean '==' to compare?)
WANT
diff -u "$WORK/want" "$WORK/out" || fail "ecl check output"

# the database reports one of them, with the same text (42601): the first
# syntax error, or when there is none the first compile error
first=$(sql -c "SELECT ecl.compile(\$src\$$(cat "$WORK/bad.ecl")\$src\$)" 2>&1 || true)
case "$first" in
	*"line 4:15: expected '{' after the if condition, found '=' (did you mean '==' to compare?)"*) ;;
	*) fail "ecl.compile said: $first" ;;
esac
first=$(sql -c "SELECT ecl.compile('require has_credentail(caller, \"kyc\")')" 2>&1 || true)
case "$first" in
	*"line 1:9: unknown function 'has_credentail' (did you mean 'has_credential'?)"*) ;;
	*) fail "ecl.compile said: $first" ;;
esac

# stdin, a clean file, and a mix (status 1 wins over 0, 2 over 1)
expect_rc 0 "$ECL" check "$ROOT/editors/test/samples/transfer_guard.ecl"
[ ! -s "$WORK/out" ] || fail "clean file printed: $(cat "$WORK/out")"
expect_rc 1 "$ECL" check - <"$WORK/bad.ecl"
grep -q '^<stdin>:3:13: ' "$WORK/out" || fail "stdin errors: $(cat "$WORK/out")"
expect_rc 1 "$ECL" check "$ROOT/editors/test/samples/transfer_guard.ecl" "$WORK/bad.ecl"
expect_rc 2 "$ECL" check "$WORK/bad.ecl" "$WORK/missing.ecl"

# at most 20 errors per file, and a line saying there were more
for i in $(seq 1 25); do echo "nope$i(1)"; done >"$WORK/many.ecl"
expect_rc 1 "$ECL" check "$WORK/many.ecl"
[ "$(grep -c "^$WORK/many.ecl:[0-9]*:1: unknown function" "$WORK/out")" -eq 20 ] || fail "not 20 errors"
grep -q "too many errors; only the first 20 are shown" "$WORK/out" || fail "no truncation line"

# --- fmt ---------------------------------------------------------------------------
cp "$ROOT/editors/test/samples/unformatted.ecl" "$WORK/u.ecl"
expect_rc 1 "$ECL" fmt --check "$WORK/u.ecl"
grep -qx "$WORK/u.ecl" "$WORK/out" || fail "fmt --check does not list the file"
cmp -s "$WORK/u.ecl" "$ROOT/editors/test/samples/unformatted.ecl" || fail "fmt --check changed the file"
expect_rc 0 "$ECL" fmt "$WORK/u.ecl"
expect_rc 0 "$ECL" fmt --check "$WORK/u.ecl"
[ ! -s "$WORK/out" ] || fail "fmt --check lists a formatted file"
cat >"$WORK/u.want" <<'ECL'
/* deliberately untidy: ecl fmt rewrites a copy of it in the tests */
policy untidy {
    let x = 1
    let y = x * 2 // two statements on one line

    if x > 0 {
        require y >= 2, "y too small"
    } else {
        log("never")
    }
    let z = [1, 2, 3][0]
    return z + -1 > 0 ? x : y
}
ECL
diff -u "$WORK/u.want" "$WORK/u.ecl" || fail "fmt layout"
# stdin to stdout
"$ECL" fmt <"$ROOT/editors/test/samples/unformatted.ecl" | cmp -s - "$WORK/u.want" || fail "fmt stdin"
# a file that does not parse is reported and left alone
printf 'policy q {\n  let = 1\n}\n' >"$WORK/broken.ecl"
cp "$WORK/broken.ecl" "$WORK/broken.orig"
expect_rc 1 "$ECL" fmt "$WORK/broken.ecl"
grep -q "^$WORK/broken.ecl:2:7: expected a name after 'let'" "$WORK/out" || fail "fmt error: $(cat "$WORK/out")"
cmp -s "$WORK/broken.ecl" "$WORK/broken.orig" || fail "fmt rewrote a file that does not parse"

# --- every ECL example and .ecl file: fmt keeps the code, is idempotent ---------------
# Examples: the fenced blocks of docs/*.md and README.md (untagged or
# ```ecl) and the $$ / $ecl$ bodies and quoted sources inside their SQL.  Blocks that are not
# ECL (or show an error on purpose) fail ecl check and are not counted.
mkdir "$WORK/ex"
python3 "$ROOT/test/shell/lib/ecl_examples.py" "$WORK/ex" "$ROOT"/docs/*.md "$ROOT/README.md"
while IFS= read -r f; do cp "$ROOT/$f" "$WORK/ex/repo-$(echo "$f" | tr / _)"; done \
	< <(cd "$ROOT" && { git ls-files '*.ecl' 2>/dev/null || find . -name '*.ecl' -not -path './.git/*' | sed 's|^\./||'; })

# disassembly without the line column: code and constants, not layout
code_of() { "$ECL" disasm "$@" | cut -f1,3-; }

examples=0
repo_files=0
for f in "$WORK"/ex/*.ecl; do
	"$ECL" check "$f" >/dev/null 2>&1 || continue
	examples=$((examples + 1))
	case "$f" in */repo-*) repo_files=$((repo_files + 1)) ;; esac
	"$ECL" fmt - <"$f" >"$f.fmt" || fail "fmt $f"
	"$ECL" fmt - <"$f.fmt" | cmp -s - "$f.fmt" || fail "fmt is not idempotent on $f"
	# comments survive: the same comment texts in the same order
	{ grep -o '//.*\|/\*.*' "$f" || true; } | sed 's/[[:space:]]*$//' >"$f.c1"
	{ grep -o '//.*\|/\*.*' "$f.fmt" || true; } | sed 's/[[:space:]]*$//' >"$f.c2"
	cmp -s "$f.c1" "$f.c2" || fail "fmt lost or changed a comment of $f"
	# the same code, for each policy of the file (or the script)
	policies=$({ grep -o '^[[:space:]]*policy[[:space:]]\+[A-Za-z_][A-Za-z0-9_]*' "$f" || true; } | awk '{print $2}')
	if [ "$(echo "$policies" | grep -c .)" -le 1 ]; then
		code_of "$f" >"$f.d1" && code_of "$f.fmt" >"$f.d2" || fail "disasm $f"
		cmp -s "$f.d1" "$f.d2" || { diff "$f.d1" "$f.d2" >&2; fail "fmt changed the code of $f"; }
	else
		for p in $policies; do
			code_of -p "$p" "$f" >"$f.d1" && code_of -p "$p" "$f.fmt" >"$f.d2" || fail "disasm $f $p"
			cmp -s "$f.d1" "$f.d2" || fail "fmt changed the code of policy $p in $f"
		done
	fi
done
examples=$((examples - repo_files))
echo "fmt kept the code of $examples ECL examples of the docs and $repo_files .ecl files"
# the docs held 15 ECL examples when this was written: fewer means the
# extraction broke
[ "$examples" -ge 15 ] || fail "only $examples ECL examples found in the docs"
[ "$repo_files" -ge 3 ] || fail "only $repo_files .ecl files found"
# examples/ is among them, and kept in the canonical layout
[ "$(find "$WORK/ex" -name 'repo-examples_*.ecl' | wc -l)" -ge 4 ] || fail "the policies of examples/ were not checked"
expect_rc 0 "$ECL" fmt --check "$ROOT"/examples/*.ecl

# --- declared inputs: check refuses undeclared names, fmt knows the syntax --------
cat >"$WORK/decl.ecl" <<'ECL'
policy  doc_read( owner :did,classification: string ,
   level ? : number ){
    require class != "secret" || level >= 3
    return input.ownr == caller
}
ECL
expect_rc 1 "$ECL" check "$WORK/decl.ecl"
cat >"$WORK/want" <<EOF
$WORK/decl.ecl:3:13: name 'class' is not a declared input of policy 'doc_read' (did you mean 'classification'?)
$WORK/decl.ecl:4:18: input field 'ownr' is not a declared input of policy 'doc_read' (did you mean 'owner'?)
EOF
diff -u "$WORK/want" "$WORK/out" || fail "ecl check of undeclared inputs"
expect_rc 1 "$ECL" fmt --check "$WORK/decl.ecl"
expect_rc 0 "$ECL" fmt "$WORK/decl.ecl"
cat >"$WORK/want" <<'ECL'
policy doc_read(owner: did, classification: string,
    level?: number) {
    require class != "secret" || level >= 3
    return input.ownr == caller
}
ECL
diff -u "$WORK/want" "$WORK/decl.ecl" || fail "fmt of a declaration"
expect_rc 0 "$ECL" fmt --check "$WORK/decl.ecl"
# the same source in the database: refused at registration with the same words
sql -c "SELECT ecl.register_policy('doc_read', \$src\$$(cat "$WORK/decl.ecl")\$src\$)" >"$WORK/out" 2>&1 && fail "registered a policy with an undeclared name"
grep -q "name 'class' is not a declared input of policy 'doc_read' (did you mean 'classification'?)" "$WORK/out" || fail "register error: $(cat "$WORK/out")"
echo "declared inputs: check, fmt and registration agree"

# --- explain: the same trace as ecl.explain for a pure policy ------------------------
cat >"$WORK/explain.ecl" <<'ECL'
policy cli_explain(amount: number, limit?: number) {
    require amount > 0, "amount must be positive"
    if amount > 100 {
        require limit != null && amount <= limit, "over the limit"
    }
    return amount * 2
}
ECL
sql -c "SELECT ecl.register_policy('cli_explain', \$src\$$(cat "$WORK/explain.ecl")\$src\$)" >/dev/null
for input in '{"amount": 500, "limit": 200}' '{"amount": 500}' '{"amount": 5}'; do
	rc=0
	"$ECL" explain "$WORK/explain.ecl" --input "$input" >"$WORK/ex.cli" 2>"$WORK/err" || rc=$?
	case "$input" in *'"amount": 5}') [ "$rc" -eq 0 ] || fail "explain of a passing run exited $rc" ;;
		*) [ "$rc" -eq 1 ] || fail "explain of a denied run exited $rc" ;; esac
	sql -F "$(printf '\t')" -c "SELECT * FROM ecl.explain('cli_explain', NULL, NULL, '$input')" >"$WORK/ex.sql"
	python3 - "$WORK/ex.cli" "$WORK/ex.sql" <<'PY' || fail "ecl explain differs from ecl.explain for $input"
import json, sys
cli = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
sql = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
norm = lambda rows: [(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]
if not cli or norm(cli) != norm(sql):
    print("cli:", cli, "\nsql:", sql, file=sys.stderr)
    sys.exit(1)
PY
done
grep -q 'over the limit' "$WORK/ex.cli" || true
"$ECL" explain "$WORK/explain.ecl" --input '{"amount": "5"}' >"$WORK/out" 2>&1 && fail "explain accepted a mistyped input"
grep -q "input field 'amount' must be a number, got string" "$WORK/out" || fail "explain input check: $(cat "$WORK/out")"
expect_rc 2 "$ECL" explain "$WORK/explain.ecl" --input '[1]'
sql -c "SELECT ecl.drop_policy('cli_explain')" >/dev/null
echo "ecl explain matched ecl.explain"

# --- disasm equals ecl.disassemble ----------------------------------------------------
n=0
for f in "$ROOT"/editors/test/samples/*.ecl "$WORK"/ex/0*.ecl; do
	"$ECL" disasm "$f" >"$WORK/d.cli" 2>/dev/null || continue
	tail -n +2 "$WORK/d.cli" >"$WORK/d.rows"
	sql -F "$(printf '\t')" -c "SELECT * FROM ecl.disassemble(ecl.compile(\$src\$$(cat "$f")\$src\$))" >"$WORK/d.sql"
	diff -u "$WORK/d.sql" "$WORK/d.rows" >&2 || fail "ecl disasm differs from ecl.disassemble for $f"
	n=$((n + 1))
done
[ "$n" -ge 10 ] || fail "only $n sources disassembled"
head -n 1 "$WORK/d.cli" | grep -qx "$(printf 'pc\tline\topcode\toperand\tgas')" || fail "disasm header"
expect_rc 1 "$ECL" disasm "$WORK/bad.ecl"
grep -qx "$WORK/bad.ecl:4:15: expected .{. after the if condition, found .=. (did you mean .==. to compare?)" "$WORK/out" || fail "disasm error: $(cat "$WORK/out")"
echo "ecl disasm matched ecl.disassemble for $n sources"

psql -X -q -d postgres -c "DROP DATABASE $DB"
echo "cli_tools: ok"
