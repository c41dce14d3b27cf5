#!/bin/bash
# Run the TAP tests (PostgreSQL::Test::Cluster, shipped with the server's
# PGXS) against the installed extension through PGXS's prove_installcheck:
#   test/tap.sh                 every test/t/*.pl
#   test/tap.sh test/t/010_stats_restart.pl
# initdb refuses to run as root, so as root the tests run as the postgres
# user (via runuser).  Each test makes its own clusters under tmp_check;
# logs stay there when a test fails (the path is printed).
#
# make runs in a copy (the Makefile and the tests), not in the checkout: the
# postgres user may not be able to read the checkout at all (a clone in
# root's home directory, mode 0700).  The tests read nothing else from it.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}

cd "$ROOT" || exit 2
if [ $# -gt 0 ]; then tests=("$@"); else tests=(test/t/*.pl); fi

WORK=$(mktemp -d /tmp/ecl-tap.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/test/t"
cp Makefile "$WORK/" || exit 2
copies=()
for t in "${tests[@]}"; do
	cp "$t" "$WORK/test/t/" || exit 2
	copies+=("test/t/$(basename "$t")")
done

cmd="cd '$WORK' && ECL_TEST_EXTENSION='${ECL_TEST_EXTENSION:-ecl}' \
make -s prove_installcheck PG_CONFIG='$PG_CONFIG' PROVE_TESTS='${copies[*]}' \
PROVE_FLAGS='${PROVE_FLAGS:-}'"

# leave the checkout: a process of the postgres user must not start in it
cd "$WORK" || exit 2
if [ "$(id -u)" -eq 0 ]; then
	chown -R postgres: "$WORK"
	runuser -u postgres -- bash -c "$cmd"
else
	bash -c "$cmd"
fi
rc=$?
if [ $rc -eq 0 ]; then
	rm -rf "$WORK"
else
	echo "TAP logs kept in $WORK/tmp_check/log"
fi
exit $rc
