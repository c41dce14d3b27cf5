#!/bin/bash
# Run every test of the project and summarise.
#
#   1. C unit tests of the core (no PostgreSQL):   make -C test/unit
#   2. build and install the extension
#   3. pg_regress suites in a throw-away cluster:  make installcheck
#   4. each test/shell/*.sh in its own throw-away cluster
#
# Counting: every unit test, every pg_regress test and every shell script
# counts once.  The last line is exactly "N passed, N failed"; the exit status
# is nonzero when anything failed (or could not be run).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

if [ -z "${PG_CONFIG:-}" ]; then
	if [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
		PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
	else
		PG_CONFIG=pg_config
	fi
fi
export PG_CONFIG

PRELOAD="shared_preload_libraries=ecl"
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"

passed=0
failed=0
LOG=$(mktemp -d /tmp/ecl-tests.XXXXXX)
trap 'rm -rf "$LOG"' EXIT

section() { printf '\n=== %s\n' "$*"; }

summary_and_exit() {
	echo
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# ---------------------------------------------------------------- unit tests
section "core unit tests (make -C test/unit)"
make -C test/unit >"$LOG/unit.out" 2>&1
unit_rc=$?
grep -E '^not ok ' "$LOG/unit.out"
line=$(grep -E '^unit: [0-9]+ passed, [0-9]+ failed' "$LOG/unit.out" | tail -n 1)
if [ -n "$line" ]; then
	echo "$line"
	p=$(echo "$line" | sed -E 's/^unit: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
	f=$(echo "$line" | sed -E 's/^unit: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$unit_rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "unit tests exited with status $unit_rc"
		failed=$((failed + 1))
	fi
else
	echo "unit tests did not run:"
	tail -n 40 "$LOG/unit.out"
	failed=$((failed + 1))
fi

# --------------------------------------------------------- build and install
section "build and install the extension"
if ! make -j2 >"$LOG/build.out" 2>&1; then
	tail -n 60 "$LOG/build.out"
	echo "BUILD FAILED: the pg_regress suites and shell tests cannot run"
	failed=$((failed + 1))
	summary_and_exit
fi
if ! $SUDO make install PG_CONFIG="$PG_CONFIG" >"$LOG/install.out" 2>&1; then
	tail -n 30 "$LOG/install.out"
	echo "INSTALL FAILED"
	failed=$((failed + 1))
	summary_and_exit
fi
# test-only C functions (test/modules), a library of their own
if ! { make -C test/modules/ecl_test_hooks PG_CONFIG="$PG_CONFIG" &&
	$SUDO make -C test/modules/ecl_test_hooks install PG_CONFIG="$PG_CONFIG"; } \
	>"$LOG/modules.out" 2>&1; then
	tail -n 30 "$LOG/modules.out"
	echo "TEST MODULE INSTALL FAILED"
	failed=$((failed + 1))
	summary_and_exit
fi
echo "built and installed into $($PG_CONFIG --pkglibdir) (with test/modules/ecl_test_hooks)"

# ---------------------------------------------------------------- pg_regress
section "pg_regress suites (make installcheck)"
rm -f regression.diffs regression.out
pg_virtualenv -t -o "$PRELOAD" make installcheck PG_CONFIG="$PG_CONFIG" \
	>"$LOG/regress.out" 2>&1
regress_rc=$?
# PostgreSQL <= 15: "test name ... ok 12 ms" / "     name ... FAILED";
# PostgreSQL >= 16: "ok 3 - name  12 ms" / "not ok 3 - name".
grep -E '\.\.\. (ok|FAILED|failed)|^(not )?ok [0-9]+ ' "$LOG/regress.out"
rp=$(grep -cE '\.\.\. ok|^ok [0-9]+ ' "$LOG/regress.out")
rf=$(grep -cE '\.\.\. (FAILED|failed)|^not ok [0-9]+ ' "$LOG/regress.out")
passed=$((passed + rp))
failed=$((failed + rf))
if [ "$rf" -gt 0 ] && [ -f regression.diffs ]; then
	section "pg_regress differences (regression.diffs)"
	cat regression.diffs
fi
if [ "$regress_rc" -ne 0 ] && [ "$rf" -eq 0 ]; then
	echo "pg_regress exited with status $regress_rc:"
	# without the server log that pg_virtualenv appends on failure
	grep -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [A-Z]+ \[' "$LOG/regress.out" | tail -n 40
	failed=$((failed + 1))
fi

# --------------------------------------------------------------- shell tests
shopt -s nullglob
shell_tests=(test/shell/*.sh)
if [ "${#shell_tests[@]}" -gt 0 ]; then
	section "shell tests (each in its own throw-away cluster)"
fi
for t in "${shell_tests[@]}"; do
	name=$(basename "$t")
	out="$LOG/shell-$name.out"
	if ECL_ROOT="$ROOT" pg_virtualenv -t -o "$PRELOAD" bash "$t" >"$out" 2>&1; then
		echo "shell $name ... ok"
		passed=$((passed + 1))
	else
		echo "shell $name ... FAILED"
		sed 's/^/    /' "$out" | tail -n 60
		failed=$((failed + 1))
	fi
done

summary_and_exit
