-- Job schedules (intervals and cron fields, checked against the next-run
-- times they must give), the job registry, run_job() outcomes, refresh
-- schedules, and who may change or run a job.
CREATE SCHEMA "job ""s"";";
SET search_path = "job ""s"";", public;
SET dbopt.timezone = 'UTC';

-- From Saturday 2026-11-21 10:07:30 UTC.
SELECT s AS schedule, dbopt.schedule_next_run(s, '2026-11-21 10:07:30+00') AT TIME ZONE 'UTC' AS next_run
  FROM unnest(ARRAY[
    '*/15 * * * *',          -- step over all minutes
    '0 * * * *',             -- every hour
    '30 2 * * *',            -- every day at 02:30: tomorrow
    '7 10 * * *',            -- 10:07 today has passed by 30 s: tomorrow
    '0 0 1 * *',             -- first of the month
    '0 9 * * MON-FRI',       -- weekdays by name, from a Saturday
    '0 9 * * 1-5',           -- the same by number
    '5,10,50 8-10/2 * * *',  -- lists, ranges with steps
    '0 0 13 * 5',            -- both day fields restricted: the 13th or a Friday
    '0 0 13 * *',            -- only the 13th
    '0 0 * * 5',             -- only Fridays
    '0 0 29 2 *',            -- 29 February: 2028
    '0 12 * * 7',            -- 7 is Sunday too
    '0 0 * JAN,jul *',       -- month names, any case
    '15 14 1 * *',
    '@daily', '@hourly', '@weekly', '@monthly', '@yearly',
    '30 seconds', '1 hour', '1 day 2 hours 30 minutes']) s;

-- Cron fields are wall-clock times in dbopt.timezone: across the spring DST
-- change 02:30 does not exist and fires an hour later on the clock; in the
-- repeated autumn hour 01:30 fires once.
SET dbopt.timezone = 'America/New_York';
SELECT dbopt.schedule_next_run('30 2 * * *', '2027-03-13 12:00-05') AT TIME ZONE 'America/New_York' AS spring,
       dbopt.schedule_next_run('30 1 * * *', '2026-11-01 01:40-04') AT TIME ZONE 'America/New_York' AS autumn,
       dbopt.schedule_next_run('0 9 * * *', '2026-11-21 10:00+00') AT TIME ZONE 'UTC' AS nine_in_new_york;
RESET dbopt.timezone;
SET dbopt.timezone = 'UTC';
SELECT dbopt.schedule_interval('*/15 * * * *'), dbopt.schedule_interval('0 3 * * *'), dbopt.schedule_interval('90 minutes');

-- Invalid schedules say what is wrong.
SELECT dbopt.schedule_next_run('61 * * * *');
SELECT dbopt.schedule_next_run('* * *');
SELECT dbopt.schedule_next_run('* * * * * *');
SELECT dbopt.schedule_next_run('*/0 * * * *');
SELECT dbopt.schedule_next_run('5-1 * * * *');
SELECT dbopt.schedule_next_run('0 0 * FOO *');
SELECT dbopt.schedule_next_run('0 0 32 * *');
SELECT dbopt.schedule_next_run('0 0 30 2 *');
SELECT dbopt.schedule_next_run('abc');
SELECT dbopt.schedule_next_run('0 seconds');
SELECT dbopt.schedule_next_run('-1 hour');
SELECT dbopt.schedule_next_run('@sometimes');
\echo :LAST_ERROR_SQLSTATE

-- The registry.  CREATE EXTENSION made the default snapshot job (on since 0.7).
SELECT job_name, kind, schedule, enabled, is_default, run_as::oid = (SELECT extowner FROM pg_extension WHERE extname = 'dbopt') AS runs_as_owner
  FROM dbopt.jobs;
CREATE TABLE "t;" (x int);
SELECT dbopt.schedule_job('ins "1"', 'sql', '1 hour', 'INSERT INTO "job ""s"";"."t;" VALUES (1)') > 0 AS scheduled;
SELECT dbopt.schedule_job('bad', 'sql', '*/5 * * * *', 'SELECT 1 / 0', max_retries => 2) > 0 AS scheduled;
SELECT dbopt.schedule_job('slow', 'sql', '1 day', 'SELECT pg_sleep(5)', max_runtime => '1 second') > 0 AS scheduled;
SELECT job_name, kind, schedule, command, max_runtime, max_retries, enabled,
       next_run_at > now() AS next_run_later, consecutive_failures
  FROM dbopt.jobs WHERE NOT is_default ORDER BY job_id;
