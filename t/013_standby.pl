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
	CREATE TABLE p (k int, a int) PARTITION BY RANGE (k);
	CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10000);
	CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10000) TO (20000);
	INSERT INTO p SELECT g, g % 100 FROM generate_series(0, 19999) g;
	CREATE INDEX p_a ON p (a);          -- partitioned, used only on the standby
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


# ---- An index used only on the standby ----
$primary->safe_psql('postgres', 'CREATE EXTENSION dblink');
$primary->wait_for_catchup($standby);
like($standby->safe_psql('postgres', q{SET enable_seqscan = off; EXPLAIN SELECT count(*) FROM t WHERE a = 5}),
	qr/t_a/, 'the standby plans with t_a');
$standby->safe_psql('postgres', q{SET enable_seqscan = off; SELECT count(*) FROM t WHERE a = 5}) for 1 .. 3;
$standby->safe_psql('postgres', q{SET enable_seqscan = off; SELECT count(*) FROM p WHERE k = 5 AND a = 5});
ok($standby->poll_query_until('postgres',
		q{SELECT idx_scan >= 3 FROM pg_stat_user_indexes WHERE indexrelname = 't_a'}),
	'the standby counted the scans of t_a');
is($primary->safe_psql('postgres', q{SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 't_a'}),
	'0', 'the primary never scanned t_a');

sub verdict
{
	my ($index, $user) = @_;
	return $primary->safe_psql('postgres', qq{
		SELECT array_to_string(findings, ',') || '|' || coalesce(recommendation, '')
		  FROM dbopt.analyze_index_usage(min_stats_age => '0 seconds') WHERE indexname = '$index'},
		extra_params => $user ? [ '-U', $user ] : []);
}
sub usage
{
	my ($user) = @_;
	return $primary->safe_psql('postgres', q{
		SELECT coalesce(standby, '-') || '|' || coalesce(indexname, '-') || '|' || coalesce(idx_scan::text, '-')
		       || '|' || (stats_epoch IS NOT NULL) || '|' || coalesce(problem, '-')
		  FROM dbopt.standby_index_usage() WHERE indexname IS NULL OR indexname = 't_a' ORDER BY 1},
		extra_params => $user ? [ '-U', $user ] : []);
}

like(verdict('t_a'), qr/^unused\|/, 'not registered: t_a is called unused on the primary');
like(verdict('p_a'), qr/^unused\|/, 'and so is p_a');
like(usage(), qr/^standby\|-\|-\|false\|streams from this server but is not registered \(walsender pid \d+\)/,
	'standby_index_usage() names the walsender that is not registered');
like(verdict('t_a'), qr/Scans on standbys may be missing: standby standby: streams from this server but is not registered/,
	'and the unused verdict says scans on standbys may be missing');

my $connstr = $standby->connstr('postgres');
$primary->safe_psql('postgres', "SELECT dbopt.add_standby('standby', \$\$$connstr\$\$)");
like(usage(), qr/^standby\|t_a\|([3-9]|\d\d+)\|true\|-$/,
	'registered: standby_index_usage() reads idx_scan of t_a and the epoch from the standby');
like(verdict('t_a'), qr/^\|Scanned only on standbys \(\d+ scans there\); keep it\.$/,
	'analyze_index_usage() no longer calls t_a unused, and says why');
like(verdict('t_b'), qr/^unused\|Not scanned/, 'an index used nowhere still is');
like(verdict('p_a'), qr/^\|Scanned only on standbys \(1 scans there\)/,
	'a partitioned index counts the scans of its partitions on the standby');
unlike(verdict('t_b'), qr/Scans on standbys may be missing/, 'with nothing missing from the standbys');

# A pg_monitor member: dblink wants a password from a non-superuser.
like(usage('monitor'), qr/^standby\|-\|-\|false\|password is required/,
	'for a pg_monitor member without a password in conninfo, the problem is dblink\'s');
like(verdict('t_a', 'monitor'), qr/^unused\|.*Scans on standbys may be missing: standby standby: password is required/,
	'and analyze_index_usage() says the standby could not be read');
my ($rc, $out, $err) = $primary->psql('postgres', 'SELECT conninfo FROM dbopt.standbys', extra_params => [ '-U', 'monitor' ]);
like($err, qr/permission denied for table standbys/, 'pg_monitor cannot read the connection strings');
is($primary->safe_psql('postgres', 'SELECT string_agg(name, \',\') FROM dbopt.registered_standbys',
		extra_params => [ '-U', 'monitor' ]), 'standby', 'but sees the registered names');

