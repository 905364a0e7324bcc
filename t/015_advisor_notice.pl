# Perl TAP: suggest_indexes()'s closing NOTICE counts, in its detail, the
# statements that min_calls and min_mean_ms left out.  On a cluster of its
# own with the worker off, the count is compared with pg_stat_statements
# read in the same session just before.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('advisor_notice');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'dbopt, pg_stat_statements'
dbopt.enable_worker = off
search_path = public
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE t (id int, k int);
	INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;
});

# Four statements run once each, one run 60 times.
$node->safe_psql('postgres', q{
	SELECT pg_stat_statements_reset();
	SELECT count(*) FROM t WHERE k = 1;
	SELECT count(*) FROM t WHERE k > 1;
	SELECT count(*) FROM t WHERE id < 1;
	SELECT max(k) FROM t;
} . join('', map { "SELECT * FROM t WHERE id = $_;\n" } 1 .. 60));

# Below the thresholds: every statement of this database but those with at
# least 50 calls and a mean of at least 0 ms, counted before the call.  The
# counting statement itself is recorded when it ends, so the call sees one
# more.
my ($rc, $out, $err) = $node->psql('postgres', q{
	SELECT count(*) FROM (SELECT queryid FROM pg_stat_statements
	  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
	  GROUP BY queryid HAVING NOT (sum(calls) >= 50)) s;
	SELECT count(*) FROM dbopt.suggest_indexes(min_mean_ms => 0);
}, extra_params => [ '-v', 'VERBOSITY=default' ]);
is($rc, 0, 'suggest_indexes() runs');
my ($below) = split /\n/, $out;
like($err, qr/NOTICE:  suggest_indexes: 1 statement\(s\) analysed, 0 skipped/, 'the message counts the one statement analysed');
my ($said) = $err =~ /DETAIL:  (\d+) statement\(s\) below min_calls or min_mean_ms were not considered\./;
ok(defined $said, 'the detail counts the statements below the thresholds') or diag($err);
cmp_ok($below, '>=', 4, 'the four single-call statements, at least, were below min_calls');
is($said, $below + 1, 'the count matches pg_stat_statements (plus the counting statement)');

# With thresholds nothing is below, the count is 0.
($rc, $out, $err) = $node->psql('postgres',
	q{SELECT count(*) FROM dbopt.suggest_indexes(min_calls => 0, min_mean_ms => 0)},
	extra_params => [ '-v', 'VERBOSITY=default' ]);
like($err, qr/DETAIL:  0 statement\(s\) below min_calls or min_mean_ms were not considered\./,
	'with min_calls and min_mean_ms 0, no statement is below them');

$node->stop;
done_testing();
