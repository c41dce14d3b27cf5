# Revocation reaches an open connection (docs/security.md, "Revoked
# identities"): a real LOGIN role bound to a DID reads its rows through an
# RLS policy that calls ecl.allowed (owner == caller and a signed
# credential); an administrator revokes the DID in another session; the
# same connection's next statement has no identity and sees nothing, also
# inside a transaction that was already open (READ COMMITTED), and its
# ecl.allowed calls are counted as denied runs.  Lifting the revocation
# gives the rows back on the next statement.  The per-statement memo and the
# backend's verified-signature cache must not keep the old answers.
#
# Run as a non-root user (initdb refuses root): see test/tap.sh.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $ext = $ENV{ECL_TEST_EXTENSION} // 'ecl';

my $node = PostgreSQL::Test::Cluster->new('identity');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = '$ext'");
# these tests count VM runs of ecl.check: keep the calls out of the planner's
# translation, which is not a run (docs/planner.md)
$node->append_conf('postgresql.conf', 'ecl.translate = off');
$node->start;

# The DID and its issuer are generated (random keys); rows 1 and 2 belong to
# the DID, row 3 to nobody (owner NULL), row 4 to somebody else.
$node->safe_psql('postgres', qq{
CREATE EXTENSION $ext;
CREATE ROLE regress_app_user LOGIN;
CREATE TABLE notes (id int PRIMARY KEY, owner text, body text);
CREATE TABLE keys AS
  SELECT 'user'::text AS who, did, secret_key FROM ecl.generate_identity()
  UNION ALL
  SELECT 'issuer', did, secret_key FROM ecl.generate_identity();
SELECT ecl.issue_credential((SELECT did FROM keys WHERE who = 'user'), 'member',
                            (SELECT did FROM keys WHERE who = 'issuer'),
                            (SELECT secret_key FROM keys WHERE who = 'issuer'));
SELECT ecl.bind_role('regress_app_user', (SELECT did FROM keys WHERE who = 'user'));
INSERT INTO notes VALUES
  (1, (SELECT did FROM keys WHERE who = 'user'), 'mine'),
  (2, (SELECT did FROM keys WHERE who = 'user'), 'mine too'),
  (3, NULL, 'nobody''s'),
  (4, 'did:example:someone-else', 'theirs');
SELECT ecl.register_policy('own_member',
  'policy own_member { return owner == caller && has_credential(caller, "member") }');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_read ON notes FOR SELECT
  USING (ecl.allowed('own_member', NULL, jsonb_build_object('owner', owner)));
GRANT SELECT ON notes TO regress_app_user;
});
my $did = $node->safe_psql('postgres', "SELECT did FROM keys WHERE who = 'user'");

my $read = q{SELECT coalesce(ecl.current_did(), '(none)') || ' ' ||
  coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM notes;};

sub denied_runs
{
	return $node->safe_psql('postgres',
		q{SELECT coalesce(sum(denied), 0) FROM ecl.stat_eclvm_policies
		   WHERE policy = 'own_member'});
}

my $app = $node->background_psql('postgres',
	on_error_stop => 0,
	extra_params => [ '-U', 'regress_app_user' ]);
my $pid = $app->query_safe('SELECT pg_backend_pid()');
is($app->query_safe('SELECT current_user'), 'regress_app_user',
	'the session is the LOGIN role');

# ---------------------------------------------------------------- revocation
is($app->query_safe($read), "$did 1,2", 'bound: the DID reads its own rows');
is($app->query_safe($read), "$did 1,2", 'again (memo, signature cache warm)');

my $denied_before = denied_runs();
$node->safe_psql('postgres',
	"UPDATE ecl.identities SET revoked = true WHERE did = '$did'");
is($app->query_safe($read), '(none) -',
	'revoked: the same connection\'s next statement has no identity and sees nothing');
is($app->query_safe("SELECT ecl.allowed('own_member', NULL, jsonb_build_object('owner', '$did'))"),
	'f', 'ecl.allowed is false for the revoked binding');
is($app->query_safe('SELECT pg_backend_pid()'), $pid, 'still the same connection');
# 4 rows + 1 direct call, each a denied run
is(denied_runs() - $denied_before, 5, 'the refused checks count as denied runs');

# ---------------------------------------------- lifted, and inside a transaction
$node->safe_psql('postgres',
	"UPDATE ecl.identities SET revoked = false WHERE did = '$did'");
is($app->query_safe($read), "$did 1,2", 'lifted: the rows are back');

$app->query_safe('BEGIN');
is($app->query_safe($read), "$did 1,2", 'in an open transaction: the rows');
$node->safe_psql('postgres',
	"UPDATE ecl.identities SET revoked = true WHERE did = '$did'");
is($app->query_safe($read), '(none) -',
	'revoked meanwhile: the transaction\'s next statement sees nothing');
$app->query_safe('COMMIT');

# the issuer's revocation takes the credential away: no rows, though the
# binding stands
$node->safe_psql('postgres', qq{
UPDATE ecl.identities SET revoked = false WHERE did = '$did';
UPDATE ecl.identities SET revoked = true
 WHERE did = (SELECT did FROM keys WHERE who = 'issuer');
});
is($app->query_safe($read), "$did -",
	'issuer revoked: the binding stands, the signed credential no longer counts');

$app->quit;
$node->stop;
done_testing();
