/* dbopt--0.5--0.6.sql: materialized-view refresh in dependency order */

\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.6'" to load this file. \quit

-- One row per refresh (or skip) by dbopt.refresh_materialized_views().
-- History, not configuration: not dumped.
CREATE TABLE dbopt.matview_refreshes (
    matview      regclass NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    method       text NOT NULL CHECK (method IN ('concurrently', 'plain', 'skipped')),
    duration_ms  double precision,
    status       text NOT NULL CHECK (status IN ('ok', 'error', 'skipped')),
    detail       text,
    role_name    name NOT NULL DEFAULT CURRENT_USER
);
CREATE INDEX ON dbopt.matview_refreshes (matview, refreshed_at);
COMMENT ON TABLE dbopt.matview_refreshes IS
    'Every refresh (or skip) of a materialized view by dbopt.refresh_materialized_views()';
REVOKE ALL ON dbopt.matview_refreshes FROM PUBLIC;
GRANT SELECT ON dbopt.matview_refreshes TO pg_monitor;

CREATE FUNCTION dbopt.refresh_materialized_views(
    views regclass[] DEFAULT NULL,
    concurrently boolean DEFAULT true,
    dry_run boolean DEFAULT false)
RETURNS TABLE (matview regclass, method text, duration_ms double precision,
               status text, detail text)
AS 'MODULE_PATHNAME', 'dbopt_refresh_materialized_views'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION dbopt.refresh_materialized_views(regclass[], boolean, boolean) IS
    'Refresh every materialized view in user schemas (or those listed) in dependency order, CONCURRENTLY where possible, each under dbopt.lock_timeout; a failure skips the views that read it, the others go on';
REVOKE ALL ON FUNCTION dbopt.refresh_materialized_views(regclass[], boolean, boolean) FROM PUBLIC;

-- Job schedules: an interval or a five-field cron expression.
CREATE FUNCTION dbopt.schedule_next_run(schedule text, after timestamptz DEFAULT pg_catalog.now())
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'dbopt_schedule_next_run'
LANGUAGE C STABLE;
COMMENT ON FUNCTION dbopt.schedule_next_run(text, timestamptz) IS
    'When a schedule (an interval such as ''1 hour'', or cron fields such as ''*/15 * * * *'' or @daily) next fires after a time, in dbopt.timezone; an invalid schedule is an error saying why';
REVOKE ALL ON FUNCTION dbopt.schedule_next_run(text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.schedule_next_run(text, timestamptz) TO pg_monitor;

CREATE FUNCTION dbopt.schedule_interval(schedule text)
RETURNS interval
AS 'MODULE_PATHNAME', 'dbopt_schedule_interval'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION dbopt.schedule_interval(text) IS
    'The time between two runs of a schedule: the interval itself, or for cron fields the gap between the next two firings';
REVOKE ALL ON FUNCTION dbopt.schedule_interval(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.schedule_interval(text) TO pg_monitor;

-- Jobs the background worker runs (and dbopt.run_job() runs on demand).
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
    run_as               name NOT NULL,
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
    status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'crashed')),
    sqlstate    text,
    message     text,
    pid         integer   -- the process running it, to tell a dead run from a live one
);
CREATE INDEX ON dbopt.job_runs (job_id, started_at);
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

CREATE FUNCTION dbopt.schedule_job(
    job_name text,
    kind text,
    schedule text,
    command text DEFAULT NULL,
    max_runtime interval DEFAULT '1 hour',
    max_retries integer DEFAULT 3,
    enabled boolean DEFAULT true)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_schedule_job'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION dbopt.schedule_job(text, text, text, text, interval, integer, boolean) IS
    'Schedule a job (refresh_materialized_views, snapshot, retention, partition_maintenance, integrity_check, or sql with a command) on an interval or cron schedule; it runs as the calling role; returns its id';

CREATE FUNCTION dbopt.alter_job(
    job_name text,
    schedule text DEFAULT NULL,
    command text DEFAULT NULL,
    max_runtime interval DEFAULT NULL,
    max_retries integer DEFAULT NULL,
    enabled boolean DEFAULT NULL)
