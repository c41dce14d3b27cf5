# ECL on a hot-standby replica (docs/scaling.md):
#
#   - read paths work on the standby and decide exactly as the primary does
#     for the same inputs: ecl.check, ecl.allowed (also inside an RLS
#     policy), ecl.eval of code that does not write, ecl.run_policy and
#     engine runs of handlers that do not write, ecl.simulate if present;
#   - a standby session that cached a policy sees the re-registered
#     version as soon as the primary's commit has been replayed (the
#     relcache invalidation the ecl.policies trigger sends is WAL-logged
#     with the commit and replayed on the standby), also inside an open
#     transaction, and sees a drop;
#   - trust and credential changes on the primary reach the standby's
#     decisions after replay;
#   - statistics and rate-limit accounts are per node (shared memory), so
#     get_metric answers with the node's own figures;
#   - every write path fails on the standby with SQLSTATE 25006 and a
#     message that says why;
#   - on the primary, read-only runs assign no transaction id.
#
# At the end it prints (never checks) the latency of a B1-like workload on
# both nodes: trust.r >= 0.5 && has_credential(caller, "kyc") over
# ECL_REPLICA_BENCH_ROWS rows (default 20000) with ECL_REPLICA_BENCH_CALLERS
# callers (default 1000).
#
# Run as a non-root user (initdb refuses root): see test/tap.sh.
# ECL_TEST_EXTENSION names the extension/library (default ecl).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $ext = $ENV{ECL_TEST_EXTENSION} // 'ecl';
my $bench_rows = $ENV{ECL_REPLICA_BENCH_ROWS} // 20000;
my $bench_callers = $ENV{ECL_REPLICA_BENCH_CALLERS} // 1000;
my $bench_repeats = $ENV{ECL_REPLICA_BENCH_REPEATS} // 5;
my $ndids = $bench_callers > 200 ? $bench_callers : 200;

# ------------------------------------------------------------------ setup
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = '$ext'");
# these tests count VM runs of ecl.check: keep the calls out of the planner's
# translation, which is not a run (docs/planner.md)
$primary->append_conf('postgresql.conf', 'ecl.translate = off');
$primary->start;

