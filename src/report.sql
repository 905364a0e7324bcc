-- src/report.sql: the HTML report (the SQL of src/report.c)

CREATE FUNCTION dbopt.report_html(from_id bigint, to_id bigint, include_dbopt boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_report_html'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.report_html(bigint,bigint,boolean) IS
    'A self-contained HTML page over a snapshot window: summary, inline SVG charts (transactions per second, cache hit ratio, connections, and one chart per top statement with its own scale), top statements, regressions between its halves, table and index I/O and scans, WAL, findings new and resolved in the window, and health findings now; dbopt''s own statements are left out unless include_dbopt; write it with psql -Atc';
REVOKE ALL ON FUNCTION dbopt.report_html(bigint,bigint,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.report_html(bigint,bigint,boolean) TO pg_monitor;
