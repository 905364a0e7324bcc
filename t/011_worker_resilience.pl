# Perl TAP: the worker never loses scheduled work silently and survives
# anything a job, a schedule row or a database setting does (issue #18).
#  1. Too few worker slots (max_worker_processes = 6, four databases with
#     dbopt, a job every second in each): every due run is run or recorded
#     'skipped' with the reason, and status() reports the shortfall.
#  2. A database without dbopt: no dbopt worker ever connects to it; DROP
#     DATABASE, ALTER DATABASE ... RENAME and CREATE DATABASE ... TEMPLATE
#     work without FORCE while the worker runs, with dbopt and without.
#  3. A schedule row corrupted by hand, default_transaction_read_only and a
#     1 ms statement_timeout on the database: the scheduler keeps running
#     and records what failed.
#  4. pg_terminate_backend() and kill -9 of a job worker: 'crashed' within
#     a tick, and the other jobs keep their schedules.
#     A listed database that takes no connections is named in the log.
#  5. Nested time limits: a job's max_runtime still fires after an inner
#     dbopt.check_timeout unit.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = PostgreSQL::Test::Cluster->new('resilience');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
max_worker_processes = 6
search_path = public
restart_after_crash = on
dbopt.launcher_naptime = '1s'
dbopt.max_concurrent_jobs = 4
dbopt.timezone = 'UTC'
});
$node->start;

# The databases exist before dbopt is created in them: the launcher's list
# must come from CREATE EXTENSION, not from looking.
$node->safe_psql('postgres', 'CREATE DATABASE plain');
for my $db (qw(d1 d2 d3 d4)) {
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
		CREATE EXTENSION dbopt CASCADE;
		CREATE TABLE ticks (at timestamptz DEFAULT clock_timestamp());
		SELECT dbopt.schedule_job('tick', 'sql', '1 second', 'INSERT INTO public.ticks DEFAULT VALUES')});
}

# A sampler records every database a dbopt worker is connected to, from now
# on, through a fast sql job in d1 (it reads pg_stat_activity every second).
$node->safe_psql('d1', q{
	CREATE TABLE seen (datname name, backend_type text, at timestamptz DEFAULT clock_timestamp());
	SELECT dbopt.schedule_job('sampler', 'sql', '1 second',
	  $$INSERT INTO public.seen (datname, backend_type)
	    SELECT datname, backend_type FROM pg_stat_activity WHERE backend_type LIKE 'dbopt%'$$)});

# Wait up to 30 s for a line in the server log.
sub poll_log
{
	my ($re) = @_;
	for (1 .. 60)
	{
		return 1 if slurp_file($node->logfile) =~ $re;
		sleep 0.5;
	}
	return 0;
}

# ---------- 1. worker slots ----------
ok($node->poll_query_until('d1',
	q{SELECT count(*) > 0 FROM dbopt.job_runs WHERE status = 'skipped' AND message LIKE 'no background worker slot%'}, 't')
	|| $node->poll_query_until('d2',
	q{SELECT count(*) > 0 FROM dbopt.job_runs WHERE status = 'skipped' AND message LIKE 'no background worker slot%'}, 't'),
	'with too few slots, due runs are recorded skipped with the reason');
sleep 6;
for my $db (qw(d1 d2 d3 d4)) {
	my ($done, $skipped, $gap) = split /\|/, $node->safe_psql($db, q{
		SELECT count(*) FILTER (WHERE status <> 'skipped'), count(*) FILTER (WHERE status = 'skipped'),
		       coalesce(extract(epoch FROM max(g)), 0)::int
		  FROM (SELECT status, started_at - lag(started_at) OVER (ORDER BY started_at) AS g
		          FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'tick') s});
	cmp_ok($done + $skipped, '>=', 5, "$db: its job's due runs are all accounted for ($done run, $skipped skipped)");
	cmp_ok($gap, '<=', 4, "$db: no run went missing silently (longest gap between recorded runs ${gap}s)");
}
my $slots = $node->safe_psql('d1', q{SELECT severity || ' ' || value FROM dbopt.status() WHERE check_name = 'worker_slots'});
like($slots, qr/^(critical|warning) \d+ of -?\d+$/, "status() reports the slot shortfall ($slots)");
like($node->safe_psql('d1', q{SELECT fix_sql FROM dbopt.status() WHERE check_name = 'worker_slots'}),
	qr/ALTER SYSTEM SET max_worker_processes = \d+/, 'with the ALTER SYSTEM that fixes it');
