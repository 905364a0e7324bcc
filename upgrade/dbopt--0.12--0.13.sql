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

-- issue #21 (duplicates): one view, dbopt.session_ages, serves the health checks
-- idle_in_transaction and long_running_query

-- The sessions the checks idle_in_transaction and long_running_query judge,
-- one query for both: each client session but this one that is idle in a
-- transaction (aged from its last state change) or running a statement
-- (aged from its start), and whether it blocks others (the blockers
-- computed once, not per row).  security_invoker: the caller sees the
-- sessions pg_stat_activity shows the caller.
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
REVOKE ALL ON dbopt.session_ages FROM PUBLIC;
GRANT SELECT ON dbopt.session_ages TO pg_monitor;
