# Perl TAP: the health checks that need more than one server or a broken
# one: replication lag behind a standby whose replay is paused, failing WAL
# archiving, evictions from pg_stat_statements, alerts with NOTIFY, and a
# server without pg_stat_statements (take_snapshot() and health_check()
# carry on and say so), and a crash and restart (checkpoints_requested
# has not enough evidence).
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
dbopt.enable_worker = off
pg_stat_statements.max = 100
pg_stat_statements.track = all
archive_mode = on
archive_command = 'false'
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION dbopt CASCADE');
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

sub finding
{
	my ($node, $check, $settings) = @_;
	return $node->safe_psql('postgres', ($settings // '') . qq{
		SELECT severity || ' ' || coalesce(object_name, '-') FROM dbopt.health_check()
		 WHERE check_name = '$check' ORDER BY 1});
}

# Replication: replay paused on the standby while the primary writes.
like(finding($primary, 'replication_lag'), qr/^ok standby standby$/, 'a caught-up standby is ok');
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
$primary->safe_psql('postgres', 'CREATE TABLE filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, 100000) g');
$primary->safe_psql('postgres', q{ALTER DATABASE postgres SET dbopt.health_replication_lag = '1MB'});
ok( $primary->poll_query_until('postgres', q{
		SELECT count(*) FROM dbopt.health_check()
		 WHERE check_name = 'replication_lag' AND severity = 'warning' AND object_name = 'standby standby'}, '1'),
	'replication_lag reports the standby whose replay is paused');
$primary->safe_psql('postgres', q{ALTER DATABASE postgres RESET dbopt.health_replication_lag});
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
$primary->wait_for_catchup($standby);
ok($primary->poll_query_until('postgres', q{
		SELECT severity FROM dbopt.health_check() WHERE check_name = 'replication_lag'}, 'ok'),
	'and is ok again once it caught up');

# The standby answers too, but cannot NOTIFY.
like(finding($standby, 'xid_wraparound'), qr/^ok /, 'health_check() runs on a standby');
my ($rc, $out, $err) = $standby->psql('postgres', 'SELECT count(*) FROM dbopt.health_check(notify => true)');
like($err, qr/health_check cannot notify on a standby/, 'notify => true on a standby is refused clearly');

# Archiving: archive_command fails, WAL waits.
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
ok($primary->poll_query_until('postgres', 'SELECT failed_count > 0 FROM pg_stat_archiver'), 'the archiver failed');
is(finding($primary, 'archiving_failing'), 'critical -', 'archiving_failing is critical');
is(finding($primary, 'archive_lag', 'SET dbopt.health_archive_lag = 0;'), 'warning -',
	'archive_lag reports WAL waiting past the threshold');
is(finding($primary, 'archive_lag'), 'ok -', 'but not within the default 15 minutes');

# pg_stat_statements.max = 100, and 300 different statements.
$primary->safe_psql('postgres', q{
	DO $$ BEGIN
	  FOR i IN 1..300 LOOP EXECUTE 'SELECT ' || repeat('1, ', i) || '1'; END LOOP;
	END $$});
is(finding($primary, 'pg_stat_statements_full'), 'warning -', 'pg_stat_statements_full reports evictions');
is($primary->safe_psql('postgres', q{
	SELECT fix_sql FROM dbopt.health_check() WHERE check_name = 'pg_stat_statements_full'}),
	'ALTER SYSTEM SET pg_stat_statements.max = 200', 'and suggests a larger pg_stat_statements.max');

# NOTIFY dbopt_alerts: one JSON payload per finding that is not ok.
sub alerts
{
	my ($sql) = @_;
	my $res = $primary->safe_psql('postgres', "LISTEN dbopt_alerts;\n$sql");
	my @payloads = map { decode_json($_) }
	  ($res =~ /^Asynchronous notification "dbopt_alerts" with payload "(.*)" received from server process/mg);
	my ($count) = $res =~ /^(\d+)$/m;
	return ($count, @payloads);
}
my ($count, @alerts) = alerts(q{SELECT count(*) FROM dbopt.health_check(notify => true) WHERE severity <> 'ok'});
ok($count >= 3, "several findings are not ok ($count)");
is(scalar @alerts, $count, 'each is sent as one notification');
my ($arch) = grep { $_->{check_name} eq 'archiving_failing' } @alerts;
ok($arch && $arch->{severity} eq 'critical' && $arch->{database} eq 'postgres'
	  && defined $arch->{value} && $arch->{threshold} == 0 && $arch->{detail} =~ /failures/,
	'a payload carries database, severity, check, detail, value and threshold');
