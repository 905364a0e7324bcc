# Perl TAP: the background worker.  Launcher and scheduler start; a job
# every second runs again and again; a failing job is recorded with its
# SQLSTATE and backs off; max_runtime cancels a job as timed_out; a
# scheduler stopped with SIGTERM comes back and marks its interrupted run
# crashed; a database that gets dbopt after start-up is picked up; a
# settings reload turns the worker off and on.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'dbopt, pg_stat_statements'
search_path = public
max_worker_processes = 20
dbopt.launcher_naptime = '1s'
dbopt.timezone = 'UTC'
dbopt.job_history_retention = '1h'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE ticks (at timestamptz DEFAULT clock_timestamp());
});

ok($node->poll_query_until('postgres',
	q{SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type IN ('dbopt launcher', 'dbopt scheduler')}),
	'the launcher and a scheduler for the database run');

is($node->safe_psql('postgres', q{SELECT severity || ' ' || value FROM dbopt.status() WHERE check_name = 'worker'}),
	'ok running', 'dbopt.status() reports the worker running');

# A job every second.
$node->safe_psql('postgres', q{SELECT dbopt.schedule_job('tick', 'sql', '1 second', 'INSERT INTO ticks DEFAULT VALUES')});
ok($node->poll_query_until('postgres', q{SELECT count(*) >= 3 FROM ticks}), 'a job every second runs several times');
is($node->safe_psql('postgres',
	q{SELECT count(*) FILTER (WHERE status <> 'succeeded') FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id)
	   WHERE j.job_name = 'tick' AND r.status <> 'running'}),
	'0', 'and every run succeeded');
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM dbopt.job_runs WHERE status = 'succeeded'}),
	'>=', 3, 'each run is recorded');

# A failing job: recorded with its SQLSTATE, and retried later and later.
$node->safe_psql('postgres', q{SELECT dbopt.schedule_job('fail', 'sql', '1 second', 'SELECT 1 / 0', max_retries => 3)});
ok($node->poll_query_until('postgres',
	q{SELECT count(*) >= 4 FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'fail'}, 't'),
	'the failing job ran four times');
is($node->safe_psql('postgres',
	q{SELECT DISTINCT status || ' ' || sqlstate FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id)
	   WHERE j.job_name = 'fail' AND status <> 'running'}),
	'failed 22012', 'each failure is recorded with its SQLSTATE');
my ($g1, $g3) = split /\|/, $node->safe_psql('postgres', q{
	SELECT extract(epoch FROM min(gap) FILTER (WHERE n = 2)), extract(epoch FROM min(gap) FILTER (WHERE n = 4))
	  FROM (SELECT row_number() OVER (ORDER BY started_at) AS n,
	               started_at - lag(started_at) OVER (ORDER BY started_at) AS gap
	          FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'fail') s});
cmp_ok($g3, '>=', 3.5, "the retries back off: the third gap is ${g3}s (the first ${g1}s)");
$node->safe_psql('postgres', q{SELECT dbopt.alter_job('fail', enabled => false)});

# max_runtime.
$node->safe_psql('postgres', q{SELECT dbopt.schedule_job('slow', 'sql', '1 hour', 'SELECT pg_sleep(30)', max_runtime => '2 seconds');
	UPDATE dbopt.jobs SET next_run_at = now() WHERE job_name = 'slow'});
ok($node->poll_query_until('postgres',
	q{SELECT status FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'slow' ORDER BY run_id DESC LIMIT 1},
	'timed_out'), 'a job past max_runtime is cancelled and recorded as timed_out');

# A scheduler stopped with SIGTERM leaves its running job alone (it finishes
# and records itself); its successor does not start it twice, and marks it
# crashed within a tick once its worker is gone.
$node->safe_psql('postgres', q{SELECT dbopt.alter_job('tick', enabled => false);
	SELECT dbopt.schedule_job('long', 'sql', '1 hour', 'SELECT pg_sleep(60)');
	UPDATE dbopt.jobs SET next_run_at = now() WHERE job_name = 'long'});
