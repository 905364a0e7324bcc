-- src/index_advisor.sql: the index advisor (the SQL of src/index_advisor.c)

CREATE FUNCTION dbopt.suggest_indexes(
    min_calls bigint DEFAULT 50, min_mean_ms double precision DEFAULT 1,
    min_improvement_pct double precision DEFAULT 50, max_suggestions integer DEFAULT 20)
RETURNS TABLE (
    relation regclass, columns text[], index_sql text, queryids bigint[], calls bigint,
    cost_before double precision, cost_after double precision, improvement_pct double precision,
    index_bytes_estimate bigint, write_overhead_pct double precision, verified_by text, detail text)
AS 'MODULE_PATHNAME', 'dbopt_suggest_indexes'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.suggest_indexes(bigint,double precision,double precision,integer) IS
    'Btree indexes for the busiest statements of pg_stat_statements: each planned generically in the server, candidates from the columns its scans filter, join or sort on, verified with hypothetical indexes when hypopg is installed (otherwise a pg_stats estimate), with size and write overhead';
REVOKE ALL ON FUNCTION dbopt.suggest_indexes(bigint,double precision,double precision,integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.suggest_indexes(bigint,double precision,double precision,integer) TO pg_monitor;
