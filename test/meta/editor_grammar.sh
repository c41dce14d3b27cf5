#!/bin/bash
# editors/ecl.tmLanguage.json, tokenized by vscode-textmate (the engine of
# VS Code) with the pinned npm packages of editors/test: chosen tokens of
# the sample files must get their scopes (editors/test/grammar.test.js).
# The packages are installed once with npm ci (test/install-deps.sh
# provides node and npm).
set -eu

ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
DIR="$ROOT/editors/test"

command -v node >/dev/null || { echo "FAIL: node is not installed (run test/install-deps.sh)" >&2; exit 1; }
if [ ! -d "$DIR/node_modules/vscode-textmate" ] || [ ! -d "$DIR/node_modules/vscode-oniguruma" ]; then
	npm ci --prefix "$DIR" --no-audit --no-fund --loglevel=error
fi
node "$DIR/grammar.test.js"
