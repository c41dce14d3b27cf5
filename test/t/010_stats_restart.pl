# ECLVM statistics across restarts (docs/sql-api.md, "Statistics"): counters survive a clean
# restart, each database's rows apart, a crash never leaves a file that
# stops the server from starting, a damaged statistics file or one of the
# old version 2 is ignored, ecl.max_tracked bounds the tables, and without
# the preload the views say what to set.
#
# Run as a non-root user (initdb refuses root): see test/tap.sh.
# ECL_TEST_EXTENSION names the extension/library (default ecl).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $ext = $ENV{ECL_TEST_EXTENSION} // 'ecl';

# test-only C entry points of the library (not in the install script)
my $hooks = qq{
CREATE SCHEMA ecl_test;
CREATE FUNCTION ecl_test.record_run(text, text, text, text, int8, int8, int8, int8)
  RETURNS void AS '\$libdir/ecl_test_hooks', 'ecl_test_stats_record_run' LANGUAGE C;
CREATE FUNCTION ecl_test.record_crossing(text, boolean)
  RETURNS void AS '\$libdir/ecl_test_hooks', 'ecl_test_stats_record_crossing' LANGUAGE C;
CREATE FUNCTION ecl_test.record_compile(boolean)
  RETURNS void AS '\$libdir/ecl_test_hooks', 'ecl_test_stats_record_compile' LANGUAGE C;
CREATE FUNCTION ecl_test.metric(text, text)
  RETURNS float8 AS '\$libdir/ecl_test_hooks', 'ecl_test_stats_metric' LANGUAGE C;
};

my $node = PostgreSQL::Test::Cluster->new('stats');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = '$ext'");
# the test framework turns crash-restart off; the backend-crash part needs it
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;
$node->safe_psql('postgres', "CREATE EXTENSION $ext; $hooks");

my $statfile = $node->data_dir . '/pg_stat/ecl_stats.stat';

sub sql { return $node->safe_psql('postgres', shift); }

# summary of everything the views show (every database's rows: the test
# runs as a superuser), in a stable text form
sub snapshot
{
	return sql(q{
SELECT string_agg(concat_ws(',', datname, policies_compiled, policy_compile_errors,
       policies_executed, policies_passed, policies_denied, policy_runtime_errors,
       out_of_gas_aborts, mana_rate_limited, total_gas_consumed, total_mana_consumed,
       crossing_evaluations, crossings_allowed, crossings_denied, events_emitted,
       avg_evaluation_time_us, policy_success_rate, crossing_allow_rate, stats_reset),
       ' ' ORDER BY datname) FROM ecl.stat_eclvm;
SELECT string_agg(concat_ws(':', datname, policy_type, executions, passed, denied, errors), ' '
       ORDER BY datname, policy_type) FROM ecl.stat_eclvm_by_type;
SELECT string_agg(concat_ws(':', datname, realm_id, policies_executed, passed, denied,
       success_rate, gas_consumed, mana_consumed, crossing_policies), ' '
       ORDER BY datname, realm_id)
  FROM ecl.stat_eclvm_realms;
SELECT string_agg(concat_ws(':', datname, coalesce(policy, '-'), kind, coalesce(realm_id, '-'),
       calls, passed, denied, errors, total_gas, total_mana, total_time_us, min_time_us,
       max_time_us), ' ' ORDER BY datname, policy, realm_id) FROM ecl.stat_eclvm_policies;});
}

# CRC-32C (Castagnoli, reflected), as the statistics file's trailer
sub crc32c
{
	my ($data) = @_;
	my $crc = 0xffffffff;
	for my $byte (unpack('C*', $data))
	{
		$crc ^= $byte;
		$crc = ($crc & 1) ? (($crc >> 1) ^ 0x82f63b78) : ($crc >> 1) for 1 .. 8;
	}
	return $crc ^ 0xffffffff;
}

