#!/bin/bash
# The walk-through: builds and installs the extension, starts a throw-away
# cluster with shared_preload_libraries = 'ecl', creates the extension and
# runs every test/demo/NN_*.sql in order, printing queries and results.
#
# Each chapter is one file, so new chapters (realms, identities, crossings,
# engines, RLS, statistics) are added by dropping in the next numbered file.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if [ -z "${PG_CONFIG:-}" ]; then
	if [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
		PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
	else
		PG_CONFIG=pg_config
	fi
fi
export PG_CONFIG

SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"

echo "Building and installing the extension ..."
make -s -j2 >/dev/null
$SUDO make -s install >/dev/null

# The part that runs inside the throw-away cluster.
run_chapters() {
	psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION ecl' >/dev/null
	for chapter in test/demo/[0-9]*.sql; do
		psql -X -q -v ON_ERROR_STOP=1 -P pager=off -P null='(null)' \
			--echo-queries -f "$chapter"
	done
}
export -f run_chapters

pg_virtualenv -t -o 'shared_preload_libraries=ecl' bash -c 'run_chapters' 2>&1 \
	| grep -v -E '^(Creating new PostgreSQL cluster|Dropping cluster)'
