#!/bin/bash
# Run every test of the project and summarise.
#
#   1. C unit tests of the core (no PostgreSQL):   make -C test/unit
#   2. build and install the extension (and test/modules/ecl_test_hooks)
#   3. pg_regress suites (test/sql) in a throw-away cluster: make installcheck
#   4. TAP tests (test/t), each making its own clusters: make prove_installcheck
#      through test/tap.sh (as the postgres user when run as root)
#   5. each test/shell/*.sh (several sessions or servers) in its own
#      throw-away cluster
#   6. meta checks, test/meta/*.sh (docs table, fuzz smoke, sanitizers, editor grammar): no
#      cluster
#   7. the Debian package: built from a clean copy (test/package/build.sh),
#      installed with dpkg, smoke-tested in a fresh cluster, purged, and the
#      files it replaced restored (test/package/check.sh).  Last, because
#      while it runs the installed extension is the package's.
#
# Counting: every unit test, every pg_regress test, every TAP file, every
# shell script and every meta check counts once.  The last line is exactly "N passed, N failed"; the exit status
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
rm -f test/regression.diffs test/regression.out
# TAP_TESTS= : the TAP tests are step 4, not part of this cluster's run
pg_virtualenv -t -o "$PRELOAD" make installcheck PG_CONFIG="$PG_CONFIG" TAP_TESTS= \
	>"$LOG/regress.out" 2>&1
regress_rc=$?
# PostgreSQL <= 15: "test name ... ok 12 ms" / "     name ... FAILED";
# PostgreSQL >= 16: "ok 3 - name  12 ms" / "not ok 3 - name".
grep -E '\.\.\. (ok|FAILED|failed)|^(not )?ok [0-9]+ ' "$LOG/regress.out"
rp=$(grep -cE '\.\.\. ok|^ok [0-9]+ ' "$LOG/regress.out")
rf=$(grep -cE '\.\.\. (FAILED|failed)|^not ok [0-9]+ ' "$LOG/regress.out")
passed=$((passed + rp))
failed=$((failed + rf))
if [ "$rf" -gt 0 ] && [ -f test/regression.diffs ]; then
	section "pg_regress differences (test/regression.diffs)"
	cat test/regression.diffs
fi
if [ "$regress_rc" -ne 0 ] && [ "$rf" -eq 0 ]; then
	echo "pg_regress exited with status $regress_rc:"
	# without the server log that pg_virtualenv appends on failure
	grep -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [A-Z]+ \[' "$LOG/regress.out" | tail -n 40
	failed=$((failed + 1))
fi

# ----------------------------------------------------------------- TAP tests
shopt -s nullglob
tap_tests=(test/t/*.pl)
if [ "${#tap_tests[@]}" -gt 0 ]; then
	section "TAP tests (make prove_installcheck, each file its own clusters)"
	PG_CONFIG="$PG_CONFIG" test/tap.sh >"$LOG/tap.out" 2>&1
	tap_rc=$?
	# prove prints one line per file: "test/t/010_x.pl .... ok" when it passed
	tp=0
	for t in "${tap_tests[@]}"; do
		if grep -qE "^${t//./\\.} \.+ ok( |\$)" "$LOG/tap.out"; then
			echo "tap $(basename "$t") ... ok"
			tp=$((tp + 1))
		else
			echo "tap $(basename "$t") ... FAILED"
		fi
	done
	passed=$((passed + tp))
	failed=$((failed + ${#tap_tests[@]} - tp))
	if [ "$tp" -ne "${#tap_tests[@]}" ] || [ "$tap_rc" -ne 0 ]; then
		sed 's/^/    /' "$LOG/tap.out" | tail -n 80
		if [ "$tp" -eq "${#tap_tests[@]}" ]; then
			echo "TAP run exited with status $tap_rc"
			failed=$((failed + 1))
		fi
	fi
fi

# --------------------------------------------------------------- shell tests
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

# --------------------------------------------------------------- meta checks
meta_checks=(test/meta/*.sh)
if [ "${#meta_checks[@]}" -gt 0 ]; then
	section "meta checks (no cluster)"
fi
for t in "${meta_checks[@]}"; do
	name=$(basename "$t")
	out="$LOG/meta-$name.out"
	if ECL_ROOT="$ROOT" bash "$t" >"$out" 2>&1; then
		echo "meta $name ... ok"
		passed=$((passed + 1))
	else
		echo "meta $name ... FAILED"
		sed 's/^/    /' "$out" | tail -n 60
		failed=$((failed + 1))
	fi
done

# ----------------------------------------------------------- Debian package
section "Debian package (build from a clean copy, install, smoke test, restore)"
pkgdir=$(mktemp -d /tmp/ecl-package.XXXXXX)
if deb=$(test/package/build.sh "$pkgdir" 2>"$LOG/package-build.err" | tail -n 1) && [ -f "$deb" ]; then
	echo "package build ... ok ($(basename "$deb"))"
	passed=$((passed + 1))
	if test/package/check.sh "$deb" >"$LOG/package-check.out" 2>&1; then
		echo "package install and smoke test ... ok"
		passed=$((passed + 1))
	else
		echo "package install and smoke test ... FAILED"
		grep -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [A-Z]+ \[' "$LOG/package-check.out" |
			sed 's/^/    /' | tail -n 60
		failed=$((failed + 1))
	fi
else
	echo "package build ... FAILED"
	sed 's/^/    /' "$LOG/package-build.err" | tail -n 40
	failed=$((failed + 1))
fi
rm -rf "$pkgdir"

summary_and_exit
