#!/bin/bash
# Statistics per database (docs/sql-api.md, "Per database or cluster-wide"):
# two databases of one cluster register a policy of the same name in a realm
# of the same name; each counts its own runs, get_metric and ecl.snapshot
# read only the current database's numbers, ecl.stat_reset() resets only the
# current database, a superuser's ecl.stat_reset(true) resets both (and an
# ecl_admin may not), datname names the right database, and who sees the
# other database's rows is decided by pg_read_all_stats.
#
# Runs inside the throw-away cluster of test/run-all-tests.sh (PGHOST,
# PGPORT, PGUSER, PGDATABASE come from pg_virtualenv; PGUSER is a
# superuser).  ECL_EXTENSION names the extension to create (default ecl).
set -eu

EXT=${ECL_EXTENSION:-ecl}
A=ecl_stats_a
B=ecl_stats_b
C=ecl_stats_dropped
failures=0

# q <database> <sql>: the result, unaligned; errors as "ERROR:  <sqlstate>"
q() { psql -X -q -At -v VERBOSITY=sqlstate -d "$1" -c "$2" 2>&1; }

# expect <description> <expected> <actual>
expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}

cleanup() {
	for db in $A $B $C; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	done
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS ecl_stats_t_admin" \
		-c "DROP ROLE IF EXISTS ecl_stats_t_monitor" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

psql -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "CREATE ROLE ecl_stats_t_admin" -c "CREATE ROLE ecl_stats_t_monitor" >/dev/null
for db in $A $B $C; do
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db"
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<EOF >/dev/null
CREATE EXTENSION $EXT;
INSERT INTO ecl.realms (realm_id) VALUES ('same-realm');
SELECT ecl.register_policy('same_name', 'policy same_name { return amount > 1 }',
                           'transaction', 'same-realm');
SELECT ecl.register_policy('probe', 'policy probe { return get_metric(name) }');
EOF
done
# roles are cluster-wide; the grants are per database
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
	-c "GRANT ecl_admin TO ecl_stats_t_admin" -c "GRANT pg_read_all_stats TO ecl_stats_t_monitor"

run_same() { # run_same <database> <times> <amount>
	q "$1" "SELECT count((ecl.run_policy('same_name', NULL, 'same-realm',
	                                      jsonb_build_object('amount', $3, 'i', i))).passed)
	          FROM generate_series(1, $2) i" >/dev/null
}
metric() { # metric <database> <name>: what a policy in that database reads
	q "$1" "SELECT (ecl.run_policy('probe', NULL, 'same-realm', '{\"name\": \"$2\"}')).value"
}

expect "a superuser resets every database" "" "$(q $A 'SELECT ecl.stat_reset(true)')"

# A: 3 runs (2 passed, 1 denied); B: 5 runs (all passed); C: 1 run, then dropped
run_same $A 2 5
run_same $A 1 0
run_same $B 5 7
run_same $C 1 7
psql -X -q -d postgres -c "DROP DATABASE $C"

# --- each database counts its own runs of the same policy name and realm
per_db_policies="SELECT string_agg(datname || ':' || calls || ':' || passed || ':' || denied, ' '
                        ORDER BY datname)
                   FROM ecl.stat_eclvm_policies WHERE policy = 'same_name'"
expect "same policy name, separate rows per database (superuser sees both)" \
	"$A:3:2:1 $B:5:5:0" "$(q $A "$per_db_policies")"
expect "... the same from the other database" "$A:3:2:1 $B:5:5:0" "$(q $B "$per_db_policies")"
expect "realm rows per database" "$A:3:2:1 $B:5:5:0" \
	"$(q $A "SELECT string_agg(datname || ':' || policies_executed || ':' || passed || ':' || denied,
	           ' ' ORDER BY datname) FROM ecl.stat_eclvm_realms WHERE realm_id = 'same-realm'")"
expect "stat_eclvm: one row per database, named" "$A:3:2 $B:5:5" \
	"$(q $A "SELECT string_agg(datname || ':' || policies_executed || ':' || policies_passed,
	           ' ' ORDER BY datname) FROM ecl.stat_eclvm WHERE datname LIKE 'ecl_stats_%'")"
expect "stat_eclvm_by_type per database" "$A:3 $B:5" \
	"$(q $B "SELECT string_agg(datname || ':' || executions, ' ' ORDER BY datname)
	           FROM ecl.stat_eclvm_by_type
	          WHERE policy_type = 'transaction' AND datname LIKE 'ecl_stats_%'")"
expect "the dropped database's rows are not shown" "0" \
	"$(q $A "SELECT count(*) FROM ecl.stat_eclvm WHERE datname = '$C'")"
expect "... though its counters are still kept" "1" \
	"$(q $A "SELECT count(*) FROM ecl.stat_eclvm_counters() s
	          WHERE NOT EXISTS (SELECT 1 FROM pg_database d WHERE d.oid = s.dbid)
	            AND s.policies_executed = 1")"

