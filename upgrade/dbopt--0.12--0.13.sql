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

-- Issue #23, item 2 (sorted reports, rounded values, one ok-row rule):
-- status() and health_check() take include_passed (DEFAULT true, as
-- validate_security_configuration() now has it), so their signatures change;
-- the compliance report asks for findings only and lists them worst first.
DROP FUNCTION dbopt.status(boolean);
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

DROP FUNCTION dbopt.health_check(boolean, boolean);
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

CREATE OR REPLACE FUNCTION dbopt.validate_security_configuration(
    include_passed boolean DEFAULT true, include_suppressed boolean DEFAULT false)
RETURNS TABLE (
    severity text, check_name text, object_name text, detail text, remediation text, fix_sql text)
AS 'MODULE_PATHNAME', 'dbopt_validate_security_configuration'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.validate_security_configuration(boolean,boolean) IS
    'Security findings, worst first: password storage, superusers and role attributes, schema and function privileges, row-level security and tenant tables, pg_hba.conf, SSL, logging, checksums, default privileges, sensitive columns; an ok row per passed check unless include_passed => false, check_skipped when a check cannot be evaluated';
REVOKE ALL ON FUNCTION dbopt.validate_security_configuration(boolean,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.validate_security_configuration(boolean,boolean) TO pg_monitor;

-- issue #21 (duplicates): one view, dbopt.session_ages, serves the health checks
-- idle_in_transaction and long_running_query

-- The sessions the checks idle_in_transaction and long_running_query judge,
-- one query for both: each client session but this one that is idle in a
-- transaction (aged from its last state change) or running a statement
-- (aged from its start), and whether it blocks others (the blockers
-- computed once, not per row).  security_invoker: the caller sees the
-- sessions pg_stat_activity shows the caller, so it may be readable by
-- PUBLIC, as pg_stat_activity is: whoever may run health_check() must be
-- able to read it.
CREATE VIEW dbopt.session_ages WITH (security_invoker = true) AS
WITH blockers AS (SELECT DISTINCT pg_catalog.unnest(pg_catalog.pg_blocking_pids(pid)) AS pid
                   FROM pg_catalog.pg_stat_activity WHERE wait_event_type = 'Lock')
SELECT a.check_name, a.pid, a.age, b.pid IS NOT NULL AS blocking,
 pg_catalog.format('pid %s (%s on %s)', a.pid, pg_catalog.quote_ident(a.usename), pg_catalog.quote_ident(a.datname)) AS object_name,
 pg_catalog.format('%s for %s s%s; %s: %s', a.state, pg_catalog.round(a.age::numeric),
   CASE WHEN b.pid IS NOT NULL THEN ', blocking other sessions' ELSE '' END,
   CASE WHEN a.state = 'active' THEN 'statement' ELSE 'last statement' END, pg_catalog.left(a.query, 200)) AS detail
FROM (SELECT CASE WHEN state = 'active' THEN 'long_running_query' ELSE 'idle_in_transaction' END AS check_name,
             pid, usename, datname, state, query,
             extract(epoch FROM pg_catalog.clock_timestamp()
                                - CASE WHEN state = 'active' THEN query_start ELSE state_change END)::float8 AS age
        FROM pg_catalog.pg_stat_activity
       WHERE state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')
         AND backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid()) a
LEFT JOIN blockers b ON b.pid = a.pid;
COMMENT ON VIEW dbopt.session_ages IS
    'Client sessions idle in a transaction (check_name idle_in_transaction, aged from their last state change) or running a statement (long_running_query, aged from its start), with whether they block others: what health_check() judges';
GRANT SELECT ON dbopt.session_ages TO PUBLIC;

-- issue #21 (duplicates): generate_compliance_report() reads its sections in
-- one loop with one handler for a section that fails (with the order and
-- findings-only rule of item 2 above)
CREATE OR REPLACE FUNCTION dbopt.generate_compliance_report(
    scope text DEFAULT NULL, as_of date DEFAULT CURRENT_DATE)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    report jsonb;
    section jsonb;
    tenant_cols text[] := pg_catalog.string_to_array(pg_catalog.current_setting('dbopt.tenant_columns'), ',');
    upto timestamptz := (as_of + 1)::timestamptz;
    r record;
    n bigint;
    items jsonb;
    scope_rows bigint := 0;
    scope_events bigint := 0;
    notes jsonb := '[]';
BEGIN
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must not be null'
              USING ERRCODE = 'null_value_not_allowed',
                    DETAIL = 'The report describes the database as of one day.',
                    HINT = 'Leave it out for today, or pass a past date.';
    END IF;
    IF as_of > current_date THEN
        RAISE EXCEPTION 'as_of is in the future'
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'A compliance report states what happened up to a day; nothing has happened after today.',
                    HINT = 'Pass today''s date or an earlier one, or leave it out for today.';
    END IF;
    IF scope IS NOT NULL AND pg_catalog.btrim(scope) = '' THEN
        RAISE EXCEPTION 'scope must be a tenant id or NULL'
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'An empty scope matches no tenant.',
                    HINT = 'Pass NULL for the whole database, or a value of the tenant columns (dbopt.tenant_columns).';
    END IF;
    report := jsonb_build_object('generated_at', pg_catalog.now(), 'as_of', as_of,
                                 'database', pg_catalog.current_database(), 'scope', scope);

    -- backups
    SELECT jsonb_build_object('archive_mode', pg_catalog.current_setting('archive_mode'),
                              'archived_count', a.archived_count, 'failed_count', a.failed_count,
                              'last_archived_wal', a.last_archived_wal, 'last_archived_time', a.last_archived_time,
                              'last_archived_age_s', round(extract(epoch FROM pg_catalog.now() - a.last_archived_time)),
                              'last_failed_time', a.last_failed_time)
      INTO section FROM pg_catalog.pg_stat_archiver a;
    report := report || jsonb_build_object('backups', section);

    -- Every other section is read in its own subtransaction: one that fails
    -- (a missing privilege, say) is reported as skipped, with its error.
    DECLARE
        part text;
    BEGIN
        FOREACH part IN ARRAY ARRAY['security', 'audit', 'tenant_isolation', 'sensitive_columns', 'retention', 'integrity'] LOOP
            BEGIN
                CASE part
                WHEN 'security' THEN
                    SELECT jsonb_build_object(
                             'counts', jsonb_build_object(
                                 'critical', count(*) FILTER (WHERE f.severity = 'critical'),
                                 'warning', count(*) FILTER (WHERE f.severity = 'warning'),
                                 'info', count(*) FILTER (WHERE f.severity = 'info')),
                             'findings', coalesce(jsonb_agg(jsonb_build_object('severity', f.severity, 'check_name', f.check_name,
                                                                               'object_name', f.object_name, 'detail', f.detail)
                                                            ORDER BY pg_catalog.array_position(ARRAY['critical', 'warning', 'info'], f.severity),
                                                                     f.object_name COLLATE "C", f.check_name COLLATE "C"), '[]'))
                      INTO section FROM dbopt.validate_security_configuration(include_passed => false) f;
                WHEN 'audit' THEN
                    SELECT jsonb_build_object(
                             'audited_tables', coalesce((SELECT jsonb_agg(t.relation::text ORDER BY t.relation::text)
                                                           FROM dbopt.audited_tables t WHERE t.enabled), '[]'),
                             'sensitive_tables_not_audited',
                                 coalesce((SELECT jsonb_agg(DISTINCT s.relation::text)
                                             FROM dbopt.sensitive_columns s JOIN pg_catalog.pg_class c ON c.oid = s.relation
                                            WHERE NOT EXISTS (SELECT FROM dbopt.audited_tables t WHERE t.relation = s.relation AND t.enabled)), '[]'),
                             'events_30_days', (SELECT count(*) FROM dbopt.audit_log l
                                                 WHERE l.logged_at >= upto - interval '30 days' AND l.logged_at < upto
                                                   AND (scope IS NULL OR l.tenant = scope)),
                             'events_by_operation', coalesce((SELECT jsonb_object_agg(o.operation, o.n) FROM (
                                                      SELECT l.operation, count(*) AS n FROM dbopt.audit_log l
                                                       WHERE l.logged_at >= upto - interval '30 days' AND l.logged_at < upto
                                                         AND (scope IS NULL OR l.tenant = scope) GROUP BY 1) o), '{}'))
                      INTO section;
                WHEN 'tenant_isolation' THEN
                    -- tables with a tenant column; with a scope, that tenant's row count
                    items := '[]';
                    FOR r IN
                        SELECT DISTINCT ON (c.oid) c.oid::regclass AS rel, a.attname, c.relrowsecurity AS rls, c.reltuples
                          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
                          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attname::text = ANY (tenant_cols)
                           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'dbopt') AND ns.nspname !~ '^pg_'
                         ORDER BY c.oid, pg_catalog.array_position(tenant_cols, a.attname::text)
                    LOOP
                        IF scope IS NULL THEN
                            n := greatest(r.reltuples, 0)::bigint;
                        ELSE
                            EXECUTE pg_catalog.format('SELECT count(*) FROM %s WHERE %I::pg_catalog.text OPERATOR(pg_catalog.=) $1',
                                                      r.rel, r.attname) INTO n USING scope;
                            scope_rows := scope_rows + n;
                        END IF;
                        items := items || jsonb_build_object('table', r.rel::text, 'tenant_column', r.attname, 'rls', r.rls,
                                                             CASE WHEN scope IS NULL THEN 'rows_estimate' ELSE 'rows' END, n);
                    END LOOP;
                    section := jsonb_build_object(
                        'with_rls', (SELECT count(*) FROM jsonb_array_elements(items) e WHERE (e->>'rls')::boolean),
                        'without_rls', (SELECT count(*) FROM jsonb_array_elements(items) e WHERE NOT (e->>'rls')::boolean),
                        'tables', items);
                WHEN 'sensitive_columns' THEN
                    -- each with its protection
                    SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'table', s.relation::text, 'column', s.column_name, 'kind', s.kind,
                               'protection', CASE WHEN a.atttypid = 'bytea'::regtype THEN 'encrypted'
                                                  WHEN NOT EXISTS (SELECT FROM dbopt.validate_security_configuration(include_suppressed => true) f
                                                                    WHERE f.check_name = 'sensitive_column_unprotected'
                                                                      AND f.object_name = pg_catalog.format('%s.%I', s.relation, s.column_name))
                                                  THEN 'masked_view' ELSE 'none' END)
                             ORDER BY s.relation::text, s.column_name), '[]')
                      INTO section
                      FROM dbopt.sensitive_columns s JOIN pg_catalog.pg_class c ON c.oid = s.relation
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = s.relation AND a.attname = s.column_name;
                WHEN 'retention' THEN
                    -- the policies, and rows older than policy still present
                    items := '[]';
                    FOR r IN SELECT p.relation, p.time_column, p.keep, p.mode, p.enabled, p.last_run_at, p.last_status
                               FROM dbopt.retention_policies p JOIN pg_catalog.pg_class c ON c.oid = p.relation ORDER BY p.relation::text
                    LOOP
                        EXECUTE format('SELECT count(*) FROM %s WHERE %I < $1', r.relation, r.time_column) INTO n USING upto - r.keep;
                        items := items || jsonb_build_object('table', r.relation::text, 'time_column', r.time_column, 'keep', r.keep,
                                                             'mode', r.mode, 'enabled', r.enabled, 'last_run_at', r.last_run_at,
                                                             'last_status', r.last_status, 'rows_older_than_policy', n);
                    END LOOP;
                    section := jsonb_build_object('policies', items);
                WHEN 'integrity' THEN
                    -- counts of check_data_integrity() findings
                    WITH d AS MATERIALIZED (SELECT i.severity, i.check_name FROM dbopt.check_data_integrity() i)
                    SELECT jsonb_build_object(
                             'critical', (SELECT count(*) FROM d WHERE d.severity = 'critical'),
                             'warning', (SELECT count(*) FROM d WHERE d.severity = 'warning'),
                             'info', (SELECT count(*) FROM d WHERE d.severity = 'info'),
                             'checks', coalesce((SELECT jsonb_object_agg(x.check_name, x.n)
                                                   FROM (SELECT d.check_name, count(*) AS n FROM d GROUP BY 1) x), '{}'))
                      INTO section;
                END CASE;
            EXCEPTION WHEN OTHERS THEN
                section := jsonb_build_object('skipped', SQLERRM);
            END;
            report := report || jsonb_build_object(part, section);
        END LOOP;
    END;

    -- A scope that names no tenant is said so, not reported as empty tables.
    IF scope IS NOT NULL THEN
        BEGIN
            SELECT count(*) INTO scope_events FROM dbopt.audit_log l WHERE l.tenant = scope;
        EXCEPTION WHEN OTHERS THEN
            scope_events := NULL;
        END;
        IF scope_rows = 0 AND coalesce(scope_events, 0) = 0 THEN
            notes := notes || pg_catalog.to_jsonb(pg_catalog.format(
                'scope %L matches no tenant: no row of any tenant table (columns %s) and no audit event carries it',
                scope, pg_catalog.array_to_string(tenant_cols, ', ')));
        END IF;
        report := report || jsonb_build_object('scope_found', scope_rows > 0 OR coalesce(scope_events, 0) > 0);
    END IF;
    report := report || jsonb_build_object('notes', notes);
    RETURN report;
