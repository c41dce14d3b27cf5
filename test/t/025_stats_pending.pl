# When a run's counts reach shared memory (docs/sql-api.md, "Statistics"): recording adds to
# backend-local pending counters, flushed at transaction end (commit and
# rollback alike: statistics are not transactional), every 1000 events,
# at backend exit, and before the session reads its own statistics.
# Whatever the path, every run is counted exactly once.
#
# Run as a non-root user (initdb refuses root): see test/tap.sh.
# ECL_TEST_EXTENSION names the extension/library (default ecl).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $ext = $ENV{ECL_TEST_EXTENSION} // 'ecl';

my $node = PostgreSQL::Test::Cluster->new('pending');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = '$ext'");
$node->start;
$node->safe_psql('postgres', qq{
CREATE EXTENSION $ext;
CREATE SCHEMA ecl_test;
CREATE FUNCTION ecl_test.record_run(text, text, text, text, int8, int8, int8, int8)
  RETURNS void AS '\$libdir/ecl_test_hooks', 'ecl_test_stats_record_run' LANGUAGE C;
SELECT ecl.register_policy('t0', 'policy t0 { return true }');
SELECT ecl.stat_reset();
});

sub sql { return $node->safe_psql('postgres', shift); }

# what another session sees: global executed, and the row of policy pa
sub executed { return sql('SELECT policies_executed FROM ecl.stat_eclvm'); }
sub pa_row
{
	return sql(q{SELECT concat_ws(':', calls, passed, denied, errors, total_gas,
		min_time_us, max_time_us) FROM ecl.stat_eclvm_policies WHERE policy = 'pa'});
}

# runs of policy pa in realm ra, durations 1..n
sub record_sql
{
	my ($n, $status) = @_;
	return "SELECT count(ecl_test.record_run('pa', 'api', 'ra', '$status', 2, 1, g, 0)) "
	  . "FROM generate_series(1, $n) g";
}

my $a = $node->background_psql('postgres', on_error_stop => 0);

# --- an open transaction: deferred for others, visible to itself
$a->query_safe('BEGIN');
$a->query_safe(record_sql(5, 'passed'));
is(executed(), '0', 'runs of an open transaction are not yet in shared memory');
is($a->query_safe('SELECT policies_executed FROM ecl.stat_eclvm'),
	'5', 'the session sees its own runs inside its open transaction');
is(executed(), '5', 'reading flushed them, so others see them too');

# --- rollback counts: 3 more, then ROLLBACK
$a->query_safe(record_sql(3, 'denied'));
$a->query_safe('ROLLBACK');
is(executed(), '8', 'runs of a rolled-back transaction count, once');
is(pa_row(), '8:5:3:0:16:1:5', 'policy row merged from two flushes (min/max too)');

# --- a statement that fails after its runs (division by zero at the
# 10th row, after its run): counted at abort
$a->query(q{SELECT 1 / (g - 10) FROM
	(SELECT g, ecl_test.record_run('pa', 'api', 'ra', 'error', 2, 1, 4, 0)
	 FROM generate_series(1, 10) g OFFSET 0) s});
like($a->{stderr}, qr/division by zero/, 'the statement failed');
$a->{stderr} = '';	# BackgroundPsql keeps it for the next query otherwise
is(executed(), '18', 'runs before an error are counted when the transaction aborts');
is(pa_row(), '18:5:3:10:36:1:5', 'errored runs in the policy row');

# --- a long statement is visible every 1000 events
$a->query_safe('BEGIN');
$a->query_safe(record_sql(1500, 'passed'));
is(executed(), '1018', 'a long transaction flushed its first 1000 runs');
$a->query_safe('COMMIT');
is(executed(), '1518', 'commit flushed the remaining 500');

# --- the real runner: a policy in a WHERE clause, rolled back
$a->query_safe('BEGIN');
is( $a->query_safe(
		q{SELECT count(*) FROM generate_series(1, 2500) g WHERE ecl.check('t0', g::text, 'rt')}),
	'2500', 'ecl.check ran on every row');
$a->query_safe('ROLLBACK');
is( sql(q{SELECT concat_ws(':', calls, passed) FROM ecl.stat_eclvm_policies
		WHERE policy = 't0' AND realm_id = 'rt'}),
	'2500:2500', 'runner runs counted exactly, across periodic and end flushes');
is(sql(q{SELECT policies_executed FROM ecl.stat_eclvm_realms WHERE realm_id = 'rt'}),
	'2500', 'realm row counted exactly');

# --- backend exit with runs pending in an open transaction
$a->query_safe('BEGIN');
$a->query_safe(record_sql(7, 'passed'));
my $pid = $a->query_safe('SELECT pg_backend_pid()');
is(executed(), '4018', 'pending before exit');
sql("SELECT pg_terminate_backend($pid)");
ok( $node->poll_query_until(
		'postgres', 'SELECT policies_executed FROM ecl.stat_eclvm', '4025'),
	'a terminated backend flushed its pending runs');
$a->quit;

# --- every path together: the totals still add up per kind
is( sql(q{SELECT concat_ws(':', executions, passed, denied, errors)
		FROM ecl.stat_eclvm_by_type WHERE policy_type = 'api'}),
	'1525:1512:3:10', 'per-kind counters exact over all paths');

$node->stop;
done_testing();
