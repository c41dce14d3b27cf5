# ECL tables replicated logically to another cluster (docs/scaling.md):
# a subscriber with its own ecl extension receives identities, trust,
# credentials, realms, policies and handlers from a publisher and decides
# like it; a subscriber session that cached a policy runs the re-registered
# version once the change has been applied.
#
# Logical replication does not replay the publisher's cache invalidations
# (they are not in the logical stream), and the apply worker runs with
# session_replication_role = replica and fires row triggers only: the
# statement trigger that invalidates caches on the publisher does not fire
# there, not even when enabled ALWAYS (checked by hand: the session kept
# version 1).  What invalidates the subscriber's caches are the row and
# TRUNCATE triggers enabled for REPLICA on ecl.policies and ecl.handlers.
#
# Run as a non-root user (initdb refuses root): see test/tap.sh.
# ECL_TEST_EXTENSION names the extension/library (default ecl).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $ext = $ENV{ECL_TEST_EXTENSION} // 'ecl';

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->append_conf('postgresql.conf', "shared_preload_libraries = '$ext'");
$pub->start;

my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
$sub->append_conf('postgresql.conf', "shared_preload_libraries = '$ext'");
$sub->start;

my $tables = 'ecl.identities, ecl.trust, ecl.credentials, ecl.balances, '
  . 'ecl.realms, ecl.policies, ecl.handlers';

$pub->safe_psql('postgres', qq{
CREATE EXTENSION $ext;
INSERT INTO ecl.realms (realm_id) VALUES ('r1');
INSERT INTO ecl.identities (did) SELECT 'did:t:' || i FROM generate_series(1, 100) i;
INSERT INTO ecl.trust (did, realm_id, r) SELECT 'did:t:' || i, '', (i % 10) / 10.0
  FROM generate_series(1, 100) i;
INSERT INTO ecl.credentials (subject_did, schema)
  SELECT 'did:t:' || i, 'kyc' FROM generate_series(1, 100) i WHERE i % 3 <> 0;
SELECT ecl.register_policy('gate', 'require trust.r >= 0.5
return has_credential(caller, "kyc")');
SELECT ecl.register_handler('controller', 'docs.read', 'return trust.r > 0.3');
CREATE PUBLICATION ecl_pub FOR TABLE $tables;
});
my $pub_connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres', qq{
CREATE EXTENSION $ext;
CREATE SUBSCRIPTION ecl_sub CONNECTION '$pub_connstr' PUBLICATION ecl_pub;
});
$sub->wait_for_subscription_sync($pub, 'ecl_sub');

my $decisions = q{
SELECT string_agg(CASE WHEN ecl.check('gate', 'did:t:' || i, 'r1') THEN 't' ELSE 'f' END,
                  '' ORDER BY i)
  FROM generate_series(1, 100) i};
my $handler = q{SELECT string_agg((ecl.run_controller('docs.read', 'did:t:' || i, 'r1',
                  '{"permission": "p"}')).value::text, ',' ORDER BY i)
  FROM generate_series(1, 5) i};

my $v1 = $pub->safe_psql('postgres', $decisions);
like($v1, qr/t.*f|f.*t/, 'the publisher\'s decisions are mixed');
is($sub->safe_psql('postgres', $decisions), $v1,
	'the subscriber decides like the publisher after the initial copy');

# a subscriber session that keeps the policy and the handler cached
my $session = $sub->background_psql('postgres', on_error_stop => 0);
is($session->query($decisions), $v1, 'the subscriber session caches gate');
my $h1 = $pub->safe_psql('postgres', $handler);
is($session->query($handler), $h1, 'the subscriber session caches the handler');

$pub->safe_psql('postgres', q{
SELECT ecl.register_policy('gate', 'require trust.r >= 0.2
return has_credential(caller, "kyc")');
SELECT ecl.register_handler('controller', 'docs.read', 'return trust.r > 0.1');});
$pub->wait_for_catchup('ecl_sub');
my $v2 = $pub->safe_psql('postgres', $decisions);
isnt($v2, $v1, 'version 2 decides differently on the publisher');
is($session->query($decisions), $v2,
	'the subscriber session runs version 2 once the change is applied');
my $h2 = $pub->safe_psql('postgres', $handler);
isnt($h2, $h1, 'the re-registered handler answers differently on the publisher');
is($session->query($handler), $h2,
	'the subscriber session runs the re-registered handler once applied');

$pub->safe_psql('postgres', q{
UPDATE ecl.trust SET r = 1 - r;
SELECT ecl.drop_policy('gate');
SELECT ecl.register_policy('gate', 'return trust.r > 0.55');});
$pub->wait_for_catchup('ecl_sub');
my $v3 = $pub->safe_psql('postgres', $decisions);
is($session->query($decisions), $v3,
	'drop, re-register and trust changes reach the subscriber session');

# a TRUNCATE is applied too (a statement trigger enabled for REPLICA)
$pub->safe_psql('postgres', q{SELECT ecl.register_policy('short_lived', 'return 1')});
$pub->wait_for_catchup('ecl_sub');
is($session->query(q{SELECT value FROM ecl.run_policy('short_lived', NULL, NULL)}), '1',
	'the subscriber session caches short_lived');
$pub->safe_psql('postgres', q{TRUNCATE ecl.policies CASCADE});
$pub->wait_for_catchup('ecl_sub');
$session->{stderr} = '';
$session->query(q{SELECT value FROM ecl.run_policy('short_lived', NULL, NULL)});
like($session->{stderr}, qr/policy "short_lived" does not exist/,
	'the subscriber session sees the applied TRUNCATE');

# what makes it work: the triggers enabled for REPLICA (tgenabled R)
is($sub->safe_psql('postgres', q{
SELECT string_agg(tgrelid::regclass || '.' || tgname || ':' || tgenabled::text, ','
                  ORDER BY tgrelid::regclass::text, tgname)
  FROM pg_trigger WHERE tgrelid IN ('ecl.policies'::regclass, 'ecl.handlers'::regclass)
   AND tgfoid = 'ecl.policies_changed()'::regprocedure}),
	'ecl.handlers.handlers_changed:O,ecl.handlers.handlers_changed_on_apply:R,'
	  . 'ecl.handlers.handlers_truncated_on_apply:R,ecl.policies.policies_changed:O,'
	  . 'ecl.policies.policies_changed_on_apply:R,ecl.policies.policies_truncated_on_apply:R',
	'the caches\' triggers: ORIGIN statement triggers, REPLICA row and TRUNCATE triggers');

$session->quit;
$sub->stop;
$pub->stop;
done_testing();
