-- dbopt 0.12 -> 0.13: findings history, metrics and readable reports
-- (issue #23), and the duplicate clean-up that closed issue #21.  Each
-- change here is also made in the src/*.sql file that owns the object.
\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.13'" to load this file. \quit

-- Findings history (issue #23): what run_checks() saw, one row per episode
-- of a finding.  A finding stays one open row (resolved_at NULL) while runs
-- keep seeing it; when a run no longer sees it the row is resolved, and if it
-- comes back a new row opens.  'ok' rows are not recorded.
CREATE TABLE dbopt.check_runs (
    run_id      bigserial PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at timestamptz,
    reports     text[] NOT NULL,
    findings    integer,          -- open findings after the run
    errors      text[]            -- a report that failed: 'report: message'
);
COMMENT ON TABLE dbopt.check_runs IS
    'One row per run_checks() call: when, which reports, how many open findings, and the reports that failed';
SELECT pg_catalog.pg_extension_config_dump('dbopt.check_runs', '');
SELECT pg_catalog.pg_extension_config_dump('dbopt.check_runs_run_id_seq', '');
REVOKE ALL ON dbopt.check_runs FROM PUBLIC;
GRANT SELECT ON dbopt.check_runs TO pg_monitor;

CREATE TABLE dbopt.findings_history (
    finding_id          bigserial PRIMARY KEY,
    run_id              bigint NOT NULL REFERENCES dbopt.check_runs ON DELETE CASCADE,  -- last run that saw it
    report              text NOT NULL,
    check_name          text NOT NULL,
    object_name         text,
    severity            text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    previous_severity   text CHECK (previous_severity IN ('critical', 'warning', 'info')),
    detail              text,
    remediation         text,
    fix_sql             text,
    first_seen          timestamptz NOT NULL,
    last_seen           timestamptz NOT NULL,
    severity_changed_at timestamptz,
    resolved_at         timestamptz,
    CHECK (resolved_at IS NULL OR resolved_at >= first_seen)
);
-- One open episode per finding.
CREATE UNIQUE INDEX findings_history_open ON dbopt.findings_history
    (report, check_name, object_name) NULLS NOT DISTINCT WHERE resolved_at IS NULL;
CREATE INDEX ON dbopt.findings_history (run_id);
CREATE INDEX ON dbopt.findings_history (last_seen);
COMMENT ON TABLE dbopt.findings_history IS
    'Every finding run_checks() recorded, one row per episode: first and last seen, severity changes, and when it was resolved';
SELECT pg_catalog.pg_extension_config_dump('dbopt.findings_history', '');
SELECT pg_catalog.pg_extension_config_dump('dbopt.findings_history_finding_id_seq', '');
REVOKE ALL ON dbopt.findings_history FROM PUBLIC;
GRANT SELECT ON dbopt.findings_history TO pg_monitor;

CREATE VIEW dbopt.findings AS
SELECT finding_id, report, check_name, object_name, severity, previous_severity, detail,
       remediation, fix_sql, first_seen, last_seen, severity_changed_at, run_id
  FROM dbopt.findings_history
 WHERE resolved_at IS NULL;
COMMENT ON VIEW dbopt.findings IS
    'The findings open now, as run_checks() last recorded them';
REVOKE ALL ON dbopt.findings FROM PUBLIC;
GRANT SELECT ON dbopt.findings TO pg_monitor;

-- Metrics (issue #23 item 3): dbopt.metric_values() and dbopt.metrics(), in src/metrics.sql.
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

-- report_html() (issue #23, item 4): block I/O per table and index, and
-- pg_stat_wal per snapshot (in snapshots.server->'wal'); report_html()
-- gains include_dbopt, so it is dropped and created again.
ALTER TABLE dbopt.snapshot_tables
    ADD COLUMN heap_blks_read bigint, ADD COLUMN heap_blks_hit bigint,
    ADD COLUMN idx_blks_read bigint, ADD COLUMN idx_blks_hit bigint;
ALTER TABLE dbopt.snapshot_indexes
    ADD COLUMN idx_blks_read bigint, ADD COLUMN idx_blks_hit bigint;
COMMENT ON TABLE dbopt.snapshots IS
    'Snapshots taken by dbopt.take_snapshot(); server holds bgwriter, archiver, WAL (pg_stat_wal, from 0.13), replication, activity and connection figures';
COMMENT ON TABLE dbopt.snapshot_tables IS
    'pg_stat_user_tables per snapshot, with the size from pg_class and the block counts of pg_statio_user_tables (NULL in snapshots taken before 0.13)';
COMMENT ON TABLE dbopt.snapshot_indexes IS
    'pg_stat_user_indexes per snapshot, with the size from pg_class and the block counts of pg_statio_user_indexes (NULL in snapshots taken before 0.13)';
COMMENT ON FUNCTION dbopt.take_snapshot() IS
    'Record pg_stat_statements (never reset), pg_stat_database, user tables and indexes with their block I/O, activity, connections, bgwriter, archiver, WAL and replication into dbopt.snapshot_*; returns the snapshot id';

DROP FUNCTION dbopt.report_html(bigint, bigint);
CREATE FUNCTION dbopt.report_html(from_id bigint, to_id bigint, include_dbopt boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_report_html'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.report_html(bigint,bigint,boolean) IS
    'A self-contained HTML page over a snapshot window: summary, inline SVG charts (transactions per second, cache hit ratio, connections, and one chart per top statement with its own scale), top statements, regressions between its halves, table and index I/O and scans, WAL, findings new and resolved in the window, and health findings now; dbopt''s own statements are left out unless include_dbopt; write it with psql -Atc';
REVOKE ALL ON FUNCTION dbopt.report_html(bigint,bigint,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.report_html(bigint,bigint,boolean) TO pg_monitor;

-- run_checks(), findings_changes() and the daily run_checks job (issue #23 item 1)
-- Not granted to pg_monitor: it writes dbopt's history and sends alerts.
-- pg_monitor reads the result in dbopt.findings and findings_changes().
CREATE FUNCTION dbopt.run_checks(reports text[] DEFAULT NULL, notify boolean DEFAULT true)
RETURNS TABLE (
    severity text, check_name text, object_name text, detail text, remediation text, fix_sql text,
    report text, first_seen timestamp with time zone, new boolean)
AS 'MODULE_PATHNAME', 'dbopt_run_checks'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.run_checks(text[],boolean) IS
    'Run the read-only check-style reports (NULL: all) as the caller, each isolated, record their findings in dbopt.findings_history (opened, still seen, resolved) and dbopt.check_runs, prune history past dbopt.findings_history_retention, NOTIFY dbopt_alerts for each new critical finding, and return the open findings of those reports, most severe first';
REVOKE ALL ON FUNCTION dbopt.run_checks(text[],boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.findings_changes(since timestamp with time zone)
RETURNS TABLE (
    change text, at timestamp with time zone, report text, check_name text, object_name text,
    severity text, previous_severity text, detail text, fix_sql text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF since IS NULL THEN
        RAISE EXCEPTION 'since must not be null'
            USING ERRCODE = '22004', DETAIL = 'findings_changes() lists what changed in the findings history after a point in time.',
                  HINT = 'For the last week: dbopt.findings_changes(now() - interval ''7 days'').';
    END IF;
    -- Each episode gives its opening, its last severity change and its
    -- resolution; an episode whose severity changed opened with the
    -- severity it had before that change.
    RETURN QUERY
    SELECT e.change, e.at, h.report, h.check_name, h.object_name, e.severity, e.previous_severity,
           h.detail, h.fix_sql
      FROM dbopt.findings_history h
     CROSS JOIN LATERAL (VALUES
           (1, 'new', h.first_seen,
            CASE WHEN h.severity_changed_at IS NULL THEN h.severity ELSE h.previous_severity END,
            NULL::text),
           (2, CASE WHEN array_position(ARRAY['critical', 'warning', 'info'], h.severity)
                         < array_position(ARRAY['critical', 'warning', 'info'], h.previous_severity)
                    THEN 'worse' ELSE 'better' END,
            h.severity_changed_at, h.severity, h.previous_severity),
           (3, 'resolved', h.resolved_at, h.severity, NULL::text))
           AS e(ord, change, at, severity, previous_severity)
     WHERE e.at >= since
     ORDER BY e.at, e.ord, h.report, h.check_name, h.object_name;
END $$;
COMMENT ON FUNCTION dbopt.findings_changes(timestamp with time zone) IS
    'What changed in the findings history since a time: new, worse, better and resolved findings, oldest first';
REVOKE ALL ON FUNCTION dbopt.findings_changes(timestamp with time zone) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.findings_changes(timestamp with time zone) TO pg_monitor;

-- The default run_checks job: daily, as the extension owner, first an hour
-- after CREATE EXTENSION.
INSERT INTO dbopt.jobs (job_name, kind, schedule, command, enabled, run_as, is_default, next_run_at)
VALUES ('dbopt run_checks', 'sql', '1 day', 'SELECT pg_catalog.count(*) FROM dbopt.run_checks()', true,
        (SELECT e.extowner::pg_catalog.regrole FROM pg_catalog.pg_extension e WHERE e.extname = 'dbopt'),
        true, pg_catalog.now() + interval '1 hour');
