#!/bin/bash
# make test hook for every TAP test in test/t (statistics across restarts and
# crashes, exactness under pgbench concurrency, hot standby, logical
# replication).  They make their own clusters, so the throw-away cluster
# around this script is not used.
set -eu
ROOT=${ECL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "$ROOT/test/tap.sh"
