# Perl TAP: dbopt on a hot standby.  Every read-only report (status() and
# each function granted to pg_monitor that takes no argument) runs there
# without error, for a pg_monitor member and for a superuser.  And an
# index used only on a standby is not unused once the standby is registered
# with dbopt.add_standby(): analyze_index_usage() on the primary adds the
# standby's idx_scan, read through dblink; a standby that cannot be reached
# is a problem row, never an error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
dbopt.enable_worker = off
});
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE ROLE monitor LOGIN PASSWORD 'monitor-pw' IN ROLE pg_monitor;
	CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text);
	INSERT INTO t SELECT g, g % 1000, g % 7, md5(g::text) FROM generate_series(1, 20000) g;
	CREATE INDEX t_a ON t (a);          -- used only on the standby
	CREATE INDEX t_b ON t (b);          -- used nowhere
	CREATE TABLE child (id int PRIMARY KEY, t_id int REFERENCES t);
	ANALYZE;
	SELECT dbopt.take_snapshot();
	SELECT count(*) FROM t WHERE c = 'x';
	SELECT dbopt.take_snapshot();
	SELECT dbopt.take_snapshot();
});
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# Every read-only report on the standby: each function granted to
# pg_monitor that takes no argument, and those over snapshots with the
# snapshots' ids.
my $reports = q{
	DO $$
	DECLARE
	    call text;
	    cnt bigint;
	    failed text := '';
	    n int := 0;
	BEGIN
	    FOR call IN SELECT format('SELECT count(*) FROM dbopt.%I()', p.proname) FROM pg_proc p
	              WHERE p.pronamespace = 'dbopt'::regnamespace AND p.prokind = 'f'
	                AND p.pronargs = p.pronargdefaults
	                AND p.prorettype <> 'trigger'::regtype
	                AND has_function_privilege('pg_monitor', p.oid, 'EXECUTE')
	              UNION ALL
	              SELECT unnest(ARRAY[
	                  'SELECT count(*) FROM dbopt.compare_snapshots(1, 3)',
	                  'SELECT count(*) FROM dbopt.snapshot_deltas(1, 3)',
	                  'SELECT count(*) FROM dbopt.snapshot_totals(2)',
	                  'SELECT count(*) FROM dbopt.check_snapshot_window(1, 3)',
	                  'SELECT count(*) FROM dbopt.detect_regressions(1, 2, 2, 3)',
	                  'SELECT length(dbopt.report_html(1, 3))',
	                  $q$SELECT count(*) FROM dbopt.analyze_index_usage(NULL, '0 seconds')$q$,
	                  $q$SELECT count(*) FROM dbopt.schedule_next_run('*/5 * * * *')$q$,
	                  $q$SELECT count(*) FROM dbopt.schedule_interval('1 hour')$q$,
	                  'SELECT count(*) FROM dbopt.registered_standbys',
	                  'SELECT count(*) FROM dbopt.job_status'])
	    LOOP
	        BEGIN
	            EXECUTE call INTO cnt;
	            n := n + 1;
	        EXCEPTION WHEN OTHERS THEN
	            failed := failed || call || ': ' || SQLERRM || '; ';
	        END;
	    END LOOP;
	    RAISE NOTICE 'reports run: %, failed: [%]', n, failed;
	END $$};
for my $user ('monitor', 'the superuser')
{
	my ($rc, $out, $err) = $standby->psql('postgres', $reports,
		extra_params => $user eq 'monitor' ? [ '-U', $user ] : []);
	my ($n, $failed) = $err =~ /reports run: (\d+), failed: \[(.*)\]/s;
	ok(defined $n && $n >= 24, "as $user, the standby ran " . ($n // 'no') . ' reports');
	is($failed, '', "as $user, no report failed on the standby");
}
my $status = $standby->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE severity IS NOT NULL) > 5 FROM dbopt.status()});
is($status, 't', 'status() runs on the standby');

done_testing();
