# The decision log on a primary and its hot standby (docs/lifecycle.md,
# "Decision log"):
#
#   - on the primary, the decisions an RLS policy makes for a plain role's
#     SELECT (one per row, ecl.check in the policy) reach ecl.decision_log
#     once the launcher has flushed them, with each row's outcome;
#   - on the standby, the same SELECT (read-only, as every standby
#     transaction) decides alike; its decisions are in ecl.recent_decisions
#     there — the role sees its own, a role without ecl_admin or
#     pg_read_all_stats none of another role's, a superuser all — and
#     nothing is written: the standby's ecl.decision_log is the primary's,
#     its decisions_logged stays 0 and the primary's log does not grow.
#
# Run as a non-root user (initdb refuses root): see test/tap.sh.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $ext = $ENV{ECL_TEST_EXTENSION} // 'ecl';

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = '$ext'
ecl.decision_log_flush_interval = '100ms'
});
$primary->start;

# docs 1..10 of level id % 5; the policy lets levels 0..2 through
$primary->safe_psql('postgres', qq{
CREATE EXTENSION $ext;
SELECT ecl.register_policy('doc_gate', \$\$
policy doc_gate {
    require level < 3, "too secret"
    return true
}\$\$);
CREATE TABLE docs (id int PRIMARY KEY, level int, owner text);
INSERT INTO docs SELECT i, i % 5, 'did:t:' || i FROM generate_series(1, 10) i;
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY gate ON docs FOR SELECT
  USING (ecl.check('doc_gate', owner, NULL, jsonb_build_object('id', id, 'level', level)));
CREATE ROLE reader LOGIN;
CREATE ROLE other LOGIN;
GRANT SELECT ON docs TO reader, other;
GRANT EXECUTE ON FUNCTION ecl.check(text, text, text, jsonb) TO reader, other;
ALTER ROLE reader SET ecl.decision_log = 'all';
ALTER ROLE reader SET ecl.decision_log_inputs = on;
});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# ---------------------------------------------------------------- primary
is($primary->safe_psql('postgres', 'SELECT count(*) FROM docs', extra_params => ['-U', 'reader']),
	'6', 'primary: the RLS SELECT shows the 6 rows the policy lets through');
ok($primary->poll_query_until('postgres',
		"SELECT count(*) = 10 FROM ecl.decision_log WHERE policy = 'doc_gate'"),
	'primary: the 10 decisions of the SELECT reach ecl.decision_log');
is($primary->safe_psql('postgres', q{
	SELECT string_agg(format('%s:%s:%s', input->>'id', passed, coalesce(message, '-')), ' ' ORDER BY (input->>'id')::int)
	  FROM ecl.decision_log WHERE policy = 'doc_gate' AND role = 'reader'}),
	'1:t:- 2:t:- 3:f:too secret 4:f:too secret 5:t:- 6:t:- 7:t:- 8:f:too secret 9:f:too secret 10:t:-',
	'primary: each row\'s decision, with the reason of each denial');
is($primary->safe_psql('postgres', q{
	SELECT decisions_logged || ' ' || decisions_dropped FROM ecl.stat_eclvm WHERE datname = 'postgres'}),
	'10 0', 'primary: 10 decisions counted as logged');

$primary->wait_for_catchup($standby, 'replay');

# ---------------------------------------------------------------- standby
is($standby->safe_psql('postgres', 'SELECT count(*) FROM docs', extra_params => ['-U', 'reader']),
	'6', 'standby: the same RLS SELECT decides alike');
is($standby->safe_psql('postgres', q{
	SELECT string_agg(format('%s:%s', input->>'id', passed), ' ' ORDER BY (input->>'id')::int)
	  FROM ecl.recent_decisions WHERE policy = 'doc_gate'}, extra_params => ['-U', 'reader']),
	'1:t 2:t 3:f 4:f 5:t 6:t 7:t 8:f 9:f 10:t',
	'standby: the role sees its 10 decisions in ecl.recent_decisions');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM ecl.recent_decisions',
		extra_params => ['-U', 'other']),
	'0', 'standby: another plain role sees none of them');
is($standby->safe_psql('postgres', q{
	SELECT count(*) FROM ecl.recent_decisions WHERE role = 'reader' AND datname = 'postgres'}),
	'10', 'standby: a superuser sees them all');

# give a launcher that should not exist time to write, then look
sleep(1);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM ecl.recent_decisions'),
	'10', 'standby: the queue keeps the decisions (nothing takes them out)');
is($standby->safe_psql('postgres', q{
	SELECT decisions_logged FROM ecl.stat_eclvm WHERE datname = 'postgres'}),
	'0', 'standby: nothing counted as logged');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM ecl.decision_log'),
	'10', 'primary: the standby\'s decisions were not written anywhere');
$primary->wait_for_catchup($standby, 'replay');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM ecl.decision_log'),
	'10', 'standby: its ecl.decision_log is the primary\'s');

$standby->stop;
$primary->stop;
done_testing();
