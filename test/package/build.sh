#!/bin/bash
# Build the Debian package from a clean copy of the checkout:
#
#   test/package/build.sh <directory outside the checkout>
#
# Copies what git tracks (and new files it does not ignore; never build
# products) to <directory>/ecl, runs dpkg-buildpackage -us -uc -b there, and
# prints the path of postgresql-<major>-ecl_<version>_<arch>.deb (in
# <directory>) as its last line.  The checkout itself is not touched, so a
# build never mixes with objects of a make in the checkout.  The build log is
# <directory>/build.log.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: build.sh <output directory>}
mkdir -p "$out"
out=$(cd "$out" && pwd)
case "$out/" in
"$ROOT"/*) echo "build.sh: $out is inside the checkout; choose a directory outside it" >&2; exit 2 ;;
esac

rm -rf "$out/ecl"
mkdir "$out/ecl"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# deleted-but-tracked files are skipped (--ignore-failed-read)
	git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
		tar -C "$ROOT" --null -T - --ignore-failed-read -cf - 2>/dev/null |
		tar -C "$out/ecl" -xf -
else
	# not a git checkout (an unpacked tarball): everything, then make clean
	tar -C "$ROOT" -cf - . | tar -C "$out/ecl" -xf -
	make -C "$out/ecl" clean >/dev/null
fi
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo

if ! (cd "$out/ecl" && dpkg-buildpackage -us -uc -b -j2) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "build.sh: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
deb=$(ls "$out"/postgresql-*-ecl_*.deb 2>/dev/null | grep -v -- '-dbgsym_' | head -n 1)
[ -n "$deb" ] || { echo "build.sh: no postgresql-*-ecl package in $out" >&2; exit 1; }
echo "$deb"
