#!/bin/bash
# The monitoring recipe (contrib/monitoring, README "Monitoring") against the
# real prometheus-postgres-exporter: two databases run policies, the exporter
# connects as the role of contrib/monitoring/grants.sql (pg_monitor, nothing
# of ecl) with contrib/monitoring/queries.yaml, listens on a free loopback
# port, and its /metrics must carry ecl's series per database, policy, realm
# and type with exactly the counts the runs produced, typed as counters or
# gauges; a second scrape after more runs shows the new counts, and under
# --auto-discover-databases nothing is doubled and no query fails.  A role
# without pg_monitor may not read the statistics at all.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh (PGHOST,
# PGPORT, PGUSER, PGDATABASE come from pg_virtualenv; PGUSER is a superuser).
set -eu

EXPORTER=${ECL_EXPORTER:-prometheus-postgres-exporter}
MON="$ECL_ROOT/contrib/monitoring"
A=ecl_mon_a
B=ecl_mon_b
failures=0
exporter_pid=""
work=$(mktemp -d /tmp/ecl-monitoring.XXXXXX)

q() { psql -X -q -At -v VERBOSITY=sqlstate -d "$1" -c "$2" 2>&1; }
expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}

cleanup() {
	if [ -n "$exporter_pid" ]; then
		kill "$exporter_pid" 2>/dev/null || true
		wait "$exporter_pid" 2>/dev/null || true
	fi
	for db in $A $B; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	done
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS prometheus" \
		-c "DROP ROLE IF EXISTS ecl_mon_nobody" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

command -v "$EXPORTER" >/dev/null || { echo "not ok - $EXPORTER is not installed"; exit 1; }

for db in $A $B; do
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db"
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION ecl" >/dev/null
done
psql -X -q -v ON_ERROR_STOP=1 -d $A <<'EOF' >/dev/null
INSERT INTO ecl.realms (realm_id) VALUES ('shop');
SELECT ecl.register_policy('spend_limit', 'policy spend_limit { require amount <= 100, "too much"; return true }',
                           'transaction', 'shop');
SELECT ecl.register_policy('member_ok', 'policy member_ok { return true }', 'membership');
EOF
psql -X -q -v ON_ERROR_STOP=1 -d $B \
	-c "SELECT ecl.register_policy('spend_limit', 'policy spend_limit { return amount > 0 }', 'transaction')" >/dev/null

# runs <database> <policy> <times> <amount>
runs() {
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "SELECT count(ecl.run_policy('$2', NULL, NULL,
		jsonb_build_object('amount', $4))) FROM generate_series(1, $3)" >/dev/null
}
runs $A spend_limit 3 50     # passed
runs $A spend_limit 2 500    # denied
runs $A member_ok 4 0
# B's runs are logged as decisions (the writer flushes them in the background)
PGOPTIONS="-c ecl.decision_log=all" runs $B spend_limit 7 1
for _ in $(seq 1 50); do
	[ "$(psql -X -At -d $B -c "SELECT decisions_logged FROM ecl.stat_eclvm WHERE datname = current_database()")" = 7 ] && break
	sleep 0.2
done

# the exporter's role, exactly as the recipe creates it
psql -X -q -v ON_ERROR_STOP=1 -d postgres -f "$MON/grants.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "ALTER ROLE prometheus PASSWORD 'exporter-test'"

# it reads, but may not reset the statistics or register policies
expect "the exporter's role may not reset the statistics" "ERROR:  42501" \
	"$(PGUSER=prometheus PGPASSWORD=exporter-test q $A "SELECT ecl.stat_reset()")"
expect "... nor register a policy" "ERROR:  42501" \
	"$(PGUSER=prometheus PGPASSWORD=exporter-test q $A "SELECT ecl.register_policy('x', 'return true')")"

# and a role without pg_monitor reads nothing (insufficient_privilege)
psql -X -q -d postgres -c "CREATE ROLE ecl_mon_nobody LOGIN PASSWORD 'nobody'" >/dev/null
expect "a role without pg_monitor may not read ecl.stat_eclvm_policies" "ERROR:  42501" \
	"$(PGUSER=ecl_mon_nobody PGPASSWORD=nobody q $A "SELECT count(*) FROM ecl.stat_eclvm_policies")"