# --- get_metric and ecl.snapshot read the current database only
expect "snapshot metrics in A" "3 3" \
	"$(q $A "SELECT concat_ws(' ', m ->> 'policies_executed', m ->> 'realm.policies_executed')
	           FROM (SELECT ecl.snapshot('same-realm') -> 'metrics' AS m) x")"
expect "snapshot metrics in B" "5 5" \
	"$(q $B "SELECT concat_ws(' ', m ->> 'policies_executed', m ->> 'realm.policies_executed')
	           FROM (SELECT ecl.snapshot('same-realm') -> 'metrics' AS m) x")"
# each probe is a run of its own (passed when it returns a number other
# than 0), counted after it has read the metric
expect "get_metric('policies_executed') in A" "3" "$(metric $A policies_executed)"
expect "get_metric('policies_executed') in B" "5" "$(metric $B policies_executed)"
expect "get_metric('realm.policies_executed') in A" "4" "$(metric $A realm.policies_executed)"
expect "get_metric('realm.success_rate') in B" "1" "$(metric $B realm.success_rate)"
expect "get_metric('policies_denied') in B" "0" "$(metric $B policies_denied)"

# --- who sees which databases: pg_read_all_stats all, ecl_admin its own
expect "an ecl_admin member sees only the current database" "$A" \
	"$(q $A "SET ROLE ecl_stats_t_admin;
	         SELECT string_agg(DISTINCT datname, ' ') FROM (
	           SELECT datname FROM ecl.stat_eclvm UNION ALL
	           SELECT datname FROM ecl.stat_eclvm_by_type UNION ALL
	           SELECT datname FROM ecl.stat_eclvm_realms UNION ALL
	           SELECT datname FROM ecl.stat_eclvm_policies) x")"
expect "a pg_read_all_stats member sees both" "$A $B" \
	"$(q $B "SET ROLE ecl_stats_t_monitor;
	         SELECT string_agg(DISTINCT datname, ' ' ORDER BY datname) FROM ecl.stat_eclvm_policies
	          WHERE policy = 'same_name'")"

# --- resets: an ecl_admin resets its database only, and may not reset all
expect "ecl_admin may not reset every database" "ERROR:  42501" \
	"$(q $A 'SET ROLE ecl_stats_t_admin; SELECT ecl.stat_reset(true)')"
expect "... and nothing was reset" "$A:5 $B:8" \
	"$(q $A "SELECT string_agg(datname || ':' || policies_executed, ' ' ORDER BY datname)
	           FROM ecl.stat_eclvm WHERE datname LIKE 'ecl_stats_%'")"
b_reset_before=$(q $B "SELECT stats_reset FROM ecl.stat_eclvm WHERE datname = '$B'")
expect "ecl_admin resets the current database" "" \
	"$(q $A 'SET ROLE ecl_stats_t_admin; SELECT ecl.stat_reset()')"
expect "A's rows are gone, B's stay" "$B:5" \
	"$(q $A "SELECT string_agg(datname || ':' || calls, ' ') FROM ecl.stat_eclvm_policies
	          WHERE policy = 'same_name'")"
expect "A's counters are zero, B's kept" "$A:0 $B:8" \
	"$(q $B "SELECT string_agg(datname || ':' || policies_executed, ' ' ORDER BY datname)
	           FROM ecl.stat_eclvm WHERE datname LIKE 'ecl_stats_%'")"
expect "A's stats_reset moved, B's did not" "t t" \
	"$(q $B "SELECT concat_ws(' ',
	            (SELECT stats_reset > '$b_reset_before' FROM ecl.stat_eclvm WHERE datname = '$A'),
	            (SELECT stats_reset = '$b_reset_before' FROM ecl.stat_eclvm WHERE datname = '$B'))")"
expect "get_metric in A after its reset" "0" "$(metric $A policies_executed)"
expect "get_metric in B after A's reset" "8" "$(metric $B policies_executed)"

expect "a superuser resets every database" "" "$(q $B 'SELECT ecl.stat_reset(true)')"
expect "... both databases are zero" "$A:0:0 $B:0:0" \
	"$(q $A "SELECT string_agg(datname || ':' || policies_executed || ':' || crossing_evaluations,
	           ' ' ORDER BY datname) FROM ecl.stat_eclvm WHERE datname LIKE 'ecl_stats_%'")"
expect "... no policy or realm rows are left" "0 0" \
	"$(q $A "SELECT (SELECT count(*) FROM ecl.stat_eclvm_policies) || ' ' ||
	                (SELECT count(*) FROM ecl.stat_eclvm_realms)")"
expect "... and the dropped database's counters are gone" "0" \
	"$(q $A "SELECT count(*) FROM ecl.stat_eclvm_counters() s
	          WHERE NOT EXISTS (SELECT 1 FROM pg_database d WHERE d.oid = s.dbid)")"
run_same $B 2 7
expect "B counts again from zero" "2" "$(metric $B policies_executed)"
expect "A stays at zero" "0" "$(metric $A policies_executed)"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