like($node->safe_psql('d1', q{SELECT detail FROM dbopt.status() WHERE check_name = 'jobs_skipped'}),
	qr/no free background worker slot/, 'and the skipped runs by reason');

# The fix_sql, run as given, then the restart it asks for: the shortfall ends.
my $fix = $node->safe_psql('d1', q{SELECT fix_sql FROM dbopt.status() WHERE check_name = 'worker_slots'});
$node->safe_psql('postgres', $fix);
$node->restart;
ok($node->poll_query_until('d1', q{SELECT severity FROM dbopt.status() WHERE check_name = 'worker_slots'}, 'ok'),
	'after its fix_sql and a restart, the slot budget is ok');

# ---------- 2. databases without dbopt, and commands that need a database ----------
$node->safe_psql('d1', 'TRUNCATE seen');
ok($node->poll_query_until('d1', q{SELECT count(*) >= 3 FROM seen}), 'the sampler runs after the restart');
sleep 3;
is($node->safe_psql('d1', q{SELECT count(*) FROM seen WHERE datname NOT IN ('d1', 'd2', 'd3', 'd4') OR datname IS NULL AND backend_type <> 'dbopt launcher'}),
	'0', 'no dbopt worker connects to a database without dbopt');
my $log = slurp_file($node->logfile);
unlike($log, qr/dbopt scheduler for database "plain"/, 'and the log shows no scheduler started there');

for my $cmd ('ALTER DATABASE plain RENAME TO plain2', 'CREATE DATABASE plain3 TEMPLATE plain2', 'DROP DATABASE plain3',
			 'ALTER DATABASE d4 RENAME TO d4x', 'CREATE DATABASE d5 TEMPLATE d4x', 'DROP DATABASE d4x') {
	my ($rc, $out, $err) = $node->psql('postgres', $cmd);
	is($rc, 0, "$cmd succeeds without FORCE while the worker runs") or diag($err);
}
# Only the owner may make a scheduler leave: another role's DROP DATABASE,
# bound to fail, leaves it running.
$node->safe_psql('postgres', 'CREATE ROLE intruder LOGIN CREATEDB');
my $d1_sched = $node->safe_psql('d1', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'dbopt scheduler' AND datname = 'd1'});
for my $cmd ('DROP DATABASE d1', 'ALTER DATABASE d1 RENAME TO stolen', 'CREATE DATABASE stolen TEMPLATE d1') {
	$node->psql('postgres', "SET ROLE intruder; $cmd");
}
is($node->safe_psql('d1', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'dbopt scheduler' AND datname = 'd1'}),
	$d1_sched, 'a non-owner\'s DROP, RENAME or TEMPLATE of a database does not stop its scheduler');
ok($node->poll_query_until('d5',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'dbopt scheduler' AND datname = 'd5'}),
	'a database copied from one with dbopt gets its scheduler');
ok($node->poll_query_until('d3',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'dbopt scheduler' AND datname = 'd3'}),
	'the other databases keep theirs');

# ---------- 3. a corrupted schedule row and hostile database settings ----------
$node->safe_psql('d2', q{UPDATE dbopt.jobs SET schedule = 'every full moon' WHERE job_name = 'tick';
	SELECT dbopt.schedule_job('tock', 'sql', '1 second', 'INSERT INTO public.ticks DEFAULT VALUES')});
ok($node->poll_query_until('d2',
	q{SELECT NOT enabled AND last_status = 'skipped' FROM dbopt.jobs WHERE job_name = 'tick'}, 't'),
	'a job whose schedule cannot be read is disabled, with a skipped run saying why');