END $$;
COMMENT ON FUNCTION dbopt.generate_compliance_report(text,date) IS
    'One jsonb document: generated_at, as_of (not in the future), database, scope, security, audit, tenant_isolation, sensitive_columns, retention, backups, integrity, notes; with scope set to a tenant, its row counts and audit events, and scope_found saying whether any row or event carries it';
REVOKE ALL ON FUNCTION dbopt.generate_compliance_report(text,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.generate_compliance_report(text,date) TO pg_monitor;

-- Issue #23, item 2 (rounding): compare_snapshots(), slow_queries() and
-- detect_regressions() round their figures for a reader (milliseconds,
-- percentages, ratios, p-values); suggest_indexes(),
-- refresh_materialized_views(), apply_data_retention_policies() and
-- analyze_partition_distribution() round theirs in C.
CREATE OR REPLACE FUNCTION dbopt.compare_snapshots(from_id bigint, to_id bigint)
RETURNS TABLE (
    queryid bigint, query text, calls bigint, total_ms double precision, mean_ms double precision,
    rows bigint, hit_ratio double precision, share_of_total_pct double precision, flags text[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    untrusted boolean := dbopt.check_snapshot_window(from_id, to_id);
BEGIN
    RETURN QUERY
    -- Rounded for a reader (README "Order, figures and ok rows"); sorted on the exact total.
    SELECT d.queryid, t.query, d.calls, round(d.total_ms::numeric, 1)::double precision,
           round((d.total_ms / nullif(d.calls, 0))::numeric, 3)::double precision, d.rows,
           round((d.blks_hit::double precision / nullif(d.blks_hit + d.blks_read, 0))::numeric, 4)::double precision,
           round((100 * d.total_ms / nullif(sum(d.total_ms) OVER (), 0))::numeric, 1)::double precision,
           array_remove(ARRAY[CASE WHEN d.is_new THEN 'new' END,
                              CASE WHEN untrusted OR d.counters_reset THEN 'evicted_or_reset' END,
                              CASE WHEN d.counters_reset THEN 'counters_reset' END], NULL)
      FROM dbopt.snapshot_deltas(from_id, to_id) d
      LEFT JOIN dbopt.query_texts t
        ON t.queryid = d.queryid
       AND t.dbid = (SELECT o.oid FROM pg_catalog.pg_database o WHERE o.datname = pg_catalog.current_database())
     WHERE d.calls IS DISTINCT FROM 0
     ORDER BY d.total_ms DESC NULLS LAST, d.queryid;
END $$;

CREATE OR REPLACE FUNCTION dbopt.slow_queries(
    min_mean_ms double precision DEFAULT 1000, min_calls bigint DEFAULT 1)
RETURNS TABLE (
    queryid bigint, query text, calls bigint, mean_ms double precision, total_ms double precision,
    rows bigint, share_of_total_pct double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nsp name := (SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                  WHERE e.extname = 'pg_stat_statements');
BEGIN
    IF nsp IS NULL THEN
        RAISE EXCEPTION 'pg_stat_statements is not installed in this database'
            USING ERRCODE = '55000', DETAIL = 'slow_queries() reads it live.',
                  HINT = 'CREATE EXTENSION pg_stat_statements; it also needs shared_preload_libraries.';
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT s.queryid, s.query, s.calls, round(s.mean_exec_time::numeric, 3)::double precision,
                round(s.total_exec_time::numeric, 1)::double precision, s.rows,
                round((100 * s.total_exec_time / nullif(sum(s.total_exec_time) OVER (), 0))::numeric, 1)::double precision
           FROM %I.pg_stat_statements s
          WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
        ', nsp) || ' AND s.calls >= $2 AND s.mean_exec_time >= $1 ORDER BY s.mean_exec_time DESC'
      USING min_mean_ms, min_calls;
END $$;

CREATE OR REPLACE FUNCTION dbopt.detect_regressions(
    baseline_from bigint, baseline_to bigint, current_from bigint, current_to bigint,
    min_calls integer DEFAULT 20, min_ratio double precision DEFAULT 1.5,
    max_p_value double precision DEFAULT 0.01, min_added_ms double precision DEFAULT 1,
    min_share_pct double precision DEFAULT 1)
RETURNS SETOF dbopt.regression
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    window_s double precision;
BEGIN
    PERFORM dbopt.check_snapshot_window(baseline_from, baseline_to);
    PERFORM dbopt.check_snapshot_window(current_from, current_to);
    SELECT extract(epoch FROM b.taken_at - a.taken_at) INTO window_s
      FROM dbopt.snapshots a, dbopt.snapshots b WHERE a.snap_id = current_from AND b.snap_id = current_to;
    RETURN QUERY
    WITH w AS (
        -- Each window's exact count, total and sum of squares; NULL where counters restarted.
        SELECT x.which, d.queryid, d.calls AS n, d.total_ms AS total, d.sumsq
          FROM (VALUES ('b', baseline_from, baseline_to), ('c', current_from, current_to)) x(which, f, t)
          CROSS JOIN LATERAL dbopt.snapshot_deltas(x.f, x.t) d),
    m AS (
        SELECT w.which, w.queryid, w.n, w.total / w.n AS mean,
               greatest(w.sumsq / w.n - (w.total / w.n) ^ 2, 0) * w.n / nullif(w.n - 1, 0) AS var,
               100 * w.total / nullif(sum(w.total) FILTER (WHERE w.total > 0) OVER (PARTITION BY w.which), 0) AS share
          FROM w WHERE w.n > 0),
    r AS (
        SELECT b.queryid, b.n AS bn, c.n AS cn, b.mean AS bm, c.mean AS cm,
               c.mean / nullif(b.mean, 0) AS ratio,
               dbopt.welch_p_value(b.mean, b.var, b.n, c.mean, c.var, c.n) AS p,
               c.mean - b.mean AS added,
               (c.mean - b.mean) * c.n / nullif(window_s, 0) AS added_per_s,
               c.share
          FROM m b JOIN m c ON c.queryid = b.queryid AND b.which = 'b' AND c.which = 'c')
    -- Filtered and sorted on the exact figures, shown rounded: the p-value to
    -- four significant digits, so that a small one never reads as 0.
    SELECT r.queryid, t.query, r.bn, r.cn, round(r.bm::numeric, 3)::double precision,
           round(r.cm::numeric, 3)::double precision, round(r.ratio::numeric, 2)::double precision,
           CASE WHEN r.p > 0 AND r.p <= 1 THEN round(r.p::numeric, 3 - floor(log(r.p::numeric))::integer)::double precision
                ELSE r.p END,
           round(r.added::numeric, 3)::double precision, round(r.added_per_s::numeric, 3)::double precision,
           round(r.share::numeric, 1)::double precision
      FROM r
      LEFT JOIN dbopt.query_texts t
        ON t.queryid = r.queryid
       AND t.dbid = (SELECT o.oid FROM pg_catalog.pg_database o WHERE o.datname = pg_catalog.current_database())
     WHERE r.bn >= min_calls AND r.cn >= min_calls AND r.ratio >= min_ratio AND r.p <= max_p_value
       AND r.added >= min_added_ms AND r.share >= min_share_pct
     ORDER BY r.added_per_s DESC NULLS LAST, r.queryid;
END $$;

-- issue #22: partition an existing table online (src/partition_migrate.sql)

-- One row per conversion of a plain table into a range-partitioned one:
-- its plan lives in partition_migration_steps, the writes captured while
-- it copies in partition_migration_changes.  original and copy are the
-- two tables by OID: after the swap, original is <name>_premigration and
-- copy carries the name.
CREATE TABLE dbopt.partition_migrations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    original           oid NOT NULL,
    copy               oid,
    schema_name        name NOT NULL,
    table_name         name NOT NULL,
    copy_name          name NOT NULL,          -- the partitioned copy until the swap
    premigration_name  name NOT NULL,          -- the original after the swap
    partition_column   name NOT NULL,
    partition_interval text NOT NULL,
    premake            integer NOT NULL,
    batch_size         integer NOT NULL CHECK (batch_size BETWEEN 1 AND 1000000),
    state              text NOT NULL DEFAULT 'planned' CHECK (state IN
                       ('planned', 'copying', 'replaying', 'verifying', 'swapped', 'finished', 'undone', 'failed')),
    rows_copied        bigint NOT NULL DEFAULT 0,
    batches            integer NOT NULL DEFAULT 0,
    last_key           jsonb,
    changes_replayed   bigint NOT NULL DEFAULT 0,
    errors             integer NOT NULL DEFAULT 0,
    last_error         text,
    planned_by         name NOT NULL DEFAULT CURRENT_USER,
    started            timestamptz,
    updated            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    swapped_at         timestamptz,
    finished_at        timestamptz
);
-- One conversion under way per table.
CREATE UNIQUE INDEX partition_migrations_open ON dbopt.partition_migrations (original)
    WHERE state NOT IN ('finished', 'undone', 'failed');
COMMENT ON TABLE dbopt.partition_migrations IS
    'Conversions of tables into range-partitioned ones by partition_table() and run_partition_migration(): state, rows copied, batches, last key copied, errors';
REVOKE ALL ON dbopt.partition_migrations FROM PUBLIC;
GRANT SELECT ON dbopt.partition_migrations TO pg_monitor;

CREATE TABLE dbopt.partition_migration_steps (
    migration  bigint NOT NULL REFERENCES dbopt.partition_migrations ON DELETE CASCADE,
    step       integer NOT NULL,
    phase      text NOT NULL,
    action     text NOT NULL,
    object     text,
    detail     text,
    sql        text,
    run_as     text NOT NULL CHECK (run_as IN ('owner', 'dbopt', 'none')),
    done_at    timestamptz,
    PRIMARY KEY (migration, step)
);
COMMENT ON TABLE dbopt.partition_migration_steps IS
    'The plan of each partition migration, step by step, and when each step was done';
REVOKE ALL ON dbopt.partition_migration_steps FROM PUBLIC;
GRANT SELECT ON dbopt.partition_migration_steps TO pg_monitor;

-- Keys of the rows written to a table while its migration is open, by the
-- OID of the original table (reverse: written to the partitioned table
-- after the swap, for undo).  Replay deletes what it has applied.
CREATE TABLE dbopt.partition_migration_changes (
    id        bigint GENERATED ALWAYS AS IDENTITY,
    original  oid NOT NULL,
    reverse   boolean NOT NULL DEFAULT false,
    key       jsonb NOT NULL
);
CREATE INDEX ON dbopt.partition_migration_changes (original, reverse, id);
COMMENT ON TABLE dbopt.partition_migration_changes IS
    'Keys of rows written during a partition migration, captured by its trigger and replayed into the copy';
REVOKE ALL ON dbopt.partition_migration_changes FROM PUBLIC;

CREATE TYPE dbopt.partition_migration_step AS (
    step integer, action text, object text, detail text, sql text);
COMMENT ON TYPE dbopt.partition_migration_step IS
    'One step of partition_table(), finish_partition_migration() or undo_partition_migration()';

CREATE FUNCTION dbopt.partition_table(
    relation regclass, partition_column name, partition_interval text,
    premake integer DEFAULT 4, batch_size integer DEFAULT 10000, dry_run boolean DEFAULT true)
RETURNS SETOF dbopt.partition_migration_step
AS 'MODULE_PATHNAME', 'dbopt_partition_table'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.partition_table(regclass,name,text,integer,integer,boolean) IS
    'Plan the online conversion of a table into one range-partitioned on partition_column: partitions from the data''s min to max plus premake, keys widened by the partition column, and every index, constraint, trigger, policy, grant, comment, sequence and foreign key carried over; refuses what cannot be carried safely; dry_run => false records the plan for CALL run_partition_migration()';
REVOKE ALL ON FUNCTION dbopt.partition_table(regclass,name,text,integer,integer,boolean) FROM PUBLIC;

-- No SET clause: a procedure with one cannot commit.  Its statements run
-- under the pinned search_path all the same (dbopt_run_unit).
CREATE PROCEDURE dbopt.run_partition_migration(IN relation regclass)
AS 'MODULE_PATHNAME', 'dbopt_run_partition_migration'
LANGUAGE C;
COMMENT ON PROCEDURE dbopt.run_partition_migration(regclass) IS
    'Carry out a recorded partition_table() plan: create the partitioned copy, capture writes by trigger, copy in batches committing each (resumable), replay, verify counts and checksums per range, then swap names in one short transaction under dbopt.lock_timeout, keeping the original as <name>_premigration';
REVOKE ALL ON PROCEDURE dbopt.run_partition_migration(regclass) FROM PUBLIC;

CREATE FUNCTION dbopt.finish_partition_migration(
    relation regclass, drop_original boolean DEFAULT false, dry_run boolean DEFAULT false)
RETURNS SETOF dbopt.partition_migration_step
AS 'MODULE_PATHNAME', 'dbopt_finish_partition_migration'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.finish_partition_migration(regclass,boolean,boolean) IS
    'End a swapped partition migration: drop the capture triggers and their log, and with drop_original the <name>_premigration table; undo is no longer possible';
REVOKE ALL ON FUNCTION dbopt.finish_partition_migration(regclass,boolean,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.undo_partition_migration(relation regclass, dry_run boolean DEFAULT false)
RETURNS SETOF dbopt.partition_migration_step
AS 'MODULE_PATHNAME', 'dbopt_undo_partition_migration'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.undo_partition_migration(regclass,boolean) IS
    'Swap a partition migration back while the original is kept: the writes made since the swap are carried back, names, sequences and foreign keys restored, and the partitioned copy dropped; before the swap, abandon it: the capture trigger and the copy go';
REVOKE ALL ON FUNCTION dbopt.undo_partition_migration(regclass,boolean) FROM PUBLIC;