# lib/pq (in the exporter) panics on libpq variables it does not support,
# such as pg_virtualenv's PGSYSCONFDIR: the exporter gets none of them, only
# its DATA_SOURCE_NAME, as under its systemd unit
unset_pg=$(env | sed -n 's/^\(PG[A-Z_]*\)=.*/-u \1/p')
start_exporter() { # start_exporter [flag...]: on a free loopback port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# shellcheck disable=SC2086
	env $unset_pg DATA_SOURCE_NAME="host=$PGHOST port=$PGPORT dbname=$A user=prometheus password=exporter-test sslmode=disable" \
		"$EXPORTER" --web.listen-address="127.0.0.1:$port" \
		--extend.query-path="$MON/queries.yaml" "$@" >"$work/exporter.log" 2>&1 &
	exporter_pid=$!
}
stop_exporter() {
	kill "$exporter_pid" 2>/dev/null || true
	wait "$exporter_pid" 2>/dev/null || true
	exporter_pid=""
}
start_exporter

scrape() { # scrape <file>: /metrics once the exporter listens (up to 10 s)
	for _ in $(seq 1 50); do
		code=$(curl -s -o "$1" -w '%{http_code}' "http://127.0.0.1:$port/metrics") && break
		sleep 0.2
	done
	if [ "${code:-000}" != 200 ]; then
		echo "not ok - GET /metrics on 127.0.0.1:$port: HTTP ${code:-000} (000: no answer)"
		head -c 2000 "$1" 2>/dev/null | sed 's/^/    /'
		sed 's/^/    /' "$work/exporter.log" | tail -n 20
		exit 1
	fi
}

# metric <file> <name> <label=value,...>: the value of the one series with
# exactly these labels (besides the exporter's own "server"), else "absent"
metric() {
	python3 - "$1" "$2" "$3" <<'EOF'
import re, sys
path, name, want = sys.argv[1], sys.argv[2], sys.argv[3]
want = dict(kv.split("=", 1) for kv in want.split(",")) if want else {}
found = []
for line in open(path):
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line.strip())
    if not m or m.group(1) != name:
        continue
    labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
    labels.pop("server", None)
    if labels == want:
        found.append(m.group(3))
print(found[0] if len(found) == 1 else ("absent" if not found else "duplicated"))
EOF
}
num() { python3 -c 'import sys; v = sys.argv[1]; print(v if v in ("absent", "duplicated") else "%g" % float(v))' "$1"; }
m() { num "$(metric "$@")"; }
typeof() { sed -n "s/^# TYPE $2 //p" "$1"; }

scrape "$work/m1"
expect "the exporter reaches the server" "1" "$(m "$work/m1" pg_up "")"
expect "the exporter loaded queries.yaml" "0" \
	"$(m "$work/m1" pg_exporter_user_queries_load_error "filename=$MON/queries.yaml,hashsum=$(sha256sum "$MON/queries.yaml" | cut -d' ' -f1)")"

# per policy: labels datname, policy, kind, realm_id
PA="datname=$A,policy=spend_limit,kind=transaction,realm_id=shop"
expect "ecl_policy_calls per policy ($A)" "5" "$(m "$work/m1" ecl_policy_calls "$PA")"
expect "ecl_policy_passed" "3" "$(m "$work/m1" ecl_policy_passed "$PA")"
expect "ecl_policy_denied" "2" "$(m "$work/m1" ecl_policy_denied "$PA")"
expect "ecl_policy_errors" "0" "$(m "$work/m1" ecl_policy_errors "$PA")"
expect "a policy without a realm has an empty realm_id" "4" \
	"$(m "$work/m1" ecl_policy_calls "datname=$A,policy=member_ok,kind=membership,realm_id=")"
expect "the same policy name in the other database is its own series" "7" \
	"$(m "$work/m1" ecl_policy_calls "datname=$B,policy=spend_limit,kind=transaction,realm_id=")"
expect "ecl_policy_gas_consumed equals total_gas of ecl.stat_eclvm_policies" \
	"$(q $A "SELECT total_gas FROM ecl.stat_eclvm_policies WHERE datname = '$A' AND policy = 'spend_limit'")" \
	"$(m "$work/m1" ecl_policy_gas_consumed "$PA")"
expect "ecl_policy_time_seconds is total_time_us in seconds" \
	"$(num "$(q $A "SELECT total_time_us / 1e6 FROM ecl.stat_eclvm_policies WHERE datname = '$A' AND policy = 'spend_limit'")")" \
	"$(m "$work/m1" ecl_policy_time_seconds "$PA")"