# --- runs with known figures
sql(q{
SELECT ecl_test.record_compile(true) FROM generate_series(1, 4);
SELECT ecl_test.record_compile(false);
SELECT ecl_test.record_run('guard', 'transaction', 'bank', 'passed', 100, 20, 50, 1)
  FROM generate_series(1, 7);
SELECT ecl_test.record_run('guard', 'transaction', 'bank', 'denied', 60, 10, 30, 0)
  FROM generate_series(1, 3);
SELECT ecl_test.record_run('entry', 'crossing', 'bank', 'out_of_gas', 500, 10, 90, 0);
SELECT ecl_test.record_run('entry', 'crossing', 'shop', 'passed', 200, 10, 40, 0);
SELECT ecl_test.record_crossing('bank', true), ecl_test.record_crossing('shop', false);
});
is( sql(q{SELECT concat_ws(',', policies_compiled, policy_compile_errors, policies_executed,
        policies_passed, policies_denied, policy_runtime_errors, out_of_gas_aborts,
        total_gas_consumed, total_mana_consumed, events_emitted, crossing_evaluations,
        crossings_allowed, crossings_denied) FROM ecl.stat_eclvm}),
	'4,1,12,8,3,1,1,1580,190,7,2,1,1',
	'global counters after known runs');
is(sql(q{SELECT count(*) FROM ecl.stat_eclvm_policies}), '3', 'three policy rows');

# ad hoc runs through the runner count too, once the runner reports them
my $have_eval = sql(q{SELECT to_regproc('ecl.eval') IS NOT NULL});
TODO:
{
	local $TODO = 'awaits the runner integration (ecl_stats_record_run in runner.c)';
	my $before = sql(q{SELECT policies_executed FROM ecl.stat_eclvm});
	my ($rc, $out, $err) = $have_eval eq 't'
	  ? $node->psql('postgres',
		q{SELECT ecl.eval('return x > 1', '{"x": 2}') FROM generate_series(1, 5)})
	  : (1, '', 'no ecl.eval');
	my $after = sql(q{SELECT policies_executed FROM ecl.stat_eclvm});
	is("rc=$rc executed=" . ($after - $before), 'rc=0 executed=5',
		'five ecl.eval runs are counted')
	  or diag($err);
	# keep the rest of the test independent of whether that worked
	sql(q{SELECT ecl.stat_reset()}) if $after != $before;
	if ($after != $before)
	{
		sql(q{
SELECT ecl_test.record_compile(true) FROM generate_series(1, 4);
SELECT ecl_test.record_compile(false);
SELECT ecl_test.record_run('guard', 'transaction', 'bank', 'passed', 100, 20, 50, 1)
  FROM generate_series(1, 7);
SELECT ecl_test.record_run('guard', 'transaction', 'bank', 'denied', 60, 10, 30, 0)
  FROM generate_series(1, 3);
SELECT ecl_test.record_run('entry', 'crossing', 'bank', 'out_of_gas', 500, 10, 90, 0);
SELECT ecl_test.record_run('entry', 'crossing', 'shop', 'passed', 200, 10, 40, 0);
SELECT ecl_test.record_crossing('bank', true), ecl_test.record_crossing('shop', false);
});
	}
}

# a second database: the same policy and realm names, other figures
sql('CREATE DATABASE second');
$node->safe_psql('second', "CREATE EXTENSION $ext; $hooks");
$node->safe_psql('second', q{
SELECT ecl_test.record_compile(true);
SELECT ecl_test.record_run('guard', 'transaction', 'bank', 'denied', 9, 9, 9, 0)
  FROM generate_series(1, 2);
SELECT ecl_test.record_run('other', 'api', NULL, 'passed', 1, 1, 1, 0);
SELECT ecl_test.record_crossing('bank', false);
});
is( sql(q{SELECT string_agg(concat_ws(':', datname, policy, calls, denied), ' '
        ORDER BY datname, policy) FROM ecl.stat_eclvm_policies WHERE policy = 'guard'}),
	'postgres:guard:10:3 second:guard:2:2',
	'the same policy name counts apart in each database');

# --- clean restart: everything survives, per database; the file is consumed
my $before = snapshot();
like($before, qr/^postgres,4,1,12,.* second,1,0,3,/,
	'both databases have rows before the restart');
$node->stop;
ok(-f $statfile, 'clean shutdown wrote pg_stat/ecl_stats.stat');

# the test's CRC-32C agrees with the server's (the version-2 file below
# is written with it)
{
	open(my $fh, '<:raw', $statfile) or die $!;
	local $/;
	my $data = <$fh>;
	close $fh;
	is(crc32c(substr($data, 0, -4)), unpack('L', substr($data, -4)),
		'CRC-32C computed here matches the file written at shutdown');
	is(unpack('L', substr($data, 4, 4)), 4, 'the file is version 4');
}

my $log_offset = -s $node->logfile;
$node->start;
is(snapshot(), $before,
	'all views unchanged after a clean restart, both databases (incl. stats_reset)');