RETURNS dbopt.jobs
AS 'MODULE_PATHNAME', 'dbopt_alter_job'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION dbopt.alter_job(text, text, text, interval, integer, boolean) IS
    'Change a job''s schedule, command, limits or enabled flag (NULL leaves a setting as it is); the caller must be the job''s role';

CREATE FUNCTION dbopt.unschedule_job(job_name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dbopt_unschedule_job'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION dbopt.unschedule_job(text) IS
    'Remove a job and its run history; true if it existed';

CREATE FUNCTION dbopt.run_job(job_name text)
RETURNS dbopt.job_runs
AS 'MODULE_PATHNAME', 'dbopt_run_job'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION dbopt.run_job(text) IS
    'Run a job now, in this session and transaction, under its max_runtime; its run is recorded in dbopt.job_runs like a scheduled one';

CREATE FUNCTION dbopt.set_refresh_schedule(matview regclass, schedule text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_set_refresh_schedule'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION dbopt.set_refresh_schedule(regclass, text) IS
    'Schedule the refresh of one materialized view (a refresh_materialized_views job named "refresh <view>"); NULL removes it';

-- The default snapshot job: every 15 minutes, disabled until
-- dbopt.take_snapshot() exists (the snapshot capability enables it).
INSERT INTO dbopt.jobs (job_name, kind, schedule, enabled, run_as, is_default)
VALUES ('dbopt snapshot', 'snapshot', '15 minutes', false,
        (SELECT r.rolname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_roles r ON r.oid = e.extowner
          WHERE e.extname = 'dbopt'),
        true);

-- Each materialized view in user schemas with its last successful refresh
-- by dbopt, the last attempt's status, and the schedule of the job that
-- refreshes it; overdue when no refresh succeeded within twice its interval.
CREATE VIEW dbopt.matview_freshness AS
SELECT c.oid::regclass AS matview,
       c.relispopulated AS populated,
       r.refreshed_at AS last_refresh,
       pg_catalog.now() - r.refreshed_at AS age,
       r.duration_ms AS last_duration_ms,
       r.method AS last_method,
       f.status AS last_status,
       s.schedule,
       CASE WHEN s.schedule IS NOT NULL
            THEN coalesce(r.refreshed_at < pg_catalog.now() - 2 * dbopt.schedule_interval(s.schedule), true)
       END AS overdue
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN LATERAL (
        SELECT x.refreshed_at, x.duration_ms, x.method
          FROM dbopt.matview_refreshes x
         WHERE x.matview = c.oid AND x.status = 'ok'
         ORDER BY x.refreshed_at DESC LIMIT 1) r ON true
  LEFT JOIN LATERAL (
        SELECT x.status
          FROM dbopt.matview_refreshes x
         WHERE x.matview = c.oid
         ORDER BY x.refreshed_at DESC LIMIT 1) f ON true
  LEFT JOIN LATERAL (
        SELECT j.schedule
          FROM dbopt.jobs j
         WHERE j.kind = 'refresh_materialized_views' AND j.enabled
           AND (j.command IS NULL OR pg_catalog.to_regclass(j.command) = c.oid)
         ORDER BY j.command IS NULL, j.job_id LIMIT 1) s ON true
 WHERE c.relkind = 'm'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbopt')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND n.nspname NOT LIKE 'pg\_temp\_%';
COMMENT ON VIEW dbopt.matview_freshness IS
    'Materialized views with their last successful refresh by dbopt, its age, duration and method, the last attempt''s status, the refresh schedule and whether it is overdue';
REVOKE ALL ON dbopt.matview_freshness FROM PUBLIC;
GRANT SELECT ON dbopt.matview_freshness TO pg_monitor;

REVOKE ALL ON FUNCTION dbopt.schedule_job(text, text, text, text, interval, integer, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.alter_job(text, text, text, interval, integer, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.unschedule_job(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.run_job(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.set_refresh_schedule(regclass, text) FROM PUBLIC;
