#!/bin/bash
# Smoke test of an installed postgresql-<major>-ecl package (debian/tests/smoke
# runs it inside pg_virtualenv -o shared_preload_libraries=ecl): the extension from
# the package's files creates, a registered policy decides both ways through
# ecl.run_policy and ecl.check, the statistics count those runs, and the
# package's ecl command checks a policy file and reports the extension's
# version.
set -eu
PKG=${ECL_PACKAGE:?}
MAJOR=${PG_MAJOR:?}
BINDIR=/usr/lib/postgresql/$MAJOR/bin
SHAREDIR=/usr/share/postgresql/$MAJOR
failures=0
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}
owner() { dpkg-query -S "$1" 2>/dev/null | sed 's/:.*//'; }

control="$SHAREDIR/extension/ecl.control"
version=$(sed -n "s/^default_version *= *'\\([^']*\\)'.*/\\1/p" "$control")
expect "ecl.control comes from $PKG" "$PKG" "$(owner "$control")"
expect "ecl.so comes from $PKG" "$PKG" "$(owner "/usr/lib/postgresql/$MAJOR/lib/ecl.so")"
expect "the install script of $version comes from $PKG" "$PKG" "$(owner "$SHAREDIR/extension/ecl--$version.sql")"

expect "CREATE EXTENSION ecl installs the default version" "$version" \
	"$(q "CREATE EXTENSION ecl; SELECT extversion FROM pg_extension WHERE extname = 'ecl'")"
q "SELECT ecl.register_policy('smoke_limit',
	'policy smoke_limit { require amount <= 100, \"over the limit\"; return true }', 'transaction')" >/dev/null
expect "a decision that allows" "t" "$(q "SELECT (ecl.run_policy('smoke_limit', NULL, NULL, '{\"amount\": 40}')).passed")"
expect "a decision that denies, with its message" "false|over the limit" \
	"$(q "SELECT passed || '|' || message FROM ecl.run_policy('smoke_limit', NULL, NULL, '{\"amount\": 400}')")"
expect "ecl.check" "true false" \
	"$(q "SELECT ecl.check('smoke_limit', NULL, NULL, '{\"amount\": 1}') || ' ' || ecl.check('smoke_limit', NULL, NULL, '{\"amount\": 101}')")"
expect "ecl.stat_eclvm_policies counts the four runs" "4|2|2" \
	"$(q "SELECT calls || '|' || passed || '|' || denied FROM ecl.stat_eclvm_policies WHERE policy = 'smoke_limit' AND datname = current_database()")"
expect "ecl.stat_eclvm counts them for the database" "4" \
	"$(q "SELECT policies_executed FROM ecl.stat_eclvm WHERE datname = current_database()")"

expect "the ecl command comes from $PKG" "$PKG" "$(owner "$BINDIR/ecl")"
expect "ecl --version names the extension's version" "$version" \
	"$("$BINDIR/ecl" --version | sed -n 's/^ecl \([^ ]*\).*/\1/p')"
work=$(mktemp -d)
printf 'policy file_ok {\n    return amount > 0\n}\n' >"$work/ok.ecl"
printf 'policy file_bad {\n    return amount >\n}\n' >"$work/bad.ecl"
expect "ecl check accepts a good policy file" "0" "$("$BINDIR/ecl" check "$work/ok.ecl" >/dev/null 2>&1; echo $?)"
expect "ecl check rejects a bad one" "1" "$("$BINDIR/ecl" check "$work/bad.ecl" >/dev/null 2>&1; echo $?)"
rm -rf "$work"

expect "the exporter's query file is in the package" "$PKG" \
	"$(owner "/usr/share/doc/$PKG/examples/queries.yaml")"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all ok"
