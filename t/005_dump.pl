# Perl TAP: dbopt's configuration survives pg_dump and restore.  Policies,
# registrations, suppressions and user jobs come back; the default job is
# made once, by CREATE EXTENSION, not a second time from the dump.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'dbopt, pg_stat_statements'\nsearch_path = public\ndbopt.enable_worker = off");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE "ev ""q"";" (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
	CREATE TABLE ev_2001 PARTITION OF "ev ""q"";" FOR VALUES FROM ('2001-01-01') TO ('2002-01-01');
	CREATE TABLE logs (at timestamptz NOT NULL);
	CREATE MATERIALIZED VIEW mv AS SELECT count(*) FROM logs;
	SELECT dbopt.manage_partitions('"ev ""q"";"', '1 month', 2, '12 months');
	SELECT dbopt.add_retention_policy('logs', 'at', '30 days', 'archive');
	SELECT dbopt.suppress('companion_extension', 'pg_cron', 'we use the dbopt worker');
	SELECT dbopt.schedule_job('nightly', 'integrity_check', '0 3 * * *');
	SELECT dbopt.set_refresh_schedule('mv', '*/30 * * * *');
	SELECT dbopt.alter_job('dbopt snapshot', schedule => '5 minutes');
});
my $state = q{
	SELECT (SELECT string_agg(parent::text || ' ' || partition_interval || ' ' || retention, ',') FROM dbopt.partition_config),
	       (SELECT string_agg(relation::text || ' ' || keep || ' ' || mode || ' ' || archive_table::text, ',') FROM dbopt.retention_policies),
	       (SELECT string_agg(check_name || ' ' || object_name, ',') FROM dbopt.suppressions),
	       (SELECT string_agg(job_name || ' ' || schedule, ',' ORDER BY job_id) FROM dbopt.jobs WHERE NOT is_default),
	       (SELECT count(*) FROM dbopt.jobs WHERE is_default)};
my $before = $node->safe_psql('postgres', $state);

my $dump = $node->basedir . '/dump.sql';
command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump succeeds');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
	'the dump restores without errors');
is($node->safe_psql('restored', $state), $before,
	'registrations, policies, suppressions and user jobs come back; the default job exists once');
is($node->safe_psql('restored', q{SELECT string_agg(job_name || ': ' || schedule, ', ' ORDER BY job_id) FROM dbopt.jobs WHERE is_default}),
	'dbopt snapshot: 15 minutes, dbopt run_checks: 1 day',
	'the default jobs are the ones CREATE EXTENSION makes');
my $id = $node->safe_psql('restored', q{SELECT dbopt.schedule_job('after restore', 'sql', '1 hour', 'SELECT 1')});
cmp_ok($id, '>', $node->safe_psql('restored', q{SELECT max(job_id) FROM dbopt.jobs WHERE job_name <> 'after restore'}),
	'new jobs get ids after the restored ones');

$node->stop;
done_testing();
