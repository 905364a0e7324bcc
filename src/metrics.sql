-- src/metrics.sql: dbopt's state as Prometheus gauges (the SQL of src/metrics.c)

CREATE FUNCTION dbopt.metric_values(OUT metric text, OUT labels jsonb, OUT value double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_metric_values'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.metric_values() IS
    'dbopt''s gauges as rows (metric name, labels as a jsonb object, value; NaN when unknown): open findings, the last run_checks() run, jobs, snapshots, materialized views, partition runway and sequence headroom; dbopt.metrics() renders the same samples';
REVOKE ALL ON FUNCTION dbopt.metric_values() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.metric_values() TO pg_monitor;

CREATE FUNCTION dbopt.metrics()
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_metrics'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.metrics() IS
    'The samples of dbopt.metric_values() as OpenMetrics text (HELP and TYPE for every family, ending with # EOF), which Prometheus'' text format parser also reads: for node-exporter''s textfile collector or any scraper';
REVOKE ALL ON FUNCTION dbopt.metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.metrics() TO pg_monitor;