ok(!-e $statfile, 'the statistics file is removed once loaded');
ok($node->log_contains(
		qr/ecl: restored ECLVM statistics \(2 database rows, 3 realm rows, 5 policy rows\)/,
		$log_offset),
	'the server log says what was restored');
is($node->safe_psql('second', q{SELECT ecl_test.metric('policies_executed', NULL)}),
	'3', "after the restart get_metric in the second database reads its own 3 runs");
is(sql(q{SELECT ecl_test.metric('policies_executed', NULL)}),
	'12', '... and in the first database its 12');

# the rest of the test looks at one database: a dropped database's rows
# are not shown
sql('DROP DATABASE second');

# --- crash (immediate stop): startup works
sql(q{SELECT ecl_test.record_run('guard', 'transaction', 'bank', 'passed', 1, 1, 1, 0)});
$node->stop('immediate');
ok(!-e $statfile || -s $statfile > 0, 'an immediate stop leaves no empty file');
$node->start;
is(sql(q{SELECT 1 FROM ecl.stat_eclvm}), '1', 'server starts after an immediate stop');
my $after_crash = sql(q{SELECT policies_executed FROM ecl.stat_eclvm});
ok($after_crash == 0 || $after_crash == 13,
	"counters after an immediate stop are either saved or zero (got $after_crash)");
ok(!-e $statfile, 'no statistics file left behind after startup');

# --- a backend crash: shared memory is reinitialised, views work, and the
# next clean shutdown still saves (the exit hook was registered again)
sql(q{SELECT ecl.stat_reset()});
sql(q{SELECT ecl_test.record_run('guard', 'transaction', 'bank', 'passed', 1, 1, 1, 0)});
my ($sleep_out, $sleep_err) = ('', '');
my $sleeper = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', 'SELECT pg_sleep(300)' ],
	'>', \$sleep_out, '2>', \$sleep_err);
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(300)'})
  or die 'the backend to crash did not start';
