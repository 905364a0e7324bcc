-- src/matviews.sql: materialized-view refresh in dependency order (the SQL of src/matviews.c)

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

CREATE FUNCTION dbopt.refresh_materialized_views(
    views regclass[] DEFAULT NULL, "concurrently" boolean DEFAULT true,
    dry_run boolean DEFAULT false)
RETURNS TABLE(matview regclass, method text, duration_ms double precision, status text, detail text)
AS 'MODULE_PATHNAME', 'dbopt_refresh_materialized_views'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.refresh_materialized_views(regclass[],boolean,boolean) IS
    'Refresh every materialized view in user schemas (or those listed) in dependency order, CONCURRENTLY where possible, each under dbopt.lock_timeout; a failure skips the views that read it, the others go on';
REVOKE ALL ON FUNCTION dbopt.refresh_materialized_views(regclass[],boolean,boolean) FROM PUBLIC;