# per database
expect "ecl_policies_executed ($A)" "9" "$(m "$work/m1" ecl_policies_executed "datname=$A")"
expect "ecl_policies_executed ($B)" "7" "$(m "$work/m1" ecl_policies_executed "datname=$B")"
expect "ecl_policies_denied ($A)" "2" "$(m "$work/m1" ecl_policies_denied "datname=$A")"
expect "ecl_policies_compiled ($A)" "2" "$(m "$work/m1" ecl_policies_compiled "datname=$A")"
expect "ecl_decisions_logged ($B)" "7" "$(m "$work/m1" ecl_decisions_logged "datname=$B")"
expect "ecl_decisions_logged ($A: log off)" "0" "$(m "$work/m1" ecl_decisions_logged "datname=$A")"
expect "ecl_decisions_dropped ($B)" "0" "$(m "$work/m1" ecl_decisions_dropped "datname=$B")"
expect "ecl_policy_shadow_runs (no candidate)" "0" "$(m "$work/m1" ecl_policy_shadow_runs "$PA")"
expect "ecl_policy_translated_executions (run_policy is never translated)" "0" \
	"$(m "$work/m1" ecl_policy_translated_executions "$PA")"
expect "ecl_gas_consumed ($B) equals total_gas_consumed" \
	"$(q $B "SELECT total_gas_consumed FROM ecl.stat_eclvm WHERE datname = '$B'")" \
	"$(m "$work/m1" ecl_gas_consumed "datname=$B")"
expect "ecl_stats_reset_timestamp_seconds ($A)" \
	"$(num "$(q $A "SELECT extract(epoch FROM stats_reset) FROM ecl.stat_eclvm WHERE datname = '$A'")")" \
	"$(m "$work/m1" ecl_stats_reset_timestamp_seconds "datname=$A")"

# per realm and per type
expect "ecl_realm_policies_executed" "5" "$(m "$work/m1" ecl_realm_policies_executed "datname=$A,realm_id=shop")"
expect "ecl_realm_denied" "2" "$(m "$work/m1" ecl_realm_denied "datname=$A,realm_id=shop")"
expect "ecl_realm_success_rate" "0.6" "$(m "$work/m1" ecl_realm_success_rate "datname=$A,realm_id=shop")"
expect "ecl_type_executions (transaction, $A)" "5" "$(m "$work/m1" ecl_type_executions "datname=$A,policy_type=transaction")"
expect "ecl_type_executions (membership, $A)" "4" "$(m "$work/m1" ecl_type_executions "datname=$A,policy_type=membership")"
expect "ecl_type_executions (transaction, $B)" "7" "$(m "$work/m1" ecl_type_executions "datname=$B,policy_type=transaction")"

expect "counters are typed counter" "counter counter counter" \
	"$(echo $(typeof "$work/m1" ecl_policy_calls) $(typeof "$work/m1" ecl_policies_executed) $(typeof "$work/m1" ecl_type_executions))"
expect "rates and extremes are typed gauge" "gauge gauge gauge" \
	"$(echo $(typeof "$work/m1" ecl_success_rate) $(typeof "$work/m1" ecl_realm_success_rate) $(typeof "$work/m1" ecl_policy_max_time_seconds))"
# a failing query is logged at level info (err=...), a scrape with failures
# as "queryNamespaceMappings returned N errors"
expect "no query failed" "" \
	"$(grep -E 'err=|level=(error|warn)' "$work/exporter.log" || true)"

# the endpoint is live: more runs, new counts
runs $A spend_limit 4 10
scrape "$work/m2"
expect "a second scrape counts the new runs" "9 7" \
	"$(m "$work/m2" ecl_policy_calls "$PA") $(m "$work/m2" ecl_policy_passed "$PA")"
expect "... and per database" "13" "$(m "$work/m2" ecl_policies_executed "datname=$A")"

# --auto-discover-databases connects to every database; the ecl queries
# still run once (master: true), so no series is doubled
stop_exporter
start_exporter --auto-discover-databases
scrape "$work/m3"
expect "with --auto-discover-databases: one series per policy, same counts" "9 7" \
	"$(m "$work/m3" ecl_policy_calls "$PA") $(m "$work/m3" ecl_policy_calls "datname=$B,policy=spend_limit,kind=transaction,realm_id=")"
expect "... one per database" "13 7" \
	"$(m "$work/m3" ecl_policies_executed "datname=$A") $(m "$work/m3" ecl_policies_executed "datname=$B")"
expect "... and no query failed (none ran where ecl is not installed)" "" \
	"$(grep -E 'err=|level=(error|warn)' "$work/exporter.log" || true)"

if [ "$failures" -ne 0 ]; then
	echo "exporter log:"
	sed 's/^/    /' "$work/exporter.log" | tail -n 30
	echo "$failures failure(s)"
	exit 1
fi
echo "all ok"
