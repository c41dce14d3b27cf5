#!/bin/bash
# Run TAP tests (PostgreSQL::Test::Cluster, shipped with the server's PGXS)
# against the installed extension:
#   test/tap.sh                 every test/t/*.pl
#   test/tap.sh test/t/010_stats_restart.pl
# initdb refuses to run as root, so as root the tests run as the postgres
# user (via runuser).  Each test makes its own clusters under a temporary
# TESTDIR; logs stay there when a test fails (the path is printed).
#
# The tests run from a copy in that directory, not from the checkout: the
# postgres user may not be able to read the checkout at all (a clone in
# root's home directory, mode 0700).  They read nothing else from it.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
PGXS_SRC=$(dirname "$(dirname "$($PG_CONFIG --pgxs)")")	# .../lib/pgxs/src
BINDIR=$($PG_CONFIG --bindir)

cd "$ROOT" || exit 2
if [ $# -gt 0 ]; then tests=("$@"); else tests=(test/t/*.pl); fi

WORK=$(mktemp -d /tmp/ecl-tap.XXXXXX)
chmod 755 "$WORK"
mkdir "$WORK/t"
copies=()
for t in "${tests[@]}"; do
	cp "$t" "$WORK/t/" || exit 2
	copies+=("t/$(basename "$t")")
done

cmd="cd '$WORK' && TESTDIR='$WORK' PATH='$BINDIR':\"\$PATH\" \
PG_REGRESS='$PGXS_SRC/test/regress/pg_regress' ECL_TEST_EXTENSION='${ECL_TEST_EXTENSION:-ecl}' \
prove -I '$PGXS_SRC/test/perl' ${PROVE_FLAGS:-} ${copies[*]}"

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
