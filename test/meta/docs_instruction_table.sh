#!/bin/bash
# docs/language.md's instruction table must be the one generated from the
# instruction set (include/ecl/opcodes.h).  Regenerate with:
#   make docs
set -eu
make -s -C "${ECL_ROOT:-$(dirname "$0")/../..}/tools" check
