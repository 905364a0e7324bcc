-- src/audit.sql: the audit trigger, its log and its guards (the SQL of src/audit.c)

-- Audit: rows written by dbopt.audit_trigger() straight into the heap and
-- index; append-only (dbopt.audit_log_guard), removed only by
-- purge_audit_log().  Its rows are dumped by pg_dump.
CREATE TABLE dbopt.audit_log (
    id               bigserial NOT NULL,
    logged_at        timestamptz NOT NULL,
    txid             bigint NOT NULL,
    relation_name    text NOT NULL,
    relation         oid NOT NULL,
    operation        text NOT NULL,
    row_key          jsonb,
    old_data         jsonb,
    new_data         jsonb,
    changed_columns  text[],
    db_user          text NOT NULL,
    application_name text,
    client_addr      inet,
    tenant           text
);
CREATE INDEX audit_log_relation_logged_at ON dbopt.audit_log (relation, logged_at);
COMMENT ON TABLE dbopt.audit_log IS
    'Audit rows written by dbopt.audit_trigger(): one per INSERT, DELETE, UPDATE that changed something (changed columns only) and TRUNCATE; append-only';
SELECT pg_catalog.pg_extension_config_dump('dbopt.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('dbopt.audit_log_id_seq', '');
REVOKE ALL ON dbopt.audit_log FROM PUBLIC;

CREATE FUNCTION dbopt.audit_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'dbopt_audit_trigger'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.audit_trigger() IS
    'The audit trigger installed by dbopt.enable_audit(); its arguments are the columns left out';
REVOKE ALL ON FUNCTION dbopt.audit_trigger() FROM PUBLIC;

CREATE FUNCTION dbopt.audit_log_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'dbopt_audit_log_guard'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.audit_log_guard() IS
    'Keeps dbopt.audit_log append-only: refuses UPDATE, DELETE and TRUNCATE outside dbopt.purge_audit_log()';
REVOKE ALL ON FUNCTION dbopt.audit_log_guard() FROM PUBLIC;

CREATE FUNCTION dbopt.enable_audit(
    relation regclass, exclude_columns text[] DEFAULT NULL, dry_run boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_enable_audit'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.enable_audit(regclass,text[],boolean) IS
    'Install the C audit triggers on a table the caller owns (row INSERT/UPDATE/DELETE, statement TRUNCATE), leaving exclude_columns out of the log; again to change the exclusions';
REVOKE ALL ON FUNCTION dbopt.enable_audit(regclass,text[],boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.disable_audit(relation regclass, dry_run boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_disable_audit'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.disable_audit(regclass,boolean) IS
    'Remove the audit triggers from a table the caller owns; its rows in dbopt.audit_log stay';
REVOKE ALL ON FUNCTION dbopt.disable_audit(regclass,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.purge_audit_log(older_than interval, dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_audit_log'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.purge_audit_log(interval,boolean) IS
    'Delete audit rows older than older_than (extension owner only: the only way rows leave the log); returns the count, logged in dbopt.maintenance_log';
REVOKE ALL ON FUNCTION dbopt.purge_audit_log(interval,boolean) FROM PUBLIC;

-- Audit that cannot be switched off unseen.  The triggers enable_audit()
-- installs fire ALWAYS, so session_replication_role = replica does not
-- skip them; an ALTER TABLE that disables or changes them, and a DROP
-- TRIGGER of them, writes an 'AUDIT OFF' or 'AUDIT CHANGED' row to the log
-- in the same transaction.  audited_tables says how they fire.
CREATE FUNCTION dbopt.audit_ddl_watch()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'dbopt_audit_ddl_watch'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.audit_ddl_watch() IS
    'Event trigger: writes an audit row when a command disables, changes or drops a table''s dbopt audit triggers';
REVOKE ALL ON FUNCTION dbopt.audit_ddl_watch() FROM PUBLIC;

CREATE FUNCTION dbopt.purge_audit_log(older_than text, dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_audit_log'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.purge_audit_log(text,boolean) IS
    'purge_audit_log() with older_than written as text, such as ''1 year'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.purge_audit_log(text,boolean) FROM PUBLIC;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON dbopt.audit_log
    FOR EACH ROW EXECUTE FUNCTION dbopt.audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON dbopt.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION dbopt.audit_log_guard();

CREATE VIEW dbopt.audited_tables AS
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
REVOKE ALL ON dbopt.audited_tables FROM PUBLIC;
GRANT SELECT ON dbopt.audited_tables TO pg_monitor;

-- Audit that cannot be switched off unseen.  The triggers enable_audit()
-- installs fire ALWAYS, so session_replication_role = replica does not
-- skip them; an ALTER TABLE that disables or changes them, and a DROP,
-- are seen by these event triggers.  The start event remembers a trigger
-- about to be dropped, replaced or renamed (afterwards it cannot be
-- recognised); both fire ALWAYS, so session_replication_role does not
-- skip them either.
CREATE EVENT TRIGGER dbopt_audit_watch ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'DROP TRIGGER', 'ALTER TRIGGER', 'CREATE TRIGGER')
    EXECUTE FUNCTION dbopt.audit_ddl_watch();
CREATE EVENT TRIGGER dbopt_audit_watch_start ON ddl_command_start
    WHEN TAG IN ('DROP TRIGGER', 'ALTER TRIGGER', 'CREATE TRIGGER')
    EXECUTE FUNCTION dbopt.audit_ddl_watch();
ALTER EVENT TRIGGER dbopt_audit_watch ENABLE ALWAYS;
ALTER EVENT TRIGGER dbopt_audit_watch_start ENABLE ALWAYS;