# Identities did:t:1..N: reliability (i % 10) / 10; every third has no kyc
# credential, every seventh's credential expired.  Realm r1.
$primary->safe_psql('postgres', qq{
CREATE EXTENSION $ext;
INSERT INTO ecl.realms (realm_id, name) VALUES ('r0', 'realm zero');
INSERT INTO ecl.realms (realm_id, name, min_trust, required_credentials, entry_policy)
  VALUES ('r1', 'realm one', 0.1, '{kyc}', 'gate');
INSERT INTO ecl.identities (did) SELECT 'did:t:' || i FROM generate_series(1, $ndids) i;
INSERT INTO ecl.trust (did, realm_id, r, i)
  SELECT 'did:t:' || i, '', (i % 10) / 10.0, 0.5 FROM generate_series(1, $ndids) i;
INSERT INTO ecl.credentials (subject_did, schema, expires_at)
  SELECT 'did:t:' || i, 'kyc',
         CASE WHEN i % 7 = 0 THEN now() - interval '1 day' END
    FROM generate_series(1, $ndids) i WHERE i % 3 <> 0;
SELECT ecl.register_policy('gate', \$\$
policy gate {
    require trust.r >= 0.5, "reliability too low"
    return has_credential(caller, "kyc")
}\$\$);
SELECT ecl.register_policy('doc_read', 'return trust.r >= min_r');
SELECT ecl.register_policy('writer', 'store_put("notes", "k", amount)
return true');
SELECT ecl.register_policy('emitter', 'emit "seen", {who: caller}
return true');
SELECT ecl.register_policy('maybe_writer', 'if amount > 100 { store_put("notes", "big", amount) }
return amount > 0');
SELECT ecl.register_handler('controller', 'docs.read', 'return trust.r > 0.3');
SELECT ecl.register_handler('api', 'GET /note', 'return store_get("notes", "k")');
SELECT ecl.register_handler('api', 'POST /note', 'store_put("notes", "k", body.v)
return true');

-- RLS: alice (did:t:5, r = 0.5) reads the documents whose min_r she meets
CREATE ROLE alice LOGIN;
SELECT ecl.bind_role('alice', 'did:t:5');
CREATE TABLE docs (id int PRIMARY KEY, min_r float8);
INSERT INTO docs SELECT i, i / 10.0 FROM generate_series(1, 9) i;
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_read ON docs FOR SELECT
  USING (ecl.allowed('doc_read', 'r1', jsonb_build_object('min_r', min_r)));
GRANT SELECT ON docs TO alice;

-- B1-like rows: each row names its caller
CREATE TABLE b1_rows (id int PRIMARY KEY, caller text NOT NULL);
INSERT INTO b1_rows SELECT i, 'did:t:' || (i % $bench_callers + 1)
  FROM generate_series(1, $bench_rows) i;
ANALYZE;
});
$primary->safe_psql('postgres',
	q{SELECT ecl.run_policy('writer', 'did:t:1', 'r1', '{"amount": 1}')});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby, 'replay');
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'the standby is in recovery');

sub replay { $primary->wait_for_catchup($standby, 'replay'); }

# Run sql on a node; return (stdout, "SQLSTATE: message" of an error or '').
sub try_sql
{
	my ($node, $sql, %opt) = @_;
	my ($out, $err) = ('', '');
	$node->psql(
		'postgres', $sql,
		stdout => \$out,
		stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose', @{ $opt{extra} // [] } ]);
	my ($error) = $err =~ /ERROR:\s+(\w{5}: [^\n]*)/;
	my ($hint) = $err =~ /HINT:\s+([^\n]*)/;
	return ($out, $error // '', $hint // '');
}

# One decision per identity and amount, as a string of t/f.
my $decisions = qq{
SELECT string_agg(CASE WHEN ecl.check('gate', 'did:t:' || i, 'r1',
                                      jsonb_build_object('amount', i * 10))
                       THEN 't' ELSE 'f' END, '' ORDER BY i)
  FROM generate_series(1, 200) i};

# ------------------------------------------------- decisions on both nodes
my $v1 = $primary->safe_psql('postgres', $decisions);
like($v1, qr/t.*f|f.*t/, 'the primary\'s decisions are mixed (a real comparison)');
is($standby->safe_psql('postgres', $decisions), $v1,
	'ecl.check on the standby decides like the primary');

my $allowed_sql = q{SET ROLE alice; SELECT ecl.allowed('gate', 'r1'), ecl.allowed('doc_read', 'r1', '{"min_r": 0.6}');};
is($standby->safe_psql('postgres', $allowed_sql),
	$primary->safe_psql('postgres', $allowed_sql),
	'ecl.allowed on the standby decides like the primary');
my $rls_sql = q{SET ROLE alice; SELECT string_agg(id::text, ',' ORDER BY id) FROM docs;};
my $rls_primary = $primary->safe_psql('postgres', $rls_sql);
is($rls_primary, '1,2,3,4,5', 'RLS through ecl.allowed on the primary');
is($standby->safe_psql('postgres', $rls_sql), $rls_primary,
	'RLS through ecl.allowed on the standby shows the same rows');

my $run_sql = q{
SELECT passed, value, message, gas_used, mana_used
  FROM (VALUES ('did:t:5'), ('did:t:3'), ('did:t:1')) v(d), ecl.run_policy('gate', d, 'r1')
 ORDER BY d;
SELECT ecl.eval('return load_trust(caller).r + (has_credential(caller, "kyc") ? 1 : 0)',
                '{}', 'did:t:8', 'r1');
SELECT ecl.eval('return amount * 2', '{"amount": 21}');
SELECT passed, value, gas_used FROM ecl.run_controller('docs.read', 'did:t:4', 'r1',
       '{"permission": "docs.read", "resource": "d1"}');
SELECT passed, value FROM ecl.run_api('GET /note', 'did:t:4', 'r1',
       '{"method": "GET", "path": "/note"}');
SELECT d, allowed, violations, dampened_trust, gas_used
  FROM (VALUES ('did:t:5'), ('did:t:3'), ('did:t:1'), ('did:t:7')) v(d),
       ecl.validate_crossing(d, 'r0', 'r1')
 ORDER BY d;
SELECT ecl.allow_crossing('did:t:5', 'r0', 'r1');};
my ($run_primary, $run_primary_err) = try_sql($primary, $run_sql);
my ($run_standby, $run_standby_err) = try_sql($standby, $run_sql);
is($run_primary_err, '', 'read-only runs work on the primary');
is($run_standby_err, '', 'read-only runs (run_policy, eval, run_controller, run_api, validate/allow_crossing) work on the standby');
is($run_standby, $run_primary, '... with the same results, gas and mana as on the primary');

# maybe_writer can write, so ecl.check refuses it everywhere (25006), while
# ecl.run_policy of a run that takes no writing branch is fine on the standby
my ($o, $e) = try_sql($standby,
	q{SELECT passed FROM ecl.run_policy('maybe_writer', NULL, 'r1', '{"amount": 5}')});
is("$o|$e", 't|', 'a run of a writing policy that writes nothing works on the standby');

# ecl.simulate is optional in this build
my $has_simulate = $primary->safe_psql('postgres',
	q{SELECT to_regproc('ecl.simulate') IS NOT NULL});
SKIP:
{
	skip 'ecl.simulate is not installed', 1 unless $has_simulate eq 't';
	my $sim = q{SELECT passed, value, gas_used FROM ecl.simulate('gate', 'did:t:5', 'r1', '{}',
	            ecl.snapshot('r1', ARRAY['did:t:5']))};
	is($standby->safe_psql('postgres', $sim), $primary->safe_psql('postgres', $sim),
		'ecl.simulate on the standby gives the primary\'s answer');
}

# -------------------------- a long-lived standby session with a cached policy
my $session = $standby->background_psql('postgres', on_error_stop => 0);

# (stdout, error) of one statement in the session
sub ask
{
	my ($sql) = @_;
	$session->{stderr} = '';
	my $out = $session->query($sql);
	my ($error) = $session->{stderr} =~ /ERROR:\s+([^\n]*)/;
	return ($out, $error // '');
}

is((ask($decisions))[0], $v1, 'the standby session caches version 1 of gate');

$primary->safe_psql('postgres', q{
SELECT ecl.register_policy('gate', $$
policy gate {
    require trust.r >= 0.3, "reliability too low"
    return has_credential(caller, "kyc") && amount < 1500
}$$);});
my $v2 = $primary->safe_psql('postgres', $decisions);
isnt($v2, $v1, 'version 2 decides differently on the primary');
replay();
is((ask($decisions))[0], $v2,
	'the standby session runs version 2 once the re-registration has replayed');
is((ask(q{SELECT version FROM ecl.policies WHERE name = 'gate'}))[0], '2',
	'... and the standby has version 2 in ecl.policies');

# inside an open transaction on the standby: the next statement sees it
ask('BEGIN ISOLATION LEVEL REPEATABLE READ');
is((ask($decisions))[0], $v2, 'a standby transaction runs version 2');
$primary->safe_psql('postgres', q{
SELECT ecl.register_policy('gate', $$
policy gate {
    require trust.r >= 0.6, "reliability too low"
    return has_credential(caller, "kyc") || amount > 1800
}$$);});
my $v3 = $primary->safe_psql('postgres', $decisions);
isnt($v3, $v2, 'version 3 decides differently on the primary');
replay();
is((ask($decisions))[0], $v3,
	'the same standby transaction runs version 3 after replay (policies act like catalog entries)');
ask('COMMIT');

# trust and credentials changed on the primary
$primary->safe_psql('postgres', q{
UPDATE ecl.trust SET r = 1 - r WHERE did IN (SELECT 'did:t:' || i FROM generate_series(1, 200, 2) i);
UPDATE ecl.credentials SET revoked_at = now() WHERE subject_did IN ('did:t:10', 'did:t:20', 'did:t:40');
INSERT INTO ecl.credentials (subject_did, schema) VALUES ('did:t:9', 'kyc'), ('did:t:99', 'kyc');});
my $v3b = $primary->safe_psql('postgres', $decisions);
isnt($v3b, $v3, 'the trust and credential changes change decisions on the primary');
replay();
is((ask($decisions))[0], $v3b,
	'the standby session decides with the replayed trust and credentials');
is($standby->safe_psql('postgres', $decisions), $v3b, '... and so does a new standby session');

# handlers are cached too (their own relcache invalidation)
is((ask(q{SELECT value FROM ecl.run_controller('docs.read', 'did:t:2', 'r1', '{"permission": "docs.read"}')}))[0],
	'false', 'the standby session runs the controller handler (did:t:2 has r = 0.2)');
$primary->safe_psql('postgres',
	q{SELECT ecl.register_handler('controller', 'docs.read', 'return trust.r > 0.1')});
replay();
is((ask(q{SELECT value FROM ecl.run_controller('docs.read', 'did:t:2', 'r1', '{"permission": "docs.read"}')}))[0],
	'true', 'the standby session runs the re-registered handler after replay');

# a drop replays too
$primary->safe_psql('postgres', q{SELECT ecl.register_policy('short_lived', 'return 1')});
replay();
is((ask(q{SELECT value FROM ecl.run_policy('short_lived', NULL, NULL)}))[0], '1',
	'the standby session caches short_lived');
$primary->safe_psql('postgres', q{SELECT ecl.drop_policy('short_lived')});
replay();
like((ask(q{SELECT value FROM ecl.run_policy('short_lived', NULL, NULL)}))[1],
	qr/policy "short_lived" does not exist/, 'the standby session sees the drop');

# -------------------------------------------------- writes fail with 25006
my @writes = (
	[ 'store write (run_policy)',
	  q{SELECT ecl.run_policy('writer', 'did:t:1', 'r1', '{"amount": 2}')} ],
	[ 'store write in a branch (run_policy)',
	  q{SELECT ecl.run_policy('maybe_writer', NULL, 'r1', '{"amount": 500}')} ],
	[ 'emit (run_policy)',
	  q{SELECT ecl.run_policy('emitter', 'did:t:1', 'r1')} ],
	[ 'store write (enforce)',
	  q{SELECT ecl.enforce('writer', 'did:t:1', 'r1', '{"amount": 2}')} ],
	[ 'store write (ecl.eval)',
	  q{SELECT ecl.eval('store_put("notes", "k", 3)', '{}', 'did:t:1', 'r1')} ],
	[ 'store write (engine handler)',
	  q{SELECT ecl.run_api('POST /note', 'did:t:1', 'r1', '{"method": "POST", "path": "/note", "body": {"v": 4}}')} ],
	[ 'register_policy', q{SELECT ecl.register_policy('new_one', 'return 1')} ],
	[ 'drop_policy', q{SELECT ecl.drop_policy('writer')} ],
	[ 'register_handler', q{SELECT ecl.register_handler('ui', 'x', 'return true')} ],
	[ 'ecl.check of a writing policy', q{SELECT ecl.check('writer', 'did:t:1', 'r1')} ],
);
for my $w (@writes)
{
	my ($label, $sql) = @$w;
	my ($out, $err, $hint) = try_sql($standby, $sql);
	like($err, qr/^25006: /, "on the standby, $label fails with 25006");
	note "  $label: $err / $hint";
}
my ($wout, $werr, $whint) = try_sql($standby, $writes[0][1]);
like($werr, qr/^25006: policy "writer", line 1:\d+: store_put is not allowed in a read-only evaluation/,
	'a refused store write names the policy, the line and the operation');
like($whint, qr/hot standby.*primary/, '... and its hint says to run it on the primary');
($wout, $werr, $whint) = try_sql($standby, $writes[2][1]);
like($werr, qr/^25006: policy "emitter", line 1:\d+: emit is not allowed/,
	'a refused emit names the policy and the operation');
($wout, $werr, $whint) = try_sql($standby, $writes[6][1]);
is($werr, '25006: cannot execute ecl.register_policy() in a read-only transaction',
	'a refused registration names ecl.register_policy()');
like($whint, qr/hot standby.*primary/, '... and its hint says to register on the primary');
is($standby->safe_psql('postgres',
	q{SELECT value FROM ecl.store WHERE store_name = 'notes' AND key = 'k'}),
	'1', 'the standby\'s store still holds the primary\'s value');
($o, $e) = try_sql($standby, $decisions);
is($e, '', 'the standby still runs read-only checks after the refused writes');

# the same refusal on the primary in a read-only transaction, with its own hint
($wout, $werr, $whint) = try_sql($primary,
	q{BEGIN READ ONLY; SELECT ecl.run_policy('writer', 'did:t:1', 'r1', '{"amount": 9}');});
like($werr, qr/^25006: policy "writer", line 1:\d+: store_put is not allowed/,
	'on the primary, a store write in a READ ONLY transaction fails with 25006');
like($whint, qr/transaction is read-only/, '... and its hint names the transaction');

# the state-only host writes to its change list only, so simulating a
# writing policy works on the standby as on the primary
SKIP:
{
	skip 'ecl.simulate is not installed', 1 unless $has_simulate eq 't';
	my $sim = q{SELECT passed, writes FROM ecl.simulate('writer', 'did:t:1', 'r1',
	            '{"amount": 7}', ecl.snapshot('r1', ARRAY['did:t:1']))};
	my ($sp, $se) = try_sql($primary, $sim);
	my ($ss, $sse) = try_sql($standby, $sim);
	is("$ss|$sse", "$sp|", 'ecl.simulate of a writing policy on the standby equals the primary\'s');
}

# --------------------------------------- statistics and rate limits per node
$primary->safe_psql('postgres', 'SELECT ecl.stat_reset()');
$standby->safe_psql('postgres', 'SELECT ecl.stat_reset()');
$standby->safe_psql('postgres', $decisions);
my $count_sql = q{SELECT policies_executed FROM ecl.stat_eclvm;
SELECT coalesce(sum(calls), 0) FROM ecl.stat_eclvm_policies WHERE policy = 'gate';};
is($standby->safe_psql('postgres', $count_sql), "200\n200",
	'the standby counts its own 200 runs');
is($primary->safe_psql('postgres', $count_sql), "0\n0",
	'... which do not appear on the primary');
$primary->safe_psql('postgres', q{SELECT ecl.check('gate', 'did:t:1', 'r1')});
is($standby->safe_psql('postgres', $count_sql), "200\n200",
	'runs on the primary do not appear on the standby');
# so get_metric answers with the node's own figures (docs/scaling.md)
my $metric = q{SELECT ecl.eval('return get_metric("policies_executed")')};
is($standby->safe_psql('postgres', $metric) . '/' . $primary->safe_psql('postgres', $metric),
	'200/1', 'get_metric reads the statistics of the node it runs on');

$standby->safe_psql('postgres', q{SET ecl.rate_limit = on;
SELECT ecl.check('gate', 'did:t:8', 'r1', '{"amount": 1}');});
is($standby->safe_psql('postgres',
	q{SELECT string_agg(did, ',') FROM ecl.rate_limit_accounts()}),
	'did:t:8', 'the standby keeps a rate-limit account for its caller');
is($primary->safe_psql('postgres',
	q{SELECT count(*) FROM ecl.rate_limit_accounts()}),
	'0', '... the primary does not');

# ----------------------- on the primary, the read path needs no transaction id
is($primary->safe_psql('postgres', qq{
BEGIN;
SELECT count(*) FROM ($decisions) d;
SELECT ecl.allowed('doc_read', 'r1', '{"min_r": 0.1}');
SELECT (ecl.run_policy('maybe_writer', NULL, 'r1', '{"amount": 5}')).passed;
SELECT txid_current_if_assigned() IS NULL;
COMMIT;}), "1\nf\nt\nt", 'read-only runs on the primary assign no transaction id');

# -------------------------------------------- latency (figures, not checked)
# B1-like: one ecl.check per row, $bench_callers distinct callers.
$primary->safe_psql('postgres', q{
SELECT ecl.register_policy('b1', 'return trust.r >= 0.5 && has_credential(caller, "kyc")');});
replay();
my $b1 = q{SELECT count(*) FROM b1_rows WHERE ecl.check('b1', caller, 'r1')};

sub timings
{
	my ($node) = @_;
	my $out = $node->safe_psql('postgres',
		"SET ecl.track = off; $b1; "
		  . join('', map { "EXPLAIN (ANALYZE, TIMING OFF) $b1;" } 1 .. $bench_repeats));
	my ($count) = split /\n/, $out;
	my @ms = sort { $a <=> $b } ($out =~ /Execution Time: ([\d.]+) ms/g);
	return ($count, $ms[ int(@ms / 2) ], @ms);
}
my ($count_p, $median_p, @all_p) = timings($primary);
my ($count_s, $median_s, @all_s) = timings($standby);
is($count_s, $count_p, 'the B1 workload passes the same rows on both nodes');
diag sprintf(
	"B1-like (%d rows, %d callers, %d passing): primary median %.1f ms [%s], "
	  . "standby median %.1f ms [%s], standby/primary %.2f",
	$bench_rows, $bench_callers, $count_p, $median_p, join(' ', @all_p),
	$median_s, join(' ', @all_s), $median_p > 0 ? $median_s / $median_p : 0);

$session->quit;
$standby->stop;
$primary->stop;
done_testing();
