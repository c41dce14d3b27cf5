#!/bin/bash
# META.json (PGXN) against the PGXN Meta Spec v1 (test/meta/pgxn_meta.py):
# it validates; the validator rejects a META.json that lacks any required key
# or has a wrong type or value there; and the versions agree with the build:
# META.json's version and provides.ecl.version are the Makefile's EXTVERSION
# and ecl.control's default_version (as SemVer: 0.2 is 0.2.0), the
# distribution and the provided extension are the Makefile's EXTENSION, and
# the files META.json names exist.
set -u
ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
VALIDATE="python3 test/meta/pgxn_meta.py"
failures=0
ok() { echo "ok - $1"; }
fail() { echo "not ok - $1"; failures=$((failures + 1)); }
tmp=$(mktemp -d /tmp/ecl-meta.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if out=$($VALIDATE META.json); then
	ok "META.json follows the PGXN Meta Spec v1"
else
	fail "META.json violates the PGXN Meta Spec v1:"
	echo "$out" | sed 's/^/    /'
fi

# mutate <name> <python statement on d> <path the error must name>
mutate() {
	python3 -c 'import json, sys
d = json.load(open("META.json"))
exec(sys.argv[1])
json.dump(d, open(sys.argv[2], "w"))' "$2" "$tmp/m.json" || { fail "$1: cannot mutate"; return; }
	if out=$($VALIDATE "$tmp/m.json"); then
		fail "the validator accepts $1"
	elif echo "$out" | grep -q "^$3"; then
		ok "the validator rejects $1"
	else
		fail "the validator rejects $1 but does not name $3: $out"
	fi
}
for key in name abstract maintainer license provides meta-spec version; do
	mutate "a META.json without $key" "del d['$key']" "$key: required key is missing"
done
mutate "a two-part version" "d['version'] = '0.1'" "version:"
mutate "a license not in the spec" "d['license'] = 'GPL-3+'" "license:"
mutate "a numeric maintainer" "d['maintainer'] = 42" "maintainer:"
mutate "provides without a version" "del d['provides']['ecl']['version']" "provides.ecl.version: required key is missing"
mutate "provides without a file" "del d['provides']['ecl']['file']" "provides.ecl.file: required key is missing"
mutate "an empty provides" "d['provides'] = {}" "provides:"
mutate "meta-spec 2.0.0" "d['meta-spec']['version'] = '2.0.0'" "meta-spec.version:"
mutate "an unknown release_status" "d['release_status'] = 'beta'" "release_status:"
mutate "a tag with a slash" "d['tags'] = ['a/b']" "tags\\[0\\]:"
mutate "an unknown top-level key" "d['homepage'] = 'x'" "META: unknown key"
mutate "a one-character name" "d['name'] = 'e'" "name:"
mutate "a prereq phase not in the spec" "d['prereqs']['install'] = {}" "prereqs: unknown key"

# semver X.Y -> X.Y.0 (the extension's versions have two parts, PGXN's three)
as_semver() { case "$1" in *.*.*) echo "$1" ;; *.*) echo "$1.0" ;; *) echo "$1.0.0" ;; esac; }
extversion=$(sed -n 's/^EXTVERSION *= *\([^ ]*\) *$/\1/p' Makefile)
extension=$(sed -n 's/^EXTENSION *= *\([^ ]*\) *$/\1/p' Makefile)
default_version=$(sed -n "s/^default_version *= *'\\([^']*\\)'.*/\\1/p" "$extension.control")
meta() { python3 -c 'import json, sys
v = json.load(open("META.json"))
for k in sys.argv[1:]:
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$@"; }

if [ -z "$extversion" ] || [ -z "$extension" ] || [ -z "$default_version" ]; then
	fail "cannot read EXTVERSION/EXTENSION from the Makefile or default_version from $extension.control"
fi
check_eq() { if [ "$2" = "$3" ]; then ok "$1 ($2)"; else fail "$1: expected [$2], got [$3]"; fi; }
check_eq "META.json version is the Makefile's EXTVERSION" "$(as_semver "$extversion")" "$(meta version)"
check_eq "META.json version is $extension.control's default_version" "$(as_semver "$default_version")" "$(meta version)"
check_eq "provides.$extension.version is the Makefile's EXTVERSION" "$(as_semver "$extversion")" "$(meta provides "$extension" version)"
check_eq "META.json name is the Makefile's EXTENSION" "$extension" "$(meta name)"
# the Debian package carries the same version (native package: no revision)
check_eq "debian/changelog's version is the Makefile's EXTVERSION" "$extversion" \
	"$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)"
for f in file docfile; do
	path=$(meta provides "$extension" "$f")
	if [ -n "$path" ] && [ -f "$path" ]; then
		ok "provides.$extension.$f ($path) exists"
	else
		fail "provides.$extension.$f ($path) is not a file of the checkout"
	fi
done

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all ok"