ok($node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'dbopt job' AND query LIKE 'dbopt job long%'}),
	'the long job runs, named in pg_stat_activity');
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{SELECT * FROM dbopt.run_job('long')});
like($stderr, qr/job "long" is running now/, 'run_job() refuses a job that is running: never twice at once');
# A finished run older than dbopt.job_history_retention, for the next scheduler to prune.
$node->safe_psql('postgres', q{INSERT INTO dbopt.job_runs (job_id, started_at, finished_at, status)
	SELECT job_id, now() - interval '3 hours', now() - interval '3 hours', 'succeeded' FROM dbopt.jobs WHERE job_name = 'tick'});
my $sched = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'dbopt scheduler'});
$node->safe_psql('postgres', "SELECT pg_terminate_backend($sched)");
ok($node->poll_query_until('postgres',
	qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'dbopt scheduler' AND pid <> $sched}),
	'the scheduler comes back');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'dbopt job' AND query LIKE 'dbopt job long%'}),
	'1', 'the long job keeps running, once');
$node->safe_psql('postgres',
	q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'dbopt job' AND query LIKE 'dbopt job long%'});
ok($node->poll_query_until('postgres',
	q{SELECT status FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'long' ORDER BY run_id DESC LIMIT 1},
	'crashed'), 'the interrupted run is marked crashed');
is($node->safe_psql('postgres', q{SELECT last_status FROM dbopt.jobs WHERE job_name = 'long'}), 'crashed',
	'and so is the job');
is($node->safe_psql('postgres', q{SELECT count(*) FROM dbopt.job_runs WHERE finished_at < now() - interval '2 hours'}),
	'0', 'history older than dbopt.job_history_retention is pruned');

like($node->safe_psql('postgres', q{SELECT severity || ' ' || value FROM dbopt.status() WHERE check_name = 'worker'}),
	qr/^warning 2 failing/, 'dbopt.status() reports the failing jobs (slow timed out, long crashed)');

# A database that gets dbopt after start-up.
$node->safe_psql('postgres', 'CREATE DATABASE later');
$node->safe_psql('later', q{CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE ticks (at timestamptz DEFAULT clock_timestamp());
	SELECT dbopt.schedule_job('tick', 'sql', '1 second', 'INSERT INTO ticks DEFAULT VALUES')});
ok($node->poll_query_until('later', q{SELECT count(*) >= 2 FROM ticks}),
	'a database where dbopt is created after start-up is picked up');

# A retention job runs the committing procedure: its batches are separate
# transactions, seen here through the xids a statement trigger records.
$node->safe_psql('later', q{
	CREATE TABLE ev (id int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO ev SELECT g, now() - g * interval '1 hour' FROM generate_series(1, 1000) g;
	CREATE INDEX ON ev (at);
	CREATE TABLE xids (x bigint);
	-- Qualified: dbopt fires owners' triggers under search_path = pg_catalog, pg_temp.
	CREATE FUNCTION note_xid() RETURNS trigger LANGUAGE plpgsql AS
	  $$BEGIN INSERT INTO public.xids VALUES (txid_current()); RETURN NULL; END$$;
	CREATE TRIGGER note_xid AFTER DELETE ON ev FOR EACH STATEMENT EXECUTE FUNCTION note_xid();
	SELECT dbopt.add_retention_policy('ev', 'at', '10 days', batch_size => 100);
	SELECT dbopt.schedule_job('retention', 'retention', '1 hour');
	UPDATE dbopt.jobs SET next_run_at = now() WHERE job_name = 'retention'});
ok($node->poll_query_until('later',
	q{SELECT status FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) WHERE j.job_name = 'retention'},
	'succeeded'), 'the retention job succeeds in the worker');
is($node->safe_psql('later', q{SELECT count(*) FROM ev WHERE at < now() - interval '10 days'}), '0',
	'and removed every old row');
cmp_ok($node->safe_psql('later', q{SELECT count(DISTINCT x) FROM xids}), '>=', 7,
	'in one transaction per batch (760 rows, batches of 100)');

