-- dbopt 0.8 -> 0.9: security (issue #17).
\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.9'" to load this file. \quit

-- Views made by create_masked_view() call dbopt.mask_*(), which PUBLIC may
-- execute; USAGE lets readers call them directly too.  Every other function
-- and every table stays revoked from PUBLIC.
GRANT USAGE ON SCHEMA dbopt TO PUBLIC;

-- A job runs as a role, kept by OID: renaming the role keeps its jobs, and
-- the scheduler disables the jobs of a dropped role (recorded 'skipped').
DROP VIEW dbopt.job_status;
ALTER TABLE dbopt.jobs ALTER COLUMN run_as TYPE pg_catalog.regrole USING run_as::pg_catalog.regrole;
CREATE VIEW dbopt.job_status AS
SELECT j.*,
       dbopt.schedule_interval(j.schedule) AS schedule_interval,
       j.enabled AND coalesce(j.last_success_at, j.created_at)
           < pg_catalog.now() - 2 * dbopt.schedule_interval(j.schedule) AS overdue
  FROM dbopt.jobs j;
COMMENT ON VIEW dbopt.job_status IS
    'dbopt.jobs with each schedule''s interval and overdue: an enabled job with no success within twice its interval';
REVOKE ALL ON dbopt.job_status FROM PUBLIC;
GRANT SELECT ON dbopt.job_status TO pg_monitor;

-- A run that could not start is recorded, not lost.
ALTER TABLE dbopt.job_runs DROP CONSTRAINT job_runs_status_check;
-- The scheduler looks for runs whose process is gone at every tick.
CREATE INDEX job_runs_running ON dbopt.job_runs (run_id) WHERE status = 'running';
ALTER TABLE dbopt.job_runs ADD CONSTRAINT job_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'crashed', 'skipped'));

-- Masking: a negative count is an error, and a short number shows no digit.
CREATE OR REPLACE FUNCTION dbopt.mask_text(value text, keep_first integer, keep_last integer)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_mask_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION dbopt.mask_text(text, integer, integer) IS
    'The text with every character but the first keep_first and the last keep_last replaced by *; all * when it is no longer than those; an error for negative counts';
