-- pgTAP: the job scheduler's contract: the tables and view scripts read,
-- the functions and who may call them, the default job, and a schedule
-- check a monitoring query can rely on.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(9);

SELECT is((SELECT string_agg(attname, ', ' ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'dbopt.job_runs'::regclass AND attnum > 0 AND NOT attisdropped AND attnum <= 7),
          'run_id, job_id, started_at, finished_at, status, sqlstate, message',
          'job_runs has the documented columns, in order');
SELECT has_column('dbopt', 'jobs', 'next_run_at', 'jobs keeps the next run');
SELECT has_column('dbopt', 'jobs', 'consecutive_failures', 'jobs keeps consecutive failures');
SELECT has_column('dbopt', 'job_status', 'overdue', 'job_status adds overdue');
SELECT function_returns('dbopt', 'schedule_job',
                        ARRAY['text', 'text', 'text', 'text', 'interval', 'integer', 'boolean'], 'bigint');
SELECT ok(NOT has_function_privilege('pg_monitor', 'dbopt.schedule_job(text, text, text, text, interval, integer, boolean)', 'EXECUTE')
          AND NOT has_function_privilege('pg_monitor', 'dbopt.run_job(text)', 'EXECUTE')
          AND has_table_privilege('pg_monitor', 'dbopt.job_status', 'SELECT'),
          'pg_monitor reads job_status but may not schedule or run jobs');
SELECT is((SELECT string_agg(kind || ' ' || schedule || ' ' || enabled, ', ' ORDER BY job_id) FROM dbopt.jobs WHERE is_default),
          'snapshot 15 minutes true, sql 1 day true',
          'CREATE EXTENSION adds the snapshot job, on since take_snapshot() exists, and the daily run_checks job');
SELECT throws_ok($$SET dbopt.timezone = 'Mars/Olympus_Mons'$$, '22023', NULL,
                 'an unknown dbopt.timezone is refused');
SELECT is(dbopt.schedule_next_run('0 */6 * * *', '2026-01-01 05:59:59+00') AT TIME ZONE 'UTC',
          '2026-01-01 06:00:00'::timestamp, 'a cron step over hours fires at the next multiple')
  FROM (SELECT set_config('dbopt.timezone', 'UTC', true)) s;

SELECT * FROM finish();
ROLLBACK;