$node->safe_psql('d2', 'TRUNCATE ticks');
ok($node->poll_query_until('d2', q{SELECT count(*) >= 2 FROM ticks}), 'and the other jobs of the database go on');

my $before = $node->safe_psql('d3', 'SELECT clock_timestamp()');
$node->safe_psql('postgres', q{ALTER DATABASE d3 SET default_transaction_read_only = on});
$node->safe_psql('postgres', q{ALTER DATABASE d3 SET statement_timeout = '1ms'});
$node->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE backend_type = 'dbopt scheduler' AND datname = 'd3'});
sleep 5;
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'dbopt scheduler' AND datname = 'd3'}),
	'1', 'a read-only database with a 1 ms statement_timeout keeps its scheduler');
$node->safe_psql('postgres', q{ALTER DATABASE d3 RESET default_transaction_read_only; ALTER DATABASE d3 RESET statement_timeout});
cmp_ok($node->safe_psql('d3', qq{SELECT count(*) FROM dbopt.job_runs
	WHERE started_at > '$before' AND status = 'failed' AND sqlstate IN ('25006', '57014')}),
	'>', 0, 'and what failed under those settings, the job\'s own work, is recorded with its SQLSTATE');

# A listed database that stops accepting connections: said in the log, once.
$node->safe_psql('postgres', 'ALTER DATABASE d2 ALLOW_CONNECTIONS false');
ok(poll_log(qr/database "d2" does not accept connections; its dbopt jobs do not run/),
	'a listed database that takes no connections is named in the log');
$node->safe_psql('postgres', 'ALTER DATABASE d2 ALLOW_CONNECTIONS true');

# ---------- 4. a job worker terminated, and one killed ----------
$node->safe_psql('d1', q{SELECT dbopt.schedule_job('slow', 'sql', '1 second', 'SELECT pg_sleep(30)', max_runtime => '1 minute')});
ok($node->poll_query_until('d1', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'dbopt job slow:%'}),
	'a slow job runs');
$node->safe_psql('d1', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'dbopt job slow:%'});
ok($node->poll_query_until('d1',
	q{SELECT count(*) > 0 FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id)
	   WHERE j.job_name = 'slow' AND r.status = 'crashed' AND r.finished_at < r.started_at + interval '10 seconds'}, 't'),
	'a terminated job worker is recorded crashed within a tick');
ok($node->poll_query_until('d1', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'dbopt job slow:%'}),
	'the slow job runs again');
my $pid = $node->safe_psql('d1', q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'dbopt job slow:%'});
kill 'KILL', $pid;
ok($node->poll_query_until('d1', q{SELECT count(*) >= 2 FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id)
	   WHERE j.job_name = 'slow' AND r.status = 'crashed'}, 't'),
	'after kill -9 and the crash restart, that run is recorded crashed');
$node->safe_psql('d1', q{SELECT dbopt.unschedule_job('slow'); TRUNCATE ticks});
ok($node->poll_query_until('d1', q{SELECT count(*) >= 2 FROM ticks}), 'the other jobs keep their schedules');

# ---------- 5. nested time limits ----------
$node->safe_psql('d1', q{SELECT dbopt.schedule_job('nested', 'sql', '1 hour',
	$$SET dbopt.check_timeout = '1s'; SELECT count(*) FROM dbopt.check_data_integrity(); SELECT pg_sleep(30)$$,
	max_runtime => '3 seconds');
	UPDATE dbopt.jobs SET next_run_at = now() WHERE job_name = 'nested'});
ok($node->poll_query_until('d1',
	q{SELECT status <> 'running' FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'nested'}, 't'),
	'the nested job ends');
is($node->safe_psql('d1', q{SELECT status || ' ' || (finished_at - started_at < interval '7 seconds')
	FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'nested'}),
	'timed_out true', 'its max_runtime fired after an inner dbopt.check_timeout unit, by its own limit');

$node->stop;
done_testing();
