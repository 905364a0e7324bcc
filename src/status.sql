-- src/status.sql: status(): versions, preloading and settings as findings (the SQL of src/status.c)

CREATE FUNCTION dbopt.status(
    include_suppressed boolean DEFAULT false, include_passed boolean DEFAULT true,
    OUT severity text, OUT check_name text, OUT object_name text, OUT detail text,
    OUT remediation text, OUT fix_sql text, OUT value text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_status'
LANGUAGE C STABLE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.status(boolean,boolean) IS
    'Versions, preloading, pg_stat_statements fill and evictions, companion extensions and dbopt.* settings, as findings, worst first; an ok row per passed check unless include_passed => false';
REVOKE ALL ON FUNCTION dbopt.status(boolean,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.status(boolean,boolean) TO pg_monitor;
