# Statistics and mana accounts under concurrency (docs/sql-api.md, "Statistics" "counters are
# exact under concurrency", docs/performance.md B3): pgbench with several clients, all
# starting on rows that do not exist yet, then exact totals.
#
# Run as a non-root user (initdb refuses root): see test/tap.sh.
# ECL_TEST_EXTENSION names the extension/library (default ecl).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $ext = $ENV{ECL_TEST_EXTENSION} // 'ecl';
my $clients = 8;
my $per_client = 500;
my $total = $clients * $per_client;

my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = '$ext'");
$node->append_conf('postgresql.conf', 'max_connections = 30');
$node->start;
$node->safe_psql('postgres', qq{
CREATE EXTENSION $ext;
CREATE SCHEMA ecl_test;
CREATE FUNCTION ecl_test.record_run(text, text, text, text, int8, int8, int8, int8)
  RETURNS void AS '\$libdir/ecl_test_hooks', 'ecl_test_stats_record_run' LANGUAGE C;
CREATE FUNCTION ecl_test.record_crossing(text, boolean)
  RETURNS void AS '\$libdir/ecl_test_hooks', 'ecl_test_stats_record_crossing' LANGUAGE C;
CREATE FUNCTION ecl_test.charge(text, float8, int8, OUT paid boolean, OUT retry_after float8)
  AS '\$libdir/ecl_test_hooks', 'ecl_test_rate_limit_charge' LANGUAGE C;
CREATE TABLE ecl_test.paid (n int);
SELECT ecl.stat_reset();
});

sub sql { return $node->safe_psql('postgres', shift); }

# Even clients: passed transaction runs in realm r0; odd clients: denied api
# runs in realm r1.  Policy p<client % 3>, so rows are shared by clients.
$node->pgbench(
	"-n -c $clients -j 2 -t $per_client -M prepared",
	0,
	[qr{processed: $total/$total}],
	[qr{^$}],
	'pgbench recording runs from several clients',
	{
		'020_record' => q{
SELECT ecl_test.record_run('p' || (:client_id % 3),
    CASE WHEN :client_id % 2 = 0 THEN 'transaction' ELSE 'api' END,
    'r' || (:client_id % 2),
    CASE WHEN :client_id % 2 = 0 THEN 'passed' ELSE 'denied' END,
    7, 3, 2, 1);
SELECT ecl_test.record_crossing('r0', :client_id % 2 = 0);
}
	});

my $half = $total / 2;
is( sql(q{SELECT concat_ws(',', policies_executed, policies_passed, policies_denied,
        policy_runtime_errors, total_gas_consumed, total_mana_consumed, events_emitted,
        crossing_evaluations, crossings_allowed, crossings_denied, avg_evaluation_time_us,
        policy_success_rate, crossing_allow_rate) FROM ecl.stat_eclvm}),
	join(',', $total, $half, $half, 0, 7 * $total, 3 * $total, $total,
		$total, $half, $half, 2, 0.5, 0.5),
	'global counters are exact');
is( sql(q{SELECT string_agg(concat_ws(':', policy_type, executions, passed, denied, errors),
        ' ' ORDER BY policy_type) FROM ecl.stat_eclvm_by_type WHERE executions > 0}),
	"api:$half:0:$half:0 transaction:$half:$half:0:0",
	'per-type counters are exact');
is( sql(q{SELECT string_agg(concat_ws(':', realm_id, policies_executed, passed, denied,
        gas_consumed, mana_consumed), ' ' ORDER BY realm_id) FROM ecl.stat_eclvm_realms}),
	"r0:$half:$half:0:" . 7 * $half . ':' . 3 * $half
	  . " r1:$half:0:$half:" . 7 * $half . ':' . 3 * $half,
	'per-realm rows are exact');

# which (policy, kind, realm) rows the clients hit, and how often
my %expect;
for my $c (0 .. $clients - 1)
{
	my $key = join(':',
		'p' . ($c % 3),
		$c % 2 == 0 ? 'transaction' : 'api',
		'r' . ($c % 2));
	$expect{$key} += $per_client;
}
my $expect_rows = join(' ',
	map { "$_:$expect{$_}:" . 7 * $expect{$_} . ':' . 2 * $expect{$_} }
	  sort keys %expect);
is( sql(q{SELECT string_agg(concat_ws(':', policy, kind, realm_id, calls, total_gas,
        total_time_us), ' ' ORDER BY concat_ws(':', policy, kind, realm_id))
        FROM ecl.stat_eclvm_policies}),
	$expect_rows,
	'per-policy rows are exact (one row per policy, kind and realm)');

# A shared mana account never pays out more than it holds: R = 0 gives 10000
# mana plus 100 per second; the clients together ask for 3 times that.
# (No colons in the DID: pgbench would read ":name" as a variable.)
my $started = time();
$node->pgbench(
	"-n -c $clients -j 2 -t 150 -M prepared",
	0,
	[qr{processed: @{[ $clients * 150 ]}/@{[ $clients * 150 ]}}],
	[qr{^$}],
	'pgbench charging one mana account from several clients',
	{
		'020_charge' => q{
INSERT INTO ecl_test.paid SELECT 1 FROM ecl_test.charge('shared-account-did', 0, 25) WHERE paid;
}
	});
my $elapsed = time() - $started;
my $paid_mana = 25 * sql(q{SELECT count(*) FROM ecl_test.paid});
my $most = 10000 + 100 * $elapsed;
ok($paid_mana >= 10000 - 25 && $paid_mana <= $most,
	"mana paid ($paid_mana) is the account's 10000 plus regeneration, at most $most");
ok(sql(q{SELECT mana < 100 FROM ecl.rate_limit_accounts() WHERE did = 'shared-account-did'}) eq 't',
	'the shared account is drained, not overdrawn');

# the same through the runner, once it reports runs
TODO:
{
	local $TODO = 'awaits the runner integration (ecl_stats_record_run in runner.c)';
	sql(q{SELECT ecl.stat_reset()});
	my ($rc) = $node->psql('postgres', q{SELECT ecl.eval('return 1 + 1')});
	my $evals = 0;
	if ($rc == 0)
	{
		$node->pgbench(
			'-n -c 4 -j 2 -t 200',
			0, [qr{processed: 800/800}], [qr{^$}],
			'pgbench running ecl.eval',
			{ '020_eval' => q{SELECT ecl.eval('return x * 2', '{"x": 21}');} });
		$evals = 800;
	}
	is(sql(q{SELECT policies_executed FROM ecl.stat_eclvm}), $evals + 1,
		'every ecl.eval run from pgbench is counted exactly');
}

$node->stop;
done_testing();
