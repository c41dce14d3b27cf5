# Load and faults (docs/sql-api.md, "The table host"; docs/sql-api.md, "Registered policies"; docs/sql-api.md, "Statistics"; docs/sql-api.md, "Errors"): the extension under many clients,
# a backend stopped mid-run, and an immediate shutdown under load.
#
#   1. pgbench, 8 clients, mixing ecl.run_policy (store writes and events),
#      ecl.check, ecl.validate_crossing (through a realm with an ECL entry
#      policy) and ecl.register_policy re-registering a policy that other
#      clients are running.  Every statement logs its outcome in the same
#      transaction, so afterwards the statistics, the events and the store
#      must agree with the log exactly; no client may see an error.
#   2. A long policy writing the store in a loop is cancelled, and another
#      one terminated (pg_terminate_backend), mid-run: no write of theirs
#      remains, the statistics stay consistent, the server stays up.
#   3. An immediate shutdown while pgbench writes: after restart every
#      committed run left exactly its event and log row (nothing partial),
#      the indexes pass amcheck, and the statistics views work (the file of
#      a crashed server is not trusted: see 010_stats_restart.pl).
#
# Run as a non-root user (initdb refuses root): see test/tap.sh.
# ECL_TEST_EXTENSION names the extension/library (default ecl).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $ext = $ENV{ECL_TEST_EXTENSION} // 'ecl';
my $clients = 8;
my $per_client = 250;
my $total = $clients * $per_client;

my $node = PostgreSQL::Test::Cluster->new('load');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = '$ext'");
# these tests count VM runs of ecl.check: keep the calls out of the planner's
# translation, which is not a run (docs/planner.md)
$node->append_conf('postgresql.conf', 'ecl.translate = off');
$node->append_conf('postgresql.conf', 'max_connections = 40');
$node->start;

sub sql { return $node->safe_psql('postgres', shift); }

sql(qq{
CREATE EXTENSION $ext;
CREATE EXTENSION amcheck;
INSERT INTO ecl.identities (did) SELECT 'did:load:' || i FROM generate_series(0, 49) i;
-- reliability i/50: about a third of the callers are below 0.3
INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega)
	SELECT 'did:load:' || i, '', i / 50.0, 0.5, 0.5, 0.5, 0.5, 0.5 FROM generate_series(0, 49) i;
INSERT INTO ecl.credentials (subject_did, schema)
	SELECT 'did:load:' || i, 'kyc' FROM generate_series(0, 49, 2) i;
INSERT INTO ecl.realms (realm_id) VALUES ('load-home');
SELECT ecl.register_policy('load_entry', \$ecl\$
policy load_entry { require has_credential(caller, "kyc"), "no kyc"; return true }
\$ecl\$, 'crossing') IS NOT NULL;
INSERT INTO ecl.realms (realm_id, min_trust, entry_policy) VALUES ('load-club', 0.4, 'load_entry');
SELECT ecl.register_policy('load_guard', \$ecl\$
policy load_guard {
    require trust.r >= 0.3, "low trust"
    store_put("last", "amount", amount, true)
    store_append_list("seen", caller, amount)
    emit "transfer", {amount: amount}
    return amount
}
\$ecl\$, 'transaction') IS NOT NULL;
SELECT ecl.register_policy('load_check', \$ecl\$
policy load_check { require has_credential(caller, "kyc"), "no kyc"; return amount < 500 }
\$ecl\$) IS NOT NULL;
SELECT ecl.register_policy('load_hot', 'policy load_hot { require amount < 900, "too much"; return 0 }') IS NOT NULL;
CREATE TABLE load_log (what text, did text, passed boolean, entry_ran boolean, entry_passed boolean);
SELECT ecl.stat_reset();
});

# ------------------------------------------------------------- 1. load
my %scripts = (
	'050_guard@4' => q{
\set d random(0, 49)
\set amt random(1, 1000)
INSERT INTO load_log (what, did, passed)
	SELECT 'guard', 'did:load:' || :d, passed
	  FROM ecl.run_policy('load_guard', 'did:load:' || :d, 'load-home', jsonb_build_object('amount', :amt));
},
	'050_check@3' => q{
\set d random(0, 49)
\set amt random(1, 1000)
INSERT INTO load_log (what, did, passed)
	SELECT 'check', 'did:load:' || :d,
		   ecl.check('load_check', 'did:load:' || :d, 'load-home', jsonb_build_object('amount', :amt));
},
	'050_cross@2' => q{
\set d random(0, 49)
INSERT INTO load_log (what, did, passed, entry_ran, entry_passed)
	SELECT 'cross', 'did:load:' || :d, allowed, policy IS NOT NULL,
		   policy IS NOT NULL AND allowed
	  FROM ecl.validate_crossing('did:load:' || :d, 'load-home', 'load-club');
},
	'050_hot@2' => q{
\set amt random(1, 1000)
INSERT INTO load_log (what, passed)
	SELECT 'hot', passed FROM ecl.run_policy('load_hot', NULL, 'load-home', jsonb_build_object('amount', :amt));
},
	'050_register@1' => q{
\set v random(1, 1000000)
INSERT INTO load_log (what, passed)
	SELECT 'register', ecl.register_policy('load_hot',
		'policy load_hot { require amount < 900, "too much"; return ' || :v || ' }') IS NOT NULL;
});

