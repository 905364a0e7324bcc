-- src/findings.sql: suppressions and the history of findings (the SQL of src/findings.c)

-- Accepted findings.  Every report hides the findings matched here unless
-- called with include_suppressed => true.
CREATE TABLE dbopt.suppressions (
    check_name  text NOT NULL CHECK (check_name <> ''),
    object_name text,          -- NULL: every object of this check
    reason      text NOT NULL CHECK (btrim(reason) <> ''),
    until       timestamptz,   -- NULL: no end
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL DEFAULT CURRENT_USER,
    CONSTRAINT suppressions_check_object_key
        UNIQUE NULLS NOT DISTINCT (check_name, object_name)
);
COMMENT ON TABLE dbopt.suppressions IS
    'Accepted findings that dbopt reports hide unless include_suppressed => true; object_name NULL matches every object of the check';
SELECT pg_catalog.pg_extension_config_dump('dbopt.suppressions', '');
REVOKE ALL ON dbopt.suppressions FROM PUBLIC;
GRANT SELECT ON dbopt.suppressions TO pg_monitor;

CREATE FUNCTION dbopt.suppress(
    check_name text, object_name text DEFAULT NULL, reason text DEFAULT NULL,
    until timestamp with time zone DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'dbopt_suppress'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.suppress(text,text,text,timestamp with time zone) IS
    'Hide a finding (one object, or all objects when object_name is NULL) until a time or for good; the check name is validated and a reason is required';
REVOKE ALL ON FUNCTION dbopt.suppress(text,text,text,timestamp with time zone) FROM PUBLIC;

CREATE FUNCTION dbopt.unsuppress(check_name text, object_name text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dbopt_unsuppress'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.unsuppress(text,text) IS
    'Remove the suppression for exactly (check_name, object_name); true when one existed';
REVOKE ALL ON FUNCTION dbopt.unsuppress(text,text) FROM PUBLIC;

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
