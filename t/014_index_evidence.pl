# Perl TAP: index usage evidence survives a crash (issue #20, item 1).
# PostgreSQL 15 discards every counter in crash recovery without moving
# pg_stat_database.stats_reset.  analyze_index_usage() must take the crash
# as its statistics epoch, and with snapshots taken before the crash,
# count the scans they saw.
#  1. No snapshots: after kill -9 of a backend, stats_since is the crash
#     and a busy index is not called unused.
#  2. Snapshots before a second crash: the scans they saw still count, and
#     an index never scanned is unused once observed long enough.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = PostgreSQL::Test::Cluster->new('evidence');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
search_path = public
restart_after_crash = on
dbopt.timezone = 'UTC'
});
$node->start;
my $started = time;

$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE t (id int PRIMARY KEY, a int, b int);
	INSERT INTO t SELECT g, g % 100, g % 50 FROM generate_series(1, 5000) g;
	CREATE INDEX t_a ON t (a);
	CREATE INDEX t_b ON t (b);
	ANALYZE t;
});

# Scans of t_a, flushed to the shared statistics.
sub use_t_a
{
	$node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET enable_bitmapscan = off;
		SELECT count(*) FROM t WHERE a = 5;
		SELECT count(*) FROM t WHERE a = 6;
		SELECT pg_stat_force_next_flush();
	});
}

# kill -9 of a backend; returns once the server accepts connections again.
sub crash
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	my $before = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
	kill 'KILL', $pid;
	eval { $bg->quit; };
	$node->poll_query_until('postgres', 'SELECT true') or die 'no restart after the crash';
	return $before;
}

sub row
{
	my ($idx, $age) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce(array_to_string(findings, ','), '') || '|' || scans_observed || '|'
		       || (stats_since >= (SELECT stats_since FROM dbopt.stats_epoch())) || '|'
		       || coalesce(confidence, '')
		  FROM dbopt.analyze_index_usage('public', '$age') WHERE indexname = '$idx'});
}

# ---------- 1. no snapshots ----------
use_t_a();
my $scans = $node->safe_psql('postgres', q{SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 't_a'});
ok($scans >= 2, "t_a was scanned before the crash ($scans)");
# The old verdict read statistics as old as the server: let it be 6 s old.
sleep(0.2) while time - $started < 6;
my $crash1 = crash();

is($node->safe_psql('postgres', q{SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 't_a'}),
	'0', 'crash recovery discarded the counters');
is($node->safe_psql('postgres', qq{SELECT stats_since >= '$crash1' FROM dbopt.stats_epoch()}),
	't', 'stats_epoch() moved to the crash');
like($node->safe_psql('postgres', q{SELECT source FROM dbopt.stats_epoch()}),
	qr/crash recovery/, 'and says the crash is the likely cause');
is($node->safe_psql('postgres', qq{
	SELECT bool_and(stats_since >= '$crash1') FROM dbopt.analyze_index_usage('public', '1 second')}),
	't', 'analyze_index_usage() counts statistics from the crash, not from the start');
# Busy before the crash: with min_stats_age under the server's age but over
# the time since the crash, t_a is not unused.
my ($since_crash) = $node->safe_psql('postgres',
	q{SELECT extract(epoch FROM now() - stats_since) FROM dbopt.stats_epoch()});
SKIP: {
	skip "the restart took ${since_crash}s: too slow to judge a 4 s window", 1 if $since_crash >= 4;
	unlike(row('t_a', '4 seconds'), qr/(^|,)unused(,|\|)/,
		'after the crash, a busy index is not called unused (min_stats_age 4 s, server 6 s old)');
}
# Whatever the timing, an unused verdict never claims more than the crash allows.
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM dbopt.analyze_index_usage('public', '1 second')
	 WHERE 'unused' = ANY (findings) AND unused_for > now() - '$crash1'::timestamptz}),
	'0', 'no index is called unused for longer than the time since the crash');

# ---------- 2. snapshots before the crash ----------
use_t_a();
$node->safe_psql('postgres', 'SELECT dbopt.take_snapshot()');
sleep(0.5);
$node->safe_psql('postgres', 'SELECT dbopt.take_snapshot()');
is($node->safe_psql('postgres', q{SELECT scans > 0 FROM dbopt.index_observations WHERE index_name = 'public.t_a'}),
	't', 'the snapshots observed the scans of t_a');
my $crash2 = crash();
sleep(1.2);
my ($findings, $seen, $epoch_ok) = split /\|/, row('t_a', '1 second');
is($findings, '', 'with snapshots from before the crash, t_a is neither unused nor unused_recent_stats');
ok($seen >= 2, "its scans before the crash still count (scans_observed $seen)");
is($epoch_ok, 'true', 'stats_since is the epoch');
# t_b was never scanned: after 1 s of observation past the crash, with
# min_stats_age 1 s, it is unused, and the reasons say what was observed.
my $tb = row('t_b', '1 second');
like($tb, qr/^unused\|0\|true\|(high|medium|low)$/, "t_b, never scanned, is unused ($tb)");
like($node->safe_psql('postgres', q{
	SELECT recommendation FROM dbopt.analyze_index_usage('public', '1 second') WHERE indexname = 't_b'}),
	qr/Confidence \w+: observed .* reset\(s\) or crash\(es\) cut observation windows short/,
	'its confidence names the crash that cut a window short');
# A snapshot after the crash carries the history on.
$node->safe_psql('postgres', 'SELECT dbopt.take_snapshot()');
is($node->safe_psql('postgres', q{SELECT scans >= 2 AND resets >= 1 FROM dbopt.index_observations WHERE index_name = 'public.t_a'}),
	't', 'the next snapshot keeps the scans and counts the reset');
($findings) = split /\|/, row('t_a', '1 second');
is($findings, '', 't_a stays used after the next snapshot');

$node->stop;
done_testing();