$node->pgbench(
	"-n -c $clients -j 2 -t $per_client",
	0,
	[qr{processed: $total/$total}],
	[qr{^$}],
	'pgbench: run_policy, check, validate_crossing and re-registering, no errors',
	\%scripts);

my $log = sql(q{SELECT count(*) FROM load_log});
is($log, $total, "every transaction logged its outcome ($log)");
note(sql(q{SELECT string_agg(what || ': ' || n || ' (' || p || ' passed)', ', ' ORDER BY what)
  FROM (SELECT what, count(*) n, count(*) FILTER (WHERE passed) p FROM load_log GROUP BY what) s}));

# the policy runs the log saw: guard, check and hot runs, plus the entry
# policy of every crossing that got past the rule checks
my ($runs, $passed, $denied, $compiles, $crossings, $allowed, $events) = split /\|/, sql(q{
SELECT count(*) FILTER (WHERE what IN ('guard', 'check', 'hot') OR entry_ran),
       count(*) FILTER (WHERE (what IN ('guard', 'check', 'hot') AND passed) OR entry_passed),
       count(*) FILTER (WHERE (what IN ('guard', 'check', 'hot') AND NOT passed) OR (entry_ran AND NOT entry_passed)),
       count(*) FILTER (WHERE what = 'register'),
       count(*) FILTER (WHERE what = 'cross'),
       count(*) FILTER (WHERE what = 'cross' AND passed),
       count(*) FILTER (WHERE what = 'guard' AND passed)
  FROM load_log});
is( sql(q{SELECT concat_ws(',', policies_executed, policies_passed, policies_denied,
        policy_runtime_errors, crossing_evaluations, crossings_allowed, events_emitted)
        FROM ecl.stat_eclvm}),
	join(',', $runs, $passed, $denied, 0, $crossings, $allowed, $events),
	'global counters equal the log exactly');
is(sql(q{SELECT policies_compiled FROM ecl.stat_eclvm}), $compiles,
	'every re-registration was counted as a compile');
is( sql(q{SELECT string_agg(policy || ':' || calls || ':' || passed, ' ' ORDER BY policy)
        FROM ecl.stat_eclvm_policies WHERE policy IN ('load_guard', 'load_check')}),
	sql(q{SELECT string_agg('load_' || what || ':' || n || ':' || p, ' ' ORDER BY what)
        FROM (SELECT what, count(*) n, count(*) FILTER (WHERE passed) p FROM load_log
               WHERE what IN ('guard', 'check') GROUP BY what) s}),
	'per-policy rows equal the log');
is(sql(q{SELECT count(*) FROM ecl.events WHERE event = 'transfer'}), $events,
	'one event per passed guard run, none for denied ones');
is( sql(q{SELECT sum(jsonb_array_length(value)) FROM ecl.store WHERE store_name = 'seen'}),
	$events, 'the appended lists hold one entry per passed guard run');
is( sql(q{SELECT count(*) FROM ecl.store WHERE store_name = 'last'}),
	sql(q{SELECT count(DISTINCT did) FROM load_log WHERE what = 'guard' AND passed}),
	'one personal entry per caller that passed');
is(sql(q{SELECT version - 1 FROM ecl.policies WHERE name = 'load_hot'}), $compiles,
	'load_hot was re-registered once per register transaction');

# --------------------------------------------- 2. cancel and terminate mid-run
sql(q{SELECT ecl.register_policy('load_long', $ecl$
policy load_long {
    for x in xs { store_put("long", "k" + x, x) }
    emit "long_done"
    return true
}
$ecl$)});

