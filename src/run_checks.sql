-- src/run_checks.sql: run_checks(), the history of findings it keeps, and its daily job (the SQL of src/run_checks.c)

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