# Registered, but not reachable, or not a standby of this server.
$primary->safe_psql('postgres', q{SELECT dbopt.add_standby('gone', 'host=/nonexistent port=1 dbname=postgres')});
my $gone = $primary->safe_psql('postgres', q{SELECT problem FROM dbopt.standby_index_usage() WHERE standby = 'gone'});
like($gone, qr/^could not establish connection/, 'an unreachable standby is one row with the problem');
like(verdict('t_a'), qr/^\|Scanned only on standbys/, 'the reachable standby still counts');
like(verdict('t_b'), qr/Scans on standbys may be missing: standby gone: could not establish connection/,
	'and the unused verdict mentions the one that could not be read');
$primary->safe_psql('postgres', q{SELECT dbopt.remove_standby('gone')});
# For a pg_monitor member the failure is said without the address, which
# only the extension owner may read; the server log has it.
$primary->safe_psql('postgres', q{SELECT dbopt.add_standby('gone2', 'host=/nonexistent port=1 dbname=postgres password=x')});
my $gone2 = $primary->safe_psql('postgres', q{SELECT problem FROM dbopt.standby_index_usage() WHERE standby = 'gone2'},
	extra_params => [ '-U', 'monitor' ]);
like($gone2, qr/^could not connect \(08001\)/, 'a pg_monitor member is told the standby could not be reached');
unlike($gone2, qr/nonexistent|port/, 'without the address from the conninfo');
$primary->safe_psql('postgres', q{SELECT dbopt.remove_standby('gone2')});
my $pconn = $primary->connstr('postgres');
my $sconn_t1 = $standby->connstr('template1');
$primary->safe_psql('postgres', qq{
	SELECT dbopt.add_standby('self', \$\$$pconn\$\$);
	SELECT dbopt.add_standby('otherdb', \$\$$sconn_t1\$\$)});
my $refused = $primary->safe_psql('postgres', q{
	SELECT string_agg(standby || ': ' || problem, E'\n' ORDER BY standby) FROM dbopt.standby_index_usage()
	 WHERE problem IS NOT NULL});
$primary->safe_psql('postgres', q{SELECT dbopt.remove_standby('self'); SELECT dbopt.remove_standby('otherdb')});
is($refused,
	qq{otherdb: the connection string leads to database template1, not postgres: add dbname to it
self: it is not in recovery (this server itself, or a promoted standby), so its scans are not counted},
	'a connection to another database or to the primary itself is refused, not counted');

# Without dblink.
$primary->safe_psql('postgres', 'DROP EXTENSION dblink');
like(usage(), qr/^standby\|-\|-\|false\|neither dblink nor postgres_fdw is installed .*: CREATE EXTENSION dblink$/,
	'without dblink, each standby is a row saying how to fix it');
like(verdict('t_a'), qr/^unused\|.*Scans on standbys may be missing: standby standby: neither dblink/,
	'and analyze_index_usage() works and says so');
$primary->safe_psql('postgres', 'CREATE EXTENSION dblink');

# Unregistered again: t_a is unused.
$primary->safe_psql('postgres', q{SELECT dbopt.remove_standby('standby')});
like(verdict('t_a'), qr/^unused\|/, 'after remove_standby() t_a is unused again');

# Bad arguments.
for my $case (
	[ q{dbopt.add_standby(NULL, 'host=x')}, qr/standby name must not be null/ ],
	[ q{dbopt.add_standby('', 'host=x')}, qr/standby name must not be empty/ ],
	[ q{dbopt.add_standby(' ', 'host=x')}, qr/standby name must not be empty/ ],
	[ q{dbopt.add_standby(repeat('x', 64), 'host=x')}, qr/standby name is longer than 63 bytes/ ],
	[ q{dbopt.add_standby('s', NULL)}, qr/conninfo must not be null/ ],
	[ q{dbopt.add_standby('s', E' \t')}, qr/conninfo must not be empty/ ],
	[ q{dbopt.add_standby('s', repeat('x', 5000))}, qr/conninfo is longer than 4096 bytes/ ],
	[ q{dbopt.remove_standby(NULL)}, qr/standby name must not be null/ ],
	[ q{dbopt.remove_standby('nosuch')}, qr/standby "nosuch" is not registered/ ],
	[ q{dbopt.add_standby('dup', 'host=x'); SELECT dbopt.add_standby(' dup ', 'host=y')},
		qr/standby "dup" is already registered.*\nHINT:  To change its connection string, SELECT dbopt.remove_standby\('dup'\) first/s ])
{
	($rc, $out, $err) = $primary->psql('postgres', "SELECT $case->[0]");
	like($err, $case->[1], "$case->[0] is refused clearly");
}
($rc, $out, $err) = $primary->psql('postgres', q{SELECT dbopt.add_standby('x', 'host=x')}, extra_params => [ '-U', 'monitor' ]);
like($err, qr/permission denied for function add_standby/, 'pg_monitor cannot register a standby');

done_testing();
