/* dbopt--0.7--0.8.sql: health check and HTML report */

\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.8'" to load this file. \quit

-- How many pg_stat_statements entries a snapshot copied: with the eviction
-- count and reset time, it tells take_snapshot() whether any statement can
-- be new since the previous snapshot, so texts are read only then.
ALTER TABLE dbopt.snapshots ADD COLUMN pgss_entries bigint;
COMMENT ON COLUMN dbopt.snapshots.pgss_entries IS 'pg_stat_statements entries copied by this snapshot';

CREATE FUNCTION dbopt.health_check(notify boolean DEFAULT false, include_suppressed boolean DEFAULT false)
RETURNS TABLE (severity text, check_name text, object_name text, detail text, remediation text, fix_sql text,
               value double precision, threshold double precision)
AS 'MODULE_PATHNAME', 'dbopt_health_check'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.health_check(boolean, boolean) IS
    'Server health as findings with the measured value and its threshold (dbopt.health_* settings): cache hit ratio, connections, idle and long transactions, slow statements, replication, wraparound, archiving, dead tuples, bloat, autovacuum, checkpoints, temp files, pg_stat_statements evictions; notify => true also sends each non-ok finding as JSON with NOTIFY dbopt_alerts';
REVOKE ALL ON FUNCTION dbopt.health_check(boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.health_check(boolean, boolean) TO pg_monitor;

CREATE FUNCTION dbopt.report_html(from_id bigint, to_id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_report_html'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.report_html(bigint, bigint) IS
    'A self-contained HTML page over a snapshot window: summary, top statements, regressions between its halves, health findings, and inline SVG charts of transactions per second, cache hit ratio, connections and the top statements'' mean times; write it with psql -Atc';
REVOKE ALL ON FUNCTION dbopt.report_html(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.report_html(bigint, bigint) TO pg_monitor;

CREATE FUNCTION dbopt.suggest_indexes(min_calls bigint DEFAULT 50, min_mean_ms double precision DEFAULT 1,
                                      min_improvement_pct double precision DEFAULT 50,
                                      max_suggestions integer DEFAULT 20)
RETURNS TABLE (relation regclass, columns text[], index_sql text, queryids bigint[], calls bigint,
               cost_before double precision, cost_after double precision, improvement_pct double precision,
               index_bytes_estimate bigint, write_overhead_pct double precision, verified_by text, detail text)
AS 'MODULE_PATHNAME', 'dbopt_suggest_indexes'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.suggest_indexes(bigint, double precision, double precision, integer) IS
    'Btree indexes for the busiest statements of pg_stat_statements: each planned generically in the server, candidates from the columns its scans filter, join or sort on, verified with hypothetical indexes when hypopg is installed (otherwise a pg_stats estimate), with size and write overhead';
REVOKE ALL ON FUNCTION dbopt.suggest_indexes(bigint, double precision, double precision, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.suggest_indexes(bigint, double precision, double precision, integer) TO pg_monitor;
