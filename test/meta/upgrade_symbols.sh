#!/bin/bash
# The library serves every released install script until ALTER EXTENSION
# ecl UPDATE runs (docs/operations.md, "Upgrading from 0.1"): each C symbol
# that sql/ecl--<old>.sql names (AS 'MODULE_PATHNAME', 'symbol') must be
# exported by ecl.so, with its pg_finfo_ record (PG_FUNCTION_INFO_V1).  A
# symbol renamed or removed in the C code needs a thin entry point under
# the old name.  That each one behaves as its old declaration expects is
# tested by test/shell/upgrade_from_0_1.sh, which runs the old script's
# functions on this library.
set -eu
ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
[ -f ecl.so ] || make -s ecl.so >/dev/null

exported=$(nm -D --defined-only ecl.so | awk '{ print $3 }' | sort -u)
failures=0
checked=0
for script in sql/ecl--[0-9]*.sql; do
	case "$script" in *--*--*) continue ;; esac	# update scripts
	for sym in $(perl -0ne "print \"\$1\\n\" while /MODULE_PATHNAME'\\s*,\\s*'(\\w+)'/g" "$script" | sort -u); do
		checked=$((checked + 1))
		for need in "$sym" "pg_finfo_$sym"; do
			if ! grep -qx "$need" <<<"$exported"; then
				echo "not ok - $script names $sym, but ecl.so does not export $need"
				failures=$((failures + 1))
			fi
		done
	done
done
[ "$checked" -gt 0 ] || { echo "not ok - no symbols found in sql/ecl--<version>.sql"; exit 1; }
echo "$checked symbols named by the install scripts checked, $failures missing"
[ "$failures" -eq 0 ]
