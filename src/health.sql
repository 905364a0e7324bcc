-- src/health.sql: the health check (the SQL of src/health.c)

CREATE FUNCTION dbopt.health_check(
    notify boolean DEFAULT false, include_suppressed boolean DEFAULT false,
    include_passed boolean DEFAULT true)
RETURNS TABLE (
    severity text, check_name text, object_name text, detail text, remediation text, fix_sql text,
    value double precision, threshold double precision)
AS 'MODULE_PATHNAME', 'dbopt_health_check'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.health_check(boolean,boolean,boolean) IS
    'Server health as findings, worst first, with the measured value (one decimal) and its threshold (dbopt.health_* settings): cache hit ratio, connections, idle and long transactions, slow statements, replication, wraparound, archiving, dead tuples, bloat, autovacuum, checkpoints, temp files, pg_stat_statements evictions; an ok row per passed check unless include_passed => false; notify => true also sends each non-ok finding as JSON with NOTIFY dbopt_alerts';
REVOKE ALL ON FUNCTION dbopt.health_check(boolean,boolean,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.health_check(boolean,boolean,boolean) TO pg_monitor;

-- The sessions the checks idle_in_transaction and long_running_query judge,
-- one query for both: each client session but this one that is idle in a
-- transaction (aged from its last state change) or running a statement
-- (aged from its start), and whether it blocks others (the blockers
-- computed once, not per row).  security_invoker: the caller sees the
-- sessions pg_stat_activity shows the caller, so it may be readable by
-- PUBLIC, as pg_stat_activity is: whoever may run health_check() must be
-- able to read it.
CREATE VIEW dbopt.session_ages WITH (security_invoker = true) AS
WITH blockers AS (SELECT DISTINCT pg_catalog.unnest(pg_catalog.pg_blocking_pids(pid)) AS pid
                   FROM pg_catalog.pg_stat_activity WHERE wait_event_type = 'Lock')
SELECT a.check_name, a.pid, a.age, b.pid IS NOT NULL AS blocking,
 pg_catalog.format('pid %s (%s on %s)', a.pid, pg_catalog.quote_ident(a.usename), pg_catalog.quote_ident(a.datname)) AS object_name,
 pg_catalog.format('%s for %s s%s; %s: %s', a.state, pg_catalog.round(a.age::numeric),
   CASE WHEN b.pid IS NOT NULL THEN ', blocking other sessions' ELSE '' END,
   CASE WHEN a.state = 'active' THEN 'statement' ELSE 'last statement' END, pg_catalog.left(a.query, 200)) AS detail
FROM (SELECT CASE WHEN state = 'active' THEN 'long_running_query' ELSE 'idle_in_transaction' END AS check_name,
             pid, usename, datname, state, query,
             extract(epoch FROM pg_catalog.clock_timestamp()
                                - CASE WHEN state = 'active' THEN query_start ELSE state_change END)::float8 AS age
        FROM pg_catalog.pg_stat_activity
       WHERE state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')
         AND backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid()) a
LEFT JOIN blockers b ON b.pid = a.pid;
COMMENT ON VIEW dbopt.session_ages IS
    'Client sessions idle in a transaction (check_name idle_in_transaction, aged from their last state change) or running a statement (long_running_query, aged from its start), with whether they block others: what health_check() judges';
GRANT SELECT ON dbopt.session_ages TO PUBLIC;
