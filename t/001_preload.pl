# Perl TAP: dbopt works with and without shared_preload_libraries, and the
# fix_sql that status() prints for a missing preload really fixes it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_stat_statements'");
$node->start;

# Not preloaded: CREATE EXTENSION and every SQL function still work.
$node->safe_psql('postgres', 'CREATE EXTENSION dbopt CASCADE');
my $row = $node->safe_psql('postgres',
	"SELECT severity || '|' || value FROM dbopt.status() WHERE check_name = 'library_preloaded'");
is($row, 'warning|false', 'status reports that dbopt is not preloaded');

my $fix = $node->safe_psql('postgres',
	"SELECT fix_sql FROM dbopt.status() WHERE check_name = 'library_preloaded'");
like($fix, qr/^ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', 'dbopt';/,
	'fix_sql keeps the existing preload list');

# The reserved prefix holds even when the library was loaded on first use.
my ($rc, $out, $err) = $node->psql('postgres',
	"LOAD 'dbopt'; SET dbopt.no_such_setting = 1");
like($err, qr/invalid configuration parameter name "dbopt\.no_such_setting"/,
	'dbopt.* prefix is reserved');

# Run the suggested fix, restart, and the finding turns ok.
$fix =~ s/ -- then restart$//;
$node->safe_psql('postgres', $fix);
$node->restart;
$row = $node->safe_psql('postgres',
	"SELECT severity || '|' || value FROM dbopt.status() WHERE check_name = 'library_preloaded'");
is($row, 'ok|true', 'after the suggested fix and a restart dbopt is preloaded');
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'),
	'pg_stat_statements, dbopt', 'the preload list kept pg_stat_statements');

# pg_stat_statements not preloaded: status says so instead of failing.
$node->safe_psql('postgres', "ALTER SYSTEM SET shared_preload_libraries = 'dbopt'");
$node->restart;
$row = $node->safe_psql('postgres',
	"SELECT severity FROM dbopt.status() WHERE check_name = 'pg_stat_statements_loaded'");
is($row, 'warning', 'status warns when pg_stat_statements is not preloaded');

$node->stop;
done_testing();
