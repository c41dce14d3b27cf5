#!/bin/bash
# Install a built postgresql-<major>-ecl package into the system, run its
# autopkgtest (debian/tests/smoke: test/package/smoke.sh in a fresh cluster),
# then put the system back:
#
#   test/package/check.sh <path of the .deb>
#
# Needs root (dpkg -i).  The package writes the same files as make install
# (library, install script, control file, the ecl command): those that exist
# before are saved and restored afterwards, and dpkg --purge removes the rest,
# so what was installed before (by make install, say) is in place again when
# this returns, whatever happened in between.  On a machine where several
# checkouts share one installation, hold the same lock as for make install.
# Refuses to run if the package is installed already (it would remove it).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
deb=${1:?usage: check.sh <package.deb>}
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
pkg=$(dpkg-deb -f "$deb" Package)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "check.sh: dpkg -i needs root (or sudo)" >&2; exit 2; }
	SUDO=sudo
fi

case "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" in
*" installed"|*" unpacked"|*" half-installed"|*" half-configured")
	echo "check.sh: $pkg is installed on this system already; not replacing it" >&2
	exit 2 ;;
esac

saved=$(mktemp -d /tmp/ecl-package-saved.XXXXXX)
# the package's files (not directories) that exist now
dpkg-deb --fsys-tarfile "$deb" | tar -tf - | sed -n 's|^\./\(.*[^/]\)$|\1|p' |
	while read -r f; do [ -e "/$f" ] && printf '%s\n' "$f"; done >"$saved/list"
if [ -s "$saved/list" ]; then
	$SUDO tar -C / -cpf "$saved/prior.tar" -T "$saved/list"
fi
echo "# $(wc -l <"$saved/list") of the package's files exist before it is installed; saved"

restore() {
	rc=$?
	$SUDO dpkg --purge "$pkg" >"$saved/purge.log" 2>&1 || { cat "$saved/purge.log"; rc=1; }
	if [ -s "$saved/list" ]; then
		$SUDO tar -C / -xpf "$saved/prior.tar" || rc=1
		# tar -d compares the restored files with the saved ones
		if ! $SUDO tar -C / -df "$saved/prior.tar"; then
			echo "not ok - the files that were there before are not restored"
			rc=1
		fi
	fi
	echo "# $pkg purged, the prior files restored"
	rm -rf "$saved"
	exit $rc
}
trap restore EXIT
# a signal ends the script through exit, so the EXIT trap restores too
trap 'exit 1' INT TERM HUP

echo "# dpkg -i $(basename "$deb")"
$SUDO dpkg -i "$deb" >"$saved/install.log" 2>&1 || { cat "$saved/install.log"; exit 1; }

failures=0
if [ "$(dpkg-query -W -f='${Status}' "$pkg")" = "install ok installed" ]; then
	echo "ok - $pkg is installed"
else
	echo "not ok - $pkg is not installed: $(dpkg-query -W -f='${Status}' "$pkg")"
	failures=$((failures + 1))
fi
# every file in place is the package's own (md5sums of the package)
verify=$($SUDO dpkg --verify "$pkg" 2>&1 || true)
if [ -z "$verify" ]; then
	echo "ok - dpkg --verify: the installed files are the package's"
else
	echo "not ok - dpkg --verify $pkg:"
	echo "$verify" | sed 's/^/    /'
	failures=$((failures + 1))
fi

# the package's own test (autopkgtest: debian/tests/smoke), from the top of
# the source tree as autopkgtest runs it
if ! (cd "$ROOT" && $SUDO debian/tests/smoke); then
	failures=$((failures + 1))
fi

[ "$failures" -eq 0 ]