# Jobs run as their role, kept by OID: a rename keeps them; a role that
# may not log in gets 'skipped' runs saying why; a dropped role's job is
# disabled with a 'skipped' run, and status() reports both.
$node->safe_psql('later', q{
	CREATE ROLE "job ""owner""" LOGIN;
	CREATE ROLE job_nologin NOLOGIN;
	CREATE TABLE role_ticks (who name DEFAULT current_user, sess name DEFAULT session_user);
	GRANT INSERT ON role_ticks TO PUBLIC;
	GRANT EXECUTE ON FUNCTION dbopt.schedule_job(text, text, text, text, interval, integer, boolean)
	   TO "job ""owner""", job_nologin;
	SET ROLE "job ""owner""";
	SELECT dbopt.schedule_job('as owner', 'sql', '1 second', 'INSERT INTO public.role_ticks DEFAULT VALUES');
	RESET ROLE;
	SET ROLE job_nologin;
	SELECT dbopt.schedule_job('as nologin', 'sql', '1 second', 'INSERT INTO public.role_ticks DEFAULT VALUES');
	RESET ROLE});
ok($node->poll_query_until('later', q{SELECT count(*) >= 1 FROM role_ticks}), 'a job of a LOGIN role runs');
is($node->safe_psql('later', q{SELECT DISTINCT who || ' ' || sess FROM role_ticks}),
	'job "owner" job "owner"', 'connected as its role: current_user and session_user are the role');
$node->safe_psql('later', q{ALTER ROLE "job ""owner""" RENAME TO job_renamed; DELETE FROM role_ticks});
ok($node->poll_query_until('later', q{SELECT count(*) >= 1 FROM role_ticks}), 'after a rename the job still runs');
is($node->safe_psql('later', q{SELECT run_as::text FROM dbopt.jobs WHERE job_name = 'as owner'}),
	'job_renamed', 'and dbopt.jobs names the role by its new name');
$node->safe_psql('later', q{REVOKE CONNECT ON DATABASE later FROM PUBLIC});
ok($node->poll_query_until('later',
	q{SELECT count(*) > 0 FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id)
	   WHERE j.job_name = 'as owner' AND r.status = 'skipped' AND r.message LIKE '%may not connect%'}),
	'a role without CONNECT on the database gets skipped runs saying so');
$node->safe_psql('later', q{GRANT CONNECT ON DATABASE later TO PUBLIC});
ok($node->poll_query_until('later',
	q{SELECT count(*) > 0 FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id)
	   WHERE j.job_name = 'as nologin' AND r.status = 'skipped' AND r.message LIKE '%cannot log in%'}),
	'a NOLOGIN role\'s runs are recorded skipped, with the reason');
is($node->safe_psql('later', q{SELECT count(*) FROM role_ticks WHERE who = 'job_nologin'}), '0', 'and never run');
like($node->safe_psql('later', q{SELECT severity || ' ' || value FROM dbopt.status() WHERE check_name = 'worker'}),
	qr/^warning .* [1-9]\d* skipped$/, 'status() counts the jobs that could not start');
$node->safe_psql('later', q{
	SELECT dbopt.unschedule_job('as nologin');
	REVOKE ALL ON role_ticks FROM job_renamed;
	REVOKE ALL ON FUNCTION dbopt.schedule_job(text, text, text, text, interval, integer, boolean) FROM job_renamed, job_nologin;
	DROP ROLE job_renamed, job_nologin});
ok($node->poll_query_until('later',
	q{SELECT NOT enabled AND last_status = 'skipped' FROM dbopt.jobs WHERE job_name = 'as owner'}),
	'a dropped role\'s job is disabled at the next tick');
like($node->safe_psql('later',
	q{SELECT message FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id)
	   WHERE j.job_name = 'as owner' AND r.status = 'skipped' ORDER BY run_id DESC LIMIT 1}),
	qr/was dropped; the job is disabled/, 'with a skipped run saying why');
$node->safe_psql('later', q{SELECT dbopt.unschedule_job('as owner')});

# Settings reload: off stops the schedulers, on brings them back.
$node->safe_psql('postgres', q{ALTER SYSTEM SET dbopt.enable_worker = off; SELECT pg_reload_conf()});
ok($node->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'dbopt scheduler'}),
	'dbopt.enable_worker = off stops the schedulers on reload');
$node->safe_psql('postgres', q{ALTER SYSTEM SET dbopt.enable_worker = on; SELECT pg_reload_conf()});
ok($node->poll_query_until('postgres',
	q{SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'dbopt scheduler'}),
	'and on starts them again');

# Nothing runs on a standby: the launcher starts only once recovery is over.
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
sleep 3;
is($standby->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'dbopt%'}),
	'0', 'no dbopt worker runs on a standby');
$standby->stop;

$node->stop;
done_testing();