sub start_long_run
{
	my ($tag) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-d', $node->connstr('postgres'), '-c',
			"SET application_name = '$tag'; SET ecl.timeout_ms = 0;"
			  . " SELECT passed FROM ecl.run_policy('load_long', 'did:load:1', 'load-home',"
			  . " jsonb_build_object('xs', (SELECT jsonb_agg(i) FROM generate_series(1, 1000000) i)),"
			  . " 1000000000000, 1000000000000)"
		],
		'>', \$out, '2>', \$err);
	# wait until it has written for a while (its writes are not visible
	# to us, so wait on the clock and the activity view)
	my $pid;
	for (1 .. 300)
	{
		$pid = sql(qq{SELECT pid FROM pg_stat_activity WHERE application_name = '$tag'
			AND state = 'active' AND query LIKE '%load_long%'});
		last if $pid;
		usleep(100_000);
	}
	usleep(1_500_000);
	return ($h, $pid, \$err);
}

sub counters
{
	return sql(q{SELECT concat_ws(',', policies_executed, policies_passed + policies_denied
		+ policy_runtime_errors) FROM ecl.stat_eclvm});
}

my ($before) = split /,/, counters();
my ($h, $pid, $err) = start_long_run('ecl_cancel_me');
ok($pid, 'the long run started');
is(sql(qq{SELECT pg_cancel_backend($pid)}), 't', 'cancel sent');
$h->finish;
like($$err, qr/canceling statement due to user request/, 'the run was cancelled');
my ($executed, $accounted) = split /,/, counters();
is($executed, $before + 1, 'the cancelled run is counted once');
is($accounted, $executed, 'and as an error (executed = passed + denied + errors)');

($h, $pid, $err) = start_long_run('ecl_kill_me');
ok($pid, 'the second long run started');
is(sql(qq{SELECT pg_terminate_backend($pid)}), 't', 'terminate sent');
$h->finish;
like($$err, qr/terminating connection due to administrator command/, 'the backend was terminated');
($executed, $accounted) = split /,/, counters();
ok($executed == $before + 1 || $executed == $before + 2,
	"the terminated run is counted at most once ($executed)");
is($accounted, $executed, 'statistics stay consistent');
is(sql(q{SELECT count(*) FROM ecl.store WHERE store_name = 'long'}), '0',
	'neither interrupted run left a store write');
is(sql(q{SELECT count(*) FROM ecl.events WHERE event = 'long_done'}), '0', 'nor an event');
is(sql(q{SELECT ecl.eval('return 6 * 7')}), '42', 'the server still serves');

# ------------------------------------- 3. immediate shutdown under load
sql(q{TRUNCATE load_log; DELETE FROM ecl.events; DELETE FROM ecl.store;});
my $script = $node->basedir . '/050_crash.sql';
PostgreSQL::Test::Utils::append_to_file($script, q{
\set d random(0, 49)
\set amt random(1, 1000)
INSERT INTO load_log (what, did, passed)
	SELECT 'guard', 'did:load:' || :d, passed
	  FROM ecl.run_policy('load_guard', 'did:load:' || :d, 'load-home', jsonb_build_object('amount', :amt));
});
my ($bout, $berr) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '6', '-j', '2', '-T', '60', '-f', $script, '-d', $node->connstr('postgres') ],
	'>', \$bout, '2>', \$berr);
for (1 .. 600)
{
	last if sql(q{SELECT count(*) FROM load_log}) >= 100;
	usleep(100_000);
}
$node->stop('immediate');
$bench->finish;
$node->start;

my $committed = sql(q{SELECT count(*) FROM load_log});
ok($committed >= 100, "runs committed before the crash survived ($committed)");
is( sql(q{SELECT count(*) FROM ecl.events WHERE event = 'transfer'}),
	sql(q{SELECT count(*) FROM load_log WHERE passed}),
	'after recovery: exactly one event per committed passed run');
is( sql(q{SELECT coalesce(sum(jsonb_array_length(value)), 0) FROM ecl.store WHERE store_name = 'seen'}),
	sql(q{SELECT count(*) FROM load_log WHERE passed}),
	'after recovery: exactly one list entry per committed passed run');
is( sql(q{SELECT count(*) FROM (SELECT bt_index_check(c.oid, true)
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am a ON a.oid = c.relam
         WHERE a.amname = 'btree' AND c.relnamespace = 'ecl'::regnamespace) s}),
	sql(q{SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND c.relnamespace = 'ecl'::regnamespace}),
	'every index of schema ecl passes amcheck (with heap check)');
my ($x, $y) = split /,/, counters();
is($y, $x, 'statistics after the crash are consistent');
is( sql(q{SELECT passed FROM ecl.run_policy('load_guard', 'did:load:49', 'load-home', '{"amount": 1}')}),
	't', 'policies run after recovery');

$node->stop;
done_testing();