my $victim_pid = sql(q{SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(300)'});
kill 'KILL', $victim_pid;
$sleeper->finish;
$node->poll_query_until('postgres', 'SELECT 1', '1')
  or die 'server did not come back after the backend crash';
is(sql(q{SELECT policies_executed FROM ecl.stat_eclvm}), '0',
	'after a crash-restart the counters start from zero');
sql(q{SELECT ecl_test.record_run('after_crash', 'ui', 'bank', 'passed', 3, 3, 3, 0)});
$node->restart;
is(sql(q{SELECT concat_ws(',', policies_executed, (SELECT string_agg(policy, ',') FROM ecl.stat_eclvm_policies))
        FROM ecl.stat_eclvm}),
	'1,after_crash', 'a clean restart after a crash-restart still saves and loads');

# --- damaged files are ignored with a LOG message, never stop startup
sub damage_and_start
{
	my ($what, $damage, $expect_log) = @_;
	$node->stop;
	ok(-f $statfile, "$what: file written at shutdown");
	$damage->();
	my $off = -s $node->logfile;
	$node->start;
	is(sql(q{SELECT policies_executed FROM ecl.stat_eclvm}), '0',
		"$what: server starts with zero counters");
	ok($node->log_contains($expect_log, $off), "$what: logged");
	ok(!-e $statfile, "$what: bad file removed");
	sql(q{SELECT ecl_test.record_run('again', 'api', 'bank', 'passed', 3, 3, 3, 0)});
}

sub rewrite
{
	my ($edit) = @_;
	open(my $fh, '<:raw', $statfile) or die $!;
	local $/;
	my $data = <$fh>;
	close $fh;
	$data = $edit->($data);
	open($fh, '>:raw', $statfile) or die $!;
	print $fh $data;
	close $fh;
}

damage_and_start('flipped byte',
	sub { rewrite(sub { my $d = shift; substr($d, 60, 1) = chr(ord(substr($d, 60, 1)) ^ 0xff); $d }) },
	qr/ignoring statistics file "pg_stat\/ecl_stats.stat": checksum mismatch/);
damage_and_start('truncated',
	sub { rewrite(sub { substr(shift, 0, 100) }) },
	qr/ignoring statistics file .*: file is truncated or has trailing data/);
damage_and_start('too short',
	sub { rewrite(sub { substr(shift, 0, 7) }) },
	qr/ignoring statistics file .*: file is too short/);
damage_and_start('empty',
	sub { rewrite(sub { '' }) },
	qr/ignoring statistics file .*: file has an impossible size/);
damage_and_start('foreign',
	sub { rewrite(sub { 'x' x 5000 }) },
	qr/ignoring statistics file .*: not an ecl statistics file/);
# a complete, valid file of version 2 (one set of counters for the whole
# cluster, as the previous release wrote it): its numbers cannot be given
# to a database, so it is ignored with a LOG line naming both versions
damage_and_start('version 2',
	sub {
		rewrite(sub {
			# header: magic, version, 15 global counters, 10 kinds x 4
			# counters, realm and policy row sizes, padding, 0 realm rows,
			# 0 policy rows, stats_reset; then the counters
			my $v2 = pack('LLLLLLLL', 0x45434C53, 2, 15, 10, 4, 152, 288, 0)
			  . pack('QQq', 0, 0, 0)
			  . pack('Q*', (777) x (15 + 10 * 4));
			return $v2 . pack('L', crc32c($v2));
		});
	},
	qr/ignoring statistics file "pg_stat\/ecl_stats.stat": written in statistics file version 2 \(one set of counters for all databases\), this ecl reads version 4/);
is(sql(q{SELECT count(*) FROM ecl.stat_eclvm_by_type WHERE executions = 777}), '0',
	'version 2: none of its counters were read');
damage_and_start('missing',
	sub { unlink $statfile },
	qr/ecl: no saved statistics file/);

# --- ecl.max_tracked bounds the tables; the least-called rows give way
sql(q{
SELECT ecl.stat_reset();
SELECT ecl_test.record_run('p' || i, 'custom', 'realm' || i, 'passed', 1, 1, 1, 0)
  FROM generate_series(1, 30) AS i, generate_series(1, i) AS n;
});
is(sql(q{SELECT count(*) FROM ecl.stat_eclvm_policies}), '30', '30 rows fit in the default 1000');
$node->append_conf('postgresql.conf', 'ecl.max_tracked = 10');
$node->restart;
is(sql(q{SELECT string_agg(policy, ',' ORDER BY calls) FROM ecl.stat_eclvm_policies}),
	join(',', map { "p$_" } 21 .. 30),
	'loading into a smaller table keeps the 10 most-called policies');
is(sql(q{SELECT string_agg(realm_id, ',' ORDER BY policies_executed) FROM ecl.stat_eclvm_realms}),
	join(',', map { "realm$_" } 21 .. 30),
	'... and the 10 busiest realms');
is(sql(q{SELECT policies_executed FROM ecl.stat_eclvm}), '465',
	'global counters keep every run (1 + 2 + ... + 30)');
sql(q{SELECT ecl_test.record_run('new' || i, 'custom', NULL, 'passed', 1, 1, 1, 0)
      FROM generate_series(1, 3) AS i});
is(sql(q{SELECT count(*) FROM ecl.stat_eclvm_policies}), '10', 'a full table stays at 10 rows');
is(sql(q{SELECT string_agg(policy, ',' ORDER BY policy) FROM ecl.stat_eclvm_policies
        WHERE policy LIKE 'new%' OR policy IN ('p21', 'p22', 'p23')}),
	'new3,p22,p23',
	'each new row evicts the least-called row: p21, then new1, then new2');

$node->stop;

# --- without the preload: policies may run, the views say what to set
my $plain = PostgreSQL::Test::Cluster->new('no_preload');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', "CREATE EXTENSION $ext; $hooks");
my ($rc, $out, $err) = $plain->psql('postgres', 'SELECT * FROM ecl.stat_eclvm',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, 'without the preload the view fails');
like($err, qr/ERROR:  55000: ecl statistics are not available/, '... with SQLSTATE 55000');
like($err, qr/HINT:  add ecl to shared_preload_libraries and restart the server/, '... and a hint');
($rc, $out, $err) = $plain->psql('postgres', 'SELECT ecl.stat_reset()');
like($err, qr/ecl statistics are not available/, 'stat_reset too');
($rc, $out, $err) = $plain->psql('postgres', 'SELECT * FROM ecl.rate_limit_accounts()');
like($err, qr/ecl rate limiting is not available/, 'rate_limit_accounts too');
is($plain->safe_psql('postgres',
		q{SELECT ecl_test.record_run('x', 'api', 'r', 'passed', 1, 1, 1, 0); SELECT 'ok'}),
	"\nok", 'recording without the preload is a harmless no-op');
$plain->stop;

done_testing();