-- Bad input.
SELECT dbopt.schedule_job('bad', 'sql', '1 hour', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.schedule_job('x', 'vacuum', '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.schedule_job('x', 'sql', '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.schedule_job('x', 'retention', '1 hour', 'DELETE FROM t');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.schedule_job('x', 'refresh_materialized_views', '1 hour', '"t;"');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.schedule_job('x', 'retention', '1 hour', max_runtime => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.schedule_job('x', 'retention', '1 hour', max_retries => -1);
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.schedule_job('x', 'retention', '99 * * * *');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.schedule_job('', 'retention', '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.alter_job('nope', enabled => false);
\echo :LAST_ERROR_SQLSTATE

-- run_job(): every outcome is recorded, in dbopt.job_runs and on the job.
SELECT status, sqlstate, message, finished_at >= started_at AS finished FROM dbopt.run_job('ins "1"');
SELECT status, sqlstate, message FROM dbopt.run_job('bad');
SELECT status, sqlstate, message, finished_at - started_at >= '1 second' AS waited FROM dbopt.run_job('slow');
SELECT status, sqlstate, regexp_replace(message, '[0-9]+', 'N', 'g') AS message FROM dbopt.run_job('dbopt snapshot');
SELECT count(*) AS inserted FROM "t;";
SELECT j.job_name, r.status, r.sqlstate FROM dbopt.job_runs r JOIN dbopt.jobs j USING (job_id) ORDER BY r.run_id;
SELECT job_name, last_status, consecutive_failures, last_success_at IS NOT NULL AS succeeded_once,
       schedule_interval, overdue
  FROM dbopt.job_status ORDER BY job_id;
SELECT status FROM dbopt.run_job('nope');
\echo :LAST_ERROR_SQLSTATE

-- alter_job(): NULL keeps a setting; a new schedule restarts the count.
SELECT job_name, schedule, enabled, max_retries, consecutive_failures
  FROM dbopt.alter_job('bad', enabled => false);
SELECT job_name, schedule, enabled, consecutive_failures,
       next_run_at = dbopt.schedule_next_run('0 4 * * *', now()) AS next_from_new_schedule
  FROM dbopt.alter_job('bad', schedule => '0 4 * * *');
SELECT dbopt.unschedule_job('bad');
SELECT dbopt.unschedule_job('bad');
SELECT count(*) AS runs_left_of_bad FROM dbopt.job_runs r WHERE NOT EXISTS (SELECT FROM dbopt.jobs j WHERE j.job_id = r.job_id);

-- One view's refresh schedule, shown in matview_freshness.
CREATE MATERIALIZED VIEW "mv;" AS SELECT count(*) AS n FROM "t;";
SELECT dbopt.set_refresh_schedule('"mv;"', '*/30 * * * *') > 0 AS scheduled;
SELECT job_name, kind, command, schedule FROM dbopt.jobs WHERE kind = 'refresh_materialized_views';
SELECT matview, schedule, overdue FROM dbopt.matview_freshness WHERE matview = '"mv;"'::regclass;
SELECT status, message FROM dbopt.run_job('refresh "job ""s"";"."mv;"');
SELECT matview, schedule, overdue, last_status FROM dbopt.matview_freshness WHERE matview = '"mv;"'::regclass;
SELECT dbopt.set_refresh_schedule('"mv;"', '1 hour') > 0 AS rescheduled;
SELECT schedule FROM dbopt.jobs WHERE kind = 'refresh_materialized_views';
SELECT dbopt.set_refresh_schedule('"mv;"', NULL);
SELECT count(*) AS refresh_jobs FROM dbopt.jobs WHERE kind = 'refresh_materialized_views';
SELECT dbopt.set_refresh_schedule('"t;"', '1 hour');
\echo :LAST_ERROR_SQLSTATE

-- A job runs as the role that scheduled it; another role may not change or run it.
CREATE ROLE regress_job_user;
GRANT USAGE ON SCHEMA dbopt TO regress_job_user;
GRANT EXECUTE ON FUNCTION dbopt.alter_job(text, text, text, interval, integer, boolean),
    dbopt.run_job(text), dbopt.unschedule_job(text) TO regress_job_user;
SET ROLE regress_job_user;
SELECT dbopt.alter_job('slow', enabled => false);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.run_job('slow');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.unschedule_job('slow');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.jobs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE ALL ON FUNCTION dbopt.alter_job(text, text, text, interval, integer, boolean),
    dbopt.run_job(text), dbopt.unschedule_job(text) FROM regress_job_user;
REVOKE USAGE ON SCHEMA dbopt FROM regress_job_user;
DROP ROLE regress_job_user;

RESET search_path;
RESET dbopt.timezone;
DELETE FROM dbopt.jobs WHERE NOT is_default;
UPDATE dbopt.jobs SET last_run_at = NULL, last_status = NULL, last_success_at = NULL, consecutive_failures = 0;
DELETE FROM dbopt.job_runs;
SELECT dbopt.purge_snapshots('0') >= 1 AS purged;
DELETE FROM dbopt.matview_refreshes;
DELETE FROM dbopt.maintenance_log;
SET client_min_messages = warning;
DROP SCHEMA "job ""s"";" CASCADE;
RESET client_min_messages;
