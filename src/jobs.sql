-- src/jobs.sql: the job table, its runs and the job functions the worker runs (the SQL of src/jobs.c)

-- Jobs the background worker runs (and dbopt.run_job() runs on demand).
-- A job runs as a role, kept by OID: renaming the role keeps its jobs, and
-- the scheduler disables the jobs of a dropped role (recorded 'skipped').
CREATE TABLE dbopt.jobs (
    job_id               bigserial PRIMARY KEY,
    job_name             text NOT NULL UNIQUE,
    kind                 text NOT NULL CHECK (kind IN ('refresh_materialized_views', 'snapshot', 'retention',
                                                       'partition_maintenance', 'integrity_check', 'sql')),
    schedule             text NOT NULL,
    command              text,
    max_runtime          interval NOT NULL DEFAULT '1 hour' CHECK (max_runtime > '0'::interval),
    max_retries          integer NOT NULL DEFAULT 3 CHECK (max_retries BETWEEN 0 AND 100),
    enabled              boolean NOT NULL DEFAULT true,
    run_as               pg_catalog.regrole NOT NULL,
    next_run_at          timestamptz,
    last_run_at          timestamptz,
    last_success_at      timestamptz,
    last_status          text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    is_default           boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (kind <> 'sql' OR command IS NOT NULL)
);
COMMENT ON TABLE dbopt.jobs IS
    'Scheduled jobs: what, when (interval or cron), limits, the role it runs as, and the state of its runs';
-- The default jobs are made again by CREATE EXTENSION; dump only the others.
SELECT pg_catalog.pg_extension_config_dump('dbopt.jobs', 'WHERE NOT is_default');
SELECT pg_catalog.pg_extension_config_dump('dbopt.jobs_job_id_seq', '');
REVOKE ALL ON dbopt.jobs FROM PUBLIC;
GRANT SELECT ON dbopt.jobs TO pg_monitor;

CREATE TABLE dbopt.job_runs (
    run_id      bigserial PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES dbopt.jobs ON DELETE CASCADE,
    started_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at timestamptz,
    -- skipped: a run that could not start is recorded, not lost
    status      text NOT NULL CONSTRAINT job_runs_status_check
                CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'crashed', 'skipped')),
    sqlstate    text,
    message     text,
    pid         integer   -- the process running it, to tell a dead run from a live one
);
CREATE INDEX ON dbopt.job_runs (job_id, started_at);
-- The scheduler looks for runs whose process is gone at every tick.
CREATE INDEX job_runs_running ON dbopt.job_runs (run_id) WHERE status = 'running';
COMMENT ON TABLE dbopt.job_runs IS
    'One row per job run, written as running before the job starts';
REVOKE ALL ON dbopt.job_runs FROM PUBLIC;
GRANT SELECT ON dbopt.job_runs TO pg_monitor;

CREATE VIEW dbopt.job_status AS
SELECT j.*,
       dbopt.schedule_interval(j.schedule) AS schedule_interval,
       j.enabled AND coalesce(j.last_success_at, j.created_at)
           < pg_catalog.now() - 2 * dbopt.schedule_interval(j.schedule) AS overdue
  FROM dbopt.jobs j;
COMMENT ON VIEW dbopt.job_status IS
    'dbopt.jobs with each schedule''s interval and overdue: an enabled job with no success within twice its interval';
REVOKE ALL ON dbopt.job_status FROM PUBLIC;
GRANT SELECT ON dbopt.job_status TO pg_monitor;

-- The default snapshot job: every 15 minutes, as the extension owner.
INSERT INTO dbopt.jobs (job_name, kind, schedule, enabled, run_as, is_default, next_run_at)
VALUES ('dbopt snapshot', 'snapshot', '15 minutes', true,
        (SELECT e.extowner::pg_catalog.regrole FROM pg_catalog.pg_extension e WHERE e.extname = 'dbopt'),
        true, pg_catalog.now() + interval '15 minutes');

CREATE FUNCTION dbopt.schedule_job(
    job_name text, kind text, schedule text, command text DEFAULT NULL,
    max_runtime interval DEFAULT '01:00:00'::interval, max_retries integer DEFAULT 3,
    enabled boolean DEFAULT true)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_schedule_job'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.schedule_job(text,text,text,text,interval,integer,boolean) IS
    'Schedule a job (refresh_materialized_views, snapshot, retention, partition_maintenance, integrity_check, or sql with a command) on an interval or cron schedule; it runs as the calling role; returns its id';
REVOKE ALL ON FUNCTION dbopt.schedule_job(text,text,text,text,interval,integer,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.alter_job(
    job_name text, schedule text DEFAULT NULL, command text DEFAULT NULL,
    max_runtime interval DEFAULT NULL, max_retries integer DEFAULT NULL,
    enabled boolean DEFAULT NULL)
RETURNS dbopt.jobs
AS 'MODULE_PATHNAME', 'dbopt_alter_job'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.alter_job(text,text,text,interval,integer,boolean) IS
    'Change a job''s schedule, command, limits or enabled flag (NULL leaves a setting as it is); the caller must be the job''s role';
REVOKE ALL ON FUNCTION dbopt.alter_job(text,text,text,interval,integer,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.unschedule_job(job_name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dbopt_unschedule_job'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.unschedule_job(text) IS
    'Remove a job and its run history; true if it existed';
REVOKE ALL ON FUNCTION dbopt.unschedule_job(text) FROM PUBLIC;

CREATE FUNCTION dbopt.run_job(job_name text)
RETURNS dbopt.job_runs
AS 'MODULE_PATHNAME', 'dbopt_run_job'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.run_job(text) IS
    'Run a job now, in this session and transaction, under its max_runtime; its run is recorded in dbopt.job_runs like a scheduled one';
REVOKE ALL ON FUNCTION dbopt.run_job(text) FROM PUBLIC;

CREATE FUNCTION dbopt.set_refresh_schedule(matview regclass, schedule text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_set_refresh_schedule'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.set_refresh_schedule(regclass,text) IS
    'Schedule the refresh of one materialized view (a refresh_materialized_views job named "refresh <view>"); NULL removes it';
REVOKE ALL ON FUNCTION dbopt.set_refresh_schedule(regclass,text) FROM PUBLIC;
