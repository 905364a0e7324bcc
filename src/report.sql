-- src/report.sql: the HTML report (the SQL of src/report.c)

CREATE FUNCTION dbopt.report_html(from_id bigint, to_id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_report_html'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.report_html(bigint,bigint) IS
    'A self-contained HTML page over a snapshot window: summary, top statements, regressions between its halves, health findings, and inline SVG charts of transactions per second, cache hit ratio, connections and the top statements'' mean times; write it with psql -Atc';
REVOKE ALL ON FUNCTION dbopt.report_html(bigint,bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.report_html(bigint,bigint) TO pg_monitor;
