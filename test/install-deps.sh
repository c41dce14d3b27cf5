#!/bin/sh
# Install the Debian packages this project needs, but only those missing.
# Runs apt-get update at most once; as root directly, otherwise through sudo.
set -eu

PACKAGES="build-essential postgresql-15 postgresql-server-dev-15 postgresql-common
libsodium-dev libipc-run-perl postgresql-15-pllua clang libclang-rt-14-dev python3
pgbouncer python3-psycopg python3-jwt python3-cryptography libedit-dev pkg-config
debhelper dpkg-dev postgresql-server-dev-all prometheus-postgres-exporter curl"

missing=""
for pkg in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
		*" installed") ;;
		*) missing="$missing $pkg" ;;
	esac
done

# node and npm for the editor grammar test (editors/test); a node that is
# already there (from any source) will do
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: not root and no sudo; install them and retry" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