is(scalar(grep { $_->{severity} eq 'ok' } @alerts), 0, 'ok findings are not sent');
($count, @alerts) = alerts(q{SELECT count(*) FROM dbopt.health_check() WHERE severity <> 'ok'});
is(scalar @alerts, 0, 'without notify nothing is sent');
$primary->safe_psql('postgres', q{SELECT dbopt.suppress('archiving_failing', NULL, 'known: archive host is down')});
($count, @alerts) = alerts(q{SELECT count(*) FROM dbopt.health_check(notify => true, include_suppressed => true)
	WHERE check_name = 'archiving_failing'});
is($count, 1, 'a suppressed finding is shown with include_suppressed');
is(scalar(grep { $_->{check_name} eq 'archiving_failing' } @alerts), 0, 'but never sent');
ok(scalar @alerts > 0, 'while the other findings still are');

# A server without pg_stat_statements loaded.
my $bare = PostgreSQL::Test::Cluster->new('bare');
$bare->init;
$bare->append_conf('postgresql.conf', "shared_preload_libraries = 'dbopt'\ndbopt.enable_worker = off");
$bare->start;
$bare->safe_psql('postgres', 'CREATE EXTENSION dbopt CASCADE');
my ($snap, $stderr);
$bare->psql('postgres', 'SELECT dbopt.take_snapshot()', stdout => \$snap, stderr => \$stderr, on_error_die => 1);
like($snap, qr/^\d+$/, 'take_snapshot() works without pg_stat_statements');
my @notices = ($stderr =~ /NOTICE:  take_snapshot: pg_stat_statements is not available/g);
is(scalar @notices, 1, 'and raises one NOTICE');
is($bare->safe_psql('postgres', qq{
	SELECT s.pgss_available, (SELECT count(*) > 0 FROM dbopt.snapshot_databases d WHERE d.snap_id = s.snap_id),
	       (SELECT count(*) FROM dbopt.snapshot_statements t WHERE t.snap_id = s.snap_id),
	       s.server ? 'archiver' AND s.server ? 'activity'
	  FROM dbopt.snapshots s WHERE s.snap_id = $snap}), 'f|t|0|t',
	'it records everything else, and no statements');
is($bare->safe_psql('postgres', q{
	SELECT string_agg(check_name || ' ' || severity, ', ' ORDER BY check_name) FROM dbopt.health_check()
	 WHERE detail LIKE 'pg_stat_statements is not available%'}),
	'pg_stat_statements_full info, slow_queries info', 'health_check() says which checks need pg_stat_statements');

# A crash discards the statistics.  After it, the end of recovery and one
# CHECKPOINT are all the checkpoints counted, every one requested: 100%,
# of too few to mean anything, so not a warning.
$bare->stop('immediate');
$bare->start;
$bare->safe_psql('postgres', 'CHECKPOINT');
is($bare->safe_psql('postgres', 'SELECT checkpoints_timed = 0 AND checkpoints_req > 0 FROM pg_stat_bgwriter'), 't',
	'after the crash every checkpoint counted was requested');
like($bare->safe_psql('postgres', q{
	SELECT severity || '|' || coalesce(value::text, 'no value') || '|' || detail FROM dbopt.health_check()
	 WHERE check_name = 'checkpoints_requested'}),
	qr/^ok\|no value\|not enough evidence: [1-9]\d* checkpoints since statistics were reset at .* \([1-9]\d* requested\), fewer than dbopt.health_checkpoints_min_sample = 20; requested checkpoints include /,
	'checkpoints_requested is ok, with not enough evidence, and says what it counts');

done_testing();
