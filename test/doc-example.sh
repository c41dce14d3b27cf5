#!/bin/sh
# Print the SQL of one example of a document: the fenced code block that
# follows the line "<!-- example: NAME -->".  The regression suites run the
# examples of docs/engines.md this way, so the documented code is the tested
# code:
#     \! test/doc-example.sh docs/engines.md api > results/doc_api.sql
#     \i results/doc_api.sql
# Exits 1 (with a message on stderr) when the example is missing or empty.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 FILE EXAMPLE" >&2; exit 2; }
awk -v marker="<!-- example: $2 -->" '
	$0 == marker { found = 1; next }
	found && !inblock && /^```/ { inblock = 1; next }
	inblock && /^```/ { done = 1; exit }
	inblock { print; lines++ }
	END { if (!done || lines == 0) exit 1 }
' "$1" || { echo "$0: no example \"$2\" in $1" >&2; exit 1; }
