# Perl TAP: CALL dbopt.run_data_retention() seen from a second session.
# Each batch commits on its own, so another session sees old rows go while
# the procedure is still running, and the procedure's transaction start
# moves forward batch by batch.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('retention');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'dbopt, pg_stat_statements'\nsearch_path = public");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE ret (id int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO ret SELECT g, now() - g * interval '1 minute' FROM generate_series(1, 3000) g;
	CREATE INDEX ON ret (at);
	SELECT dbopt.add_retention_policy('ret', 'at', '1 day 1 hour', batch_size => 100);
});
my $old = $node->safe_psql('postgres', q{SELECT count(*) FROM ret WHERE at < now() - interval '1 day 1 hour'});
ok($old > 1000, "$old rows are old enough to go");

my $bg = $node->background_psql('postgres');
$bg->query_until(qr/started/, q{
	SET dbopt.retention_batch_delay = '300ms';
	\echo started
	CALL dbopt.run_data_retention();
	\echo finished
});

my $running = q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%run_data_retention%' AND pid <> pg_backend_pid() AND state = 'active'};
ok($node->poll_query_until('postgres',
	"SELECT count(*) < $old FROM ret WHERE at < now() - interval '1 day 1 hour'"),
	'another session sees old rows go');
is($node->safe_psql('postgres', $running), '1', 'while the procedure is still running');

my $xact1 = $node->safe_psql('postgres',
	q{SELECT xact_start FROM pg_stat_activity WHERE query LIKE '%run_data_retention%' AND pid <> pg_backend_pid()});
ok($node->poll_query_until('postgres',
	qq{SELECT count(*) = 1 AND max(xact_start) > '$xact1' FROM pg_stat_activity
	    WHERE query LIKE '%run_data_retention%' AND pid <> pg_backend_pid()}),
	'the procedure starts a new transaction after each batch');

$bg->quit;
is($node->safe_psql('postgres', q{SELECT count(*) FROM ret WHERE at < now() - interval '1 day 1 hour'}),
	'0', 'every old row is gone once the procedure ends');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ret') + $old, 3000,
	'and only those');
like($node->safe_psql('postgres',
	q{SELECT action || ' ' || rows FROM dbopt.maintenance_log WHERE operation = 'run_data_retention'}),
	qr/^deleted \d+$/, 'the run is in the maintenance log');

$node->stop;
done_testing();
