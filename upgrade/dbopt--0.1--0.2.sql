/* dbopt--0.1--0.2.sql: index analysis */

\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.2'" to load this file. \quit

CREATE FUNCTION dbopt.analyze_index_usage(
    schema_name text DEFAULT NULL,
    min_stats_age interval DEFAULT '7 days',
    include_suppressed boolean DEFAULT false,
    OUT schemaname name, OUT tablename name, OUT indexname name,
    OUT index regclass, OUT index_size_bytes bigint, OUT table_size_bytes bigint,
    OUT scans bigint, OUT tuples_read bigint, OUT tuples_fetched bigint,
    OUT is_unique boolean, OUT is_primary boolean, OUT backs_constraint boolean,
    OUT is_valid boolean, OUT stats_since timestamptz,
    OUT bloat_bytes_estimate bigint, OUT findings text[],
    OUT recommendation text, OUT fix_sql text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_analyze_index_usage'
LANGUAGE C CALLED ON NULL INPUT STABLE;
COMMENT ON FUNCTION dbopt.analyze_index_usage(text, interval, boolean) IS
    'One row per index on user tables: size, scans, constraint role, bloat estimate, finding codes (unused, unused_recent_stats, duplicate, redundant, invalid, bloated) and the SQL to fix them';

CREATE FUNCTION dbopt.find_unindexed_foreign_keys(
    schema_name text DEFAULT NULL,
    include_suppressed boolean DEFAULT false,
    OUT severity text, OUT check_name text, OUT object_name text,
    OUT detail text, OUT remediation text, OUT fix_sql text,
    OUT referencing_table regclass, OUT referenced_table regclass,
    OUT columns text[], OUT referencing_rows_estimate bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_find_unindexed_foreign_keys'
LANGUAGE C CALLED ON NULL INPUT STABLE;
COMMENT ON FUNCTION dbopt.find_unindexed_foreign_keys(text, boolean) IS
    'Foreign keys whose columns lead no valid index on the referencing table (check fk_without_index), with CREATE INDEX CONCURRENTLY fixes';

REVOKE ALL ON FUNCTION dbopt.analyze_index_usage(text, interval, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.find_unindexed_foreign_keys(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.analyze_index_usage(text, interval, boolean) TO pg_monitor;
GRANT EXECUTE ON FUNCTION dbopt.find_unindexed_foreign_keys(text, boolean) TO pg_monitor;
