# ecl.rate_limit needs the mana accounts in shared memory, which exist only
# when the server loads ecl through shared_preload_libraries.
#
# Without the preload:
#   - SET, ALTER SYSTEM and ALTER ROLE ... SET ecl.rate_limit = on are
#     refused with SQLSTATE 55000 and a hint, in a session that has loaded
#     the library (before that, PostgreSQL knows the name only as a
#     placeholder and cannot check it);
#   - a placeholder set to on before the library loads is refused with a
#     WARNING when it loads, and stays off;
#   - ecl.rate_limit = on in postgresql.conf does not stop the server or a
#     backend from starting, also with ecl in session_preload_libraries: the
#     value is refused with a WARNING where the library loads, and
#     SHOW says off, so nothing claims to limit what it does not.
# With the preload, the same line in postgresql.conf is accepted while the
# postmaster loads the library (before shared memory exists) and limits.
#
# Run as a non-root user (initdb refuses root): see test/tap.sh.
# ECL_TEST_EXTENSION names the extension/library (default ecl).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $ext = $ENV{ECL_TEST_EXTENSION} // 'ecl';
my @verbose = (extra_params => [ '-v', 'VERBOSITY=verbose' ]);

# ------------------------------------------------------- without the preload
my $plain = PostgreSQL::Test::Cluster->new('rl_no_preload');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', "CREATE EXTENSION $ext; CREATE ROLE rl_app LOGIN");

my ($rc, $out, $err) = $plain->psql('postgres',
	"LOAD '$ext'; SET ecl.rate_limit = on;", @verbose);
isnt($rc, 0, 'SET ecl.rate_limit = on fails without the preload');
like($err, qr/ERROR:  55000: ecl.rate_limit cannot be turned on: ecl is not in shared_preload_libraries/,
	'... with SQLSTATE 55000 and the reason');
like($err, qr/HINT:  Add ecl to shared_preload_libraries and restart the server/, '... and a hint');

($rc, $out, $err) = $plain->psql('postgres',
	"LOAD '$ext'; SET ecl.rate_limit = off; SHOW ecl.rate_limit;");
is($rc, 0, 'SET ecl.rate_limit = off is accepted');

($rc, $out, $err) = $plain->psql('postgres',
	"LOAD '$ext'; ALTER SYSTEM SET ecl.rate_limit = on;", @verbose);
like($err, qr/ERROR:  55000: ecl.rate_limit cannot be turned on/, 'ALTER SYSTEM is refused with 55000');
($rc, $out, $err) = $plain->psql('postgres',
	"LOAD '$ext'; ALTER ROLE rl_app SET ecl.rate_limit = on;", @verbose);
like($err, qr/ERROR:  55000: ecl.rate_limit cannot be turned on/, 'ALTER ROLE SET is refused with 55000');
($rc, $out, $err) = $plain->psql('postgres',
	"LOAD '$ext'; SET ecl.rate_limit TO DEFAULT; SELECT set_config('ecl.rate_limit', 'on', false);", @verbose);
like($err, qr/ERROR:  55000/, 'set_config is refused with 55000');

# set before the library is loaded: a placeholder, refused when it loads
($rc, $out, $err) = $plain->psql('postgres',
	"SET ecl.rate_limit = on; SELECT ecl.current_did() IS NULL; SHOW ecl.rate_limit;");
is($rc, 0, 'a placeholder set before loading does not fail the session');
like($err, qr/WARNING:  ecl.rate_limit cannot be turned on/, '... it is refused with a WARNING on load');
like($out, qr/\boff$/, '... and stays off');

# postgresql.conf: the server and its backends still start
$plain->append_conf('postgresql.conf', 'ecl.rate_limit = on');
$plain->restart;
is($plain->safe_psql('postgres', 'SELECT 1'), '1', 'the server starts with ecl.rate_limit = on in postgresql.conf');
($rc, $out, $err) = $plain->psql('postgres',
	"SELECT (ecl.eval('return 6 * 7'))::text; SHOW ecl.rate_limit;");
is($rc, 0, 'a backend loads the library and runs policies');
is($out, "42\noff", '... and ecl.rate_limit is off there');
like($err, qr/WARNING:  ecl.rate_limit cannot be turned on/, '... with a WARNING saying why');

$plain->append_conf('postgresql.conf', "session_preload_libraries = '$ext'");
$plain->reload;
($rc, $out, $err) = $plain->psql('postgres', 'SHOW ecl.rate_limit', connstr => 'dbname=postgres user=rl_app');
is($rc, 0, 'a backend that loads ecl at start still starts');
is($out, 'off', '... and ecl.rate_limit is off there');
like($plain->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity"), qr/^\d+$/,
	'the server is still up');
$plain->stop;

# ---------------------------------------------------------- with the preload
my $node = PostgreSQL::Test::Cluster->new('rl_preload');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = '$ext'");
$node->append_conf('postgresql.conf', 'ecl.rate_limit = on');
$node->start;
is($node->safe_psql('postgres', 'SHOW ecl.rate_limit'), 'on',
	'with the preload, ecl.rate_limit = on in postgresql.conf is accepted');
$node->safe_psql('postgres', qq{
CREATE EXTENSION $ext;
SELECT ecl.register_policy('rl_p', 'policy rl_p { return trust.r >= 0 }');
SELECT ecl.run_policy('rl_p', 'did:example:rl', NULL);
});
# an account is opened only by a charge
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM ecl.rate_limit_accounts() WHERE did = 'did:example:rl'}),
	'1', '... and a run is charged to the caller\'s account');
($rc, $out, $err) = $node->psql('postgres', 'SET ecl.rate_limit = off; SET ecl.rate_limit = on; SHOW ecl.rate_limit');
is($out, 'on', 'SET ecl.rate_limit = on is accepted with the preload');
$node->stop;

done_testing();