CREATE OR REPLACE FUNCTION dbopt.mask_phone(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    -- every digit but the last four becomes *, every digit when there are four or fewer;
    -- spaces, signs and brackets stay
    SELECT pg_catalog.string_agg(CASE WHEN c OPERATOR(pg_catalog.~) '[0-9]'
                                       AND (n OPERATOR(pg_catalog.<=) (d OPERATOR(pg_catalog.-) 4)
                                            OR d OPERATOR(pg_catalog.<=) 4)
                                      THEN '*' ELSE c END, '' ORDER BY i)
      FROM (SELECT c, i, pg_catalog.count(*) FILTER (WHERE c OPERATOR(pg_catalog.~) '[0-9]') OVER (ORDER BY i) AS n,
                   pg_catalog.count(*) FILTER (WHERE c OPERATOR(pg_catalog.~) '[0-9]') OVER () AS d
              FROM pg_catalog.regexp_split_to_table(value, '') WITH ORDINALITY t(c, i)) s $$;
COMMENT ON FUNCTION dbopt.mask_phone(text) IS
    'A phone number with every digit but the last four replaced by *, every digit when it has four or fewer, its formatting kept (+** (***) ***-4567)';

-- Every function resolves names in pg_catalog only while it runs, so no
-- caller's or database owner's search_path can put a function, operator,
-- type or cast of theirs into dbopt's statements.  Left out, each for a
-- reason (README, "Security model"): trigger functions and the pure
-- per-row helpers (speed; they run no SQL of dbopt's), functions whose
-- arguments are SQL or names in the caller's search_path (run_job,
-- schedule_job, alter_job, suggest_indexes: they pin the path themselves
-- around their own statements), and run_data_retention, a procedure that
-- commits (a SET clause would forbid it).
DO $pin$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'dbopt'::regnamespace
           AND p.prokind = 'f'
           AND p.proname NOT IN ('audit_trigger', 'audit_log_guard', 'mask_text', 'mask_email', 'mask_phone',
                                 'encrypt_value', 'decrypt_value', 'welch_p_value', 'schedule_next_run',
                                 'schedule_interval', 'run_job', 'schedule_job', 'alter_job', 'suggest_indexes')
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END
$pin$;

-- A NULL for dry_run (or any other argument) of these is an error, not a
-- silent no-op: they were STRICT.
ALTER FUNCTION dbopt.purge_snapshots(interval, boolean) CALLED ON NULL INPUT;
ALTER FUNCTION dbopt.disable_audit(regclass, boolean) CALLED ON NULL INPUT;
ALTER FUNCTION dbopt.purge_audit_log(interval, boolean) CALLED ON NULL INPUT;
ALTER FUNCTION dbopt.enable_tenant_isolation(regclass, name, text, boolean) CALLED ON NULL INPUT;
ALTER FUNCTION dbopt.disable_tenant_isolation(regclass, boolean) CALLED ON NULL INPUT;

-- Audit that cannot be switched off unseen.  The triggers enable_audit()
-- installs fire ALWAYS, so session_replication_role = replica does not
-- skip them; an ALTER TABLE that disables or changes them, and a DROP
-- TRIGGER of them, writes an 'AUDIT OFF' or 'AUDIT CHANGED' row to the log
-- in the same transaction.  audited_tables says how they fire.
CREATE FUNCTION dbopt.audit_ddl_watch()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'dbopt_audit_ddl_watch'
LANGUAGE C;
COMMENT ON FUNCTION dbopt.audit_ddl_watch() IS
    'Event trigger: writes an audit row when a command disables, changes or drops a table''s dbopt audit triggers';
REVOKE ALL ON FUNCTION dbopt.audit_ddl_watch() FROM PUBLIC;
-- The start event remembers a trigger about to be dropped, replaced or
-- renamed (afterwards it cannot be recognised); both fire ALWAYS, so
-- session_replication_role does not skip them either.
CREATE EVENT TRIGGER dbopt_audit_watch ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'DROP TRIGGER', 'ALTER TRIGGER', 'CREATE TRIGGER')
    EXECUTE FUNCTION dbopt.audit_ddl_watch();
CREATE EVENT TRIGGER dbopt_audit_watch_start ON ddl_command_start
    WHEN TAG IN ('DROP TRIGGER', 'ALTER TRIGGER', 'CREATE TRIGGER')
    EXECUTE FUNCTION dbopt.audit_ddl_watch();
ALTER EVENT TRIGGER dbopt_audit_watch ENABLE ALWAYS;
ALTER EVENT TRIGGER dbopt_audit_watch_start ENABLE ALWAYS;

CREATE OR REPLACE VIEW dbopt.audited_tables AS
SELECT t.tgrelid::regclass AS relation,
       t.tgenabled IN ('O', 'A') AND coalesce(tr.tgenabled IN ('O', 'A'), false) AS enabled,
       (SELECT pg_catalog.array_agg(a ORDER BY n)
          FROM pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.rtrim(pg_catalog.encode(t.tgargs, 'escape'), '\000'), '\000'))
               WITH ORDINALITY u(a, n) WHERE a <> '') AS excluded_columns,
       CASE t.tgenabled WHEN 'A' THEN 'always' WHEN 'O' THEN 'origin' WHEN 'R' THEN 'replica' ELSE 'disabled' END AS fires
  FROM pg_catalog.pg_trigger t
  LEFT JOIN pg_catalog.pg_trigger tr ON tr.tgrelid = t.tgrelid
        AND tr.tgfoid = 'dbopt.audit_trigger()'::pg_catalog.regprocedure
        AND (tr.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 1) = 0
 -- found by function, not by name: renaming the trigger does not hide it
 WHERE t.tgfoid = 'dbopt.audit_trigger()'::pg_catalog.regprocedure
   AND (t.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 1) = 1;
COMMENT ON VIEW dbopt.audited_tables IS
    'Tables with the dbopt audit triggers: enabled when both fire in ordinary sessions; fires: always (also in replica mode, as enable_audit installs them), origin, replica (skipped in ordinary sessions) or disabled';
