-- src/index_usage.sql: index usage analysis and unindexed foreign keys (the SQL of src/index_usage.c)

CREATE FUNCTION dbopt.find_unindexed_foreign_keys(
    schema_name text DEFAULT NULL, include_suppressed boolean DEFAULT false, OUT severity text,
    OUT check_name text, OUT object_name text, OUT detail text, OUT remediation text,
    OUT fix_sql text, OUT referencing_table regclass, OUT referenced_table regclass,
    OUT columns text[], OUT referencing_rows_estimate bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_find_unindexed_foreign_keys'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.find_unindexed_foreign_keys(text,boolean) IS
    'Foreign keys whose columns lead no valid index on the referencing table (check fk_without_index), with CREATE INDEX CONCURRENTLY fixes';
REVOKE ALL ON FUNCTION dbopt.find_unindexed_foreign_keys(text,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.find_unindexed_foreign_keys(text,boolean) TO pg_monitor;

-- The same with min_stats_age written as text in the second position:
-- analyze_index_usage(NULL, '90') is refused rather than read as 90
-- seconds, which would call busy indexes unused.  Its first two arguments
-- have no default, so calls without them stay with the interval form,
-- unambiguous.
CREATE FUNCTION dbopt.analyze_index_usage(
    schema_name text DEFAULT NULL, min_stats_age interval DEFAULT '7 days'::interval,
    include_suppressed boolean DEFAULT false, include_extension_objects boolean DEFAULT false,
    OUT schemaname name, OUT tablename name, OUT indexname name, OUT index regclass,
    OUT index_size_bytes bigint, OUT table_size_bytes bigint, OUT scans bigint,
    OUT tuples_read bigint, OUT tuples_fetched bigint, OUT is_unique boolean,
    OUT is_primary boolean, OUT backs_constraint boolean, OUT is_valid boolean,
    OUT stats_since timestamp with time zone, OUT bloat_bytes_estimate bigint, OUT findings text[],
    OUT recommendation text, OUT fix_sql text, OUT stats_source text, OUT scans_observed bigint,
    OUT unused_for interval, OUT standby_scans bigint, OUT confidence text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_analyze_index_usage'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.analyze_index_usage(text,interval,boolean,boolean) IS
    'One row per index on user tables: size, scans, constraint role, bloat estimate, finding codes (unused, unused_recent_stats, duplicate, redundant, invalid, bloated) and the SQL to fix them, with the evidence behind them (statistics epoch, scans and idle time over snapshot windows, standby scans) and a confidence for unused, duplicate and redundant; indexes of extension member tables only with include_extension_objects, and never with a fix';
REVOKE ALL ON FUNCTION dbopt.analyze_index_usage(text,interval,boolean,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.analyze_index_usage(text,interval,boolean,boolean) TO pg_monitor;

CREATE FUNCTION dbopt.analyze_index_usage(
    schema_name text, min_stats_age text, include_suppressed boolean DEFAULT false,
    include_extension_objects boolean DEFAULT false, OUT schemaname name, OUT tablename name,
    OUT indexname name, OUT index regclass, OUT index_size_bytes bigint,
    OUT table_size_bytes bigint, OUT scans bigint, OUT tuples_read bigint,
    OUT tuples_fetched bigint, OUT is_unique boolean, OUT is_primary boolean,
    OUT backs_constraint boolean, OUT is_valid boolean, OUT stats_since timestamp with time zone,
    OUT bloat_bytes_estimate bigint, OUT findings text[], OUT recommendation text, OUT fix_sql text,
    OUT stats_source text, OUT scans_observed bigint, OUT unused_for interval,
    OUT standby_scans bigint, OUT confidence text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_analyze_index_usage'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.analyze_index_usage(text,text,boolean,boolean) IS
    'analyze_index_usage() with min_stats_age written as text, such as ''7 days'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.analyze_index_usage(text,text,boolean,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.analyze_index_usage(text,text,boolean,boolean) TO pg_monitor;
