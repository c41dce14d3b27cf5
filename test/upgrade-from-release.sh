#!/bin/bash
# The upgrade as a user meets it, with the released library (not part of
# make test: it builds 0.1, about a minute):
#
#   make check-upgrade, or test/upgrade-from-release.sh [commit]
#                                     (default e95bf6d, release 0.1)
#
# builds the release from git (git archive, so the repository is not
# touched; needs the commit, i.e. not a shallow clone) and installs it into a
# private copy of this machine's PostgreSQL (so the shared installation is
# not touched and no lock is needed), starts a cluster with that library,
# then runs test/shell/upgrade_from_0_1.sh there: data and decisions are
# made by the 0.1 library; just before ALTER EXTENSION ecl UPDATE this
# checkout is installed into the copy and the server restarted, which must
# ignore the 0.1 library's statistics file with the documented LOG line
# (docs/operations.md, "Upgrading from 0.1").
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RELEASE=${1:-e95bf6d}
PG_CONFIG=$(command -v pg_config)
PGBIN=$(pg_config --bindir)
PGSHARE=$(pg_config --sharedir)
T=$(mktemp -d /tmp/ecl-upgrade-release.XXXXXX)
chmod 755 "$T"
PORT=${ECL_RELEASE_PORT:-55499}
RUN=()
[ "$(id -u)" -eq 0 ] && RUN=(runuser -u postgres --)

cleanup() {
	"${RUN[@]}" "$T/pg$PGBIN/pg_ctl" -D "$T/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT

# a relocated copy: PostgreSQL finds its share and lib directories relative
# to its binaries
mkdir -p "$T/pg$(dirname "$PGBIN")" "$T/pg$(dirname "$PGSHARE")"
cp -a "$(dirname "$PGBIN")" "$T/pg$(dirname "$(dirname "$PGBIN")")/"
cp -a "$PGSHARE" "$T/pg$(dirname "$PGSHARE")/"
BIN=$T/pg$PGBIN

echo "# building release $RELEASE"
mkdir "$T/release"
git -C "$ROOT" archive "$RELEASE" | tar -x -C "$T/release"
make -C "$T/release" -j2 >"$T/build-release.log" 2>&1
make -C "$T/release" install DESTDIR="$T/pg" >>"$T/build-release.log" 2>&1
echo "# building this checkout"
make -C "$ROOT" -j2 >"$T/build-current.log" 2>&1

mkdir "$T/data"
[ "$(id -u)" -eq 0 ] && chown postgres "$T" "$T/data"
"${RUN[@]}" "$BIN/initdb" -D "$T/data" -A trust -U postgres >/dev/null
OPTS="-p $PORT -k $T -c listen_addresses= -c shared_preload_libraries=ecl"
"${RUN[@]}" "$BIN/pg_ctl" -D "$T/data" -o "$OPTS" -l "$T/server.log" -w start >/dev/null

export PATH="$BIN:$PATH" PGHOST=$T PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
export ECL_ROOT=$ROOT
# the system's pg_config: the copy's would relocate the install into itself
export ECL_BEFORE_UPDATE="make -C '$ROOT' install PG_CONFIG='$PG_CONFIG' DESTDIR='$T/pg' >>'$T/build-current.log' 2>&1 &&
	${RUN[*]} '$BIN/pg_ctl' -D '$T/data' -o '$OPTS' -l '$T/server.log' -w restart >/dev/null &&
	if grep -q 'ecl: ignoring statistics file \"pg_stat/ecl_stats.stat\": written in statistics file version 2' '$T/server.log'; then
		echo 'ok - the 0.1 library'\\''s statistics file is ignored with the documented LOG line'
	else
		echo 'not ok - no LOG line about the 0.1 statistics file:'; grep 'ecl:' '$T/server.log' | sed 's/^/    /'
		failures=\$((failures + 1))
	fi"
bash "$ROOT/test/shell/upgrade_from_0_1.sh"
