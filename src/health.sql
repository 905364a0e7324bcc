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
