-- The upgrade path: install the first release, keep data, update step by
-- step to the current one, and end with the same catalog as a fresh install.
CREATE DATABASE dbopt_upgrade;
\c dbopt_upgrade
CREATE EXTENSION dbopt VERSION '0.1' CASCADE;
SELECT dbopt.suppress('setting', NULL, 'kept across the upgrade');
-- The 0.2 library notices the 0.1 objects and says how to update.
SELECT severity, value, fix_sql FROM dbopt.status() WHERE check_name = 'extension_version';
ALTER EXTENSION dbopt UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'dbopt';
SELECT check_name, reason FROM dbopt.suppressions;
SELECT severity, value FROM dbopt.status() WHERE check_name = 'extension_version';
-- The catalog of the extension, one row per fact: every function's
-- definition (arguments and defaults, result, language, volatility,
-- strictness, security, settings, body), ACL and comment; every table,
-- view, sequence and composite type with its columns (type, default,
-- nullability, identity, position), constraints, indexes, triggers, view
-- text, ACL and comments; the event triggers; the extension's members and
-- its pg_extension_config_dump entries.
-- An ACL as a sorted list: the same grants in another order are the same.
CREATE FUNCTION public.acl_sorted(acl aclitem[], kind "char", owner oid) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(coalesce(acl, acldefault(kind, owner))) a
$$;
CREATE FUNCTION public.dbopt_catalog() RETURNS TABLE (kind text, object text, detail text)
LANGUAGE sql STABLE AS $$
SELECT 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid)
  FROM pg_proc p WHERE p.pronamespace = 'dbopt'::regnamespace
UNION ALL
SELECT 'function acl, comment', p.oid::regprocedure::text,
       format('%s | %s', public.acl_sorted(p.proacl, 'f', p.proowner), obj_description(p.oid, 'pg_proc'))
  FROM pg_proc p WHERE p.pronamespace = 'dbopt'::regnamespace
UNION ALL
SELECT 'relation', c.oid::regclass::text,
       format('kind %s, persistence %s, options %s, acl %s, comment %s', c.relkind, c.relpersistence,
              c.reloptions, public.acl_sorted(c.relacl, CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner),
              obj_description(c.oid, 'pg_class'))
  FROM pg_class c WHERE c.relnamespace = 'dbopt'::regnamespace AND c.relkind <> 'i'
UNION ALL
SELECT 'type comment', t.oid::regtype::text, obj_description(t.oid, 'pg_type')
  FROM pg_type t WHERE t.typnamespace = 'dbopt'::regnamespace AND t.typtype <> 'b'
UNION ALL
SELECT 'column', format('%s.%s', c.oid::regclass, a.attname),
       format('position %s, type %s, not null %s, default %s, identity %s, generated %s, collation %s, comment %s',
              row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
              a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
              a.attcollation, col_description(c.oid, a.attnum))
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'dbopt'::regnamespace AND c.relkind <> 'i'
UNION ALL
SELECT 'constraint', format('%s.%s', n.conrelid::regclass, n.conname), pg_get_constraintdef(n.oid)
  FROM pg_constraint n WHERE n.connamespace = 'dbopt'::regnamespace
UNION ALL
SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'dbopt'::regnamespace
UNION ALL
SELECT 'trigger', format('%s.%s', t.tgrelid::regclass, t.tgname), format('%s, enabled %s', pg_get_triggerdef(t.oid), t.tgenabled)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'dbopt'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'view', c.oid::regclass::text, pg_get_viewdef(c.oid)
  FROM pg_class c WHERE c.relnamespace = 'dbopt'::regnamespace AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'sequence', s.seqrelid::regclass::text,
       format('%s %s %s %s %s %s', s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcycle)
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = 'dbopt'::regnamespace
UNION ALL
SELECT 'event trigger', e.evtname,
       format('%s %s %s %s', e.evtevent, e.evtfoid::regprocedure, e.evtenabled, e.evttags)
  FROM pg_event_trigger e
UNION ALL
SELECT 'member', pg_describe_object(d.classid, d.objid, d.objsubid), ''
  FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
 WHERE x.extname = 'dbopt' AND d.deptype = 'e'
UNION ALL
SELECT 'config dump', c.tbl::regclass::text, c.cond
  FROM pg_extension x, unnest(x.extconfig, x.extcondition) c(tbl, cond) WHERE x.extname = 'dbopt'
UNION ALL
SELECT 'schema', n.nspname, format('acl %s, comment %s', public.acl_sorted(n.nspacl, 'n', n.nspowner), obj_description(n.oid, 'pg_namespace'))
  FROM pg_namespace n WHERE n.nspname = 'dbopt'
UNION ALL
SELECT 'default job', j.job_name,
       format('%s %s %s %s %s', j.kind, j.schedule, j.enabled, j.run_as, j.next_run_at IS NOT NULL)
  FROM dbopt.jobs j WHERE j.is_default
$$;
CREATE TABLE upgraded AS SELECT * FROM public.dbopt_catalog();
DROP EXTENSION dbopt;
CREATE EXTENSION dbopt;
CREATE TABLE fresh AS SELECT * FROM public.dbopt_catalog();
-- Every fact of the updated install and the fresh one agree: no rows.
(SELECT 'only after the update' AS side, * FROM upgraded EXCEPT SELECT 'only after the update', * FROM fresh)
UNION ALL
(SELECT 'only in a fresh install', * FROM fresh EXCEPT SELECT 'only in a fresh install', * FROM upgraded)
ORDER BY 2, 3, 1;
SELECT count(*) > 300 AS enough_facts, count(DISTINCT kind) AS kinds FROM fresh;
-- The comparison sees what an update script could miss: each change below
-- to the fresh install shows up as a difference.
BEGIN;
ALTER FUNCTION dbopt.status(boolean, boolean) VOLATILE;
COMMENT ON FUNCTION dbopt.check_names() IS 'changed';
REVOKE EXECUTE ON FUNCTION dbopt.health_check(boolean, boolean, boolean) FROM pg_monitor;
ALTER TABLE dbopt.jobs ALTER COLUMN max_retries SET DEFAULT 5;
ALTER TABLE dbopt.suppressions ADD COLUMN extra text;
ALTER TABLE dbopt.retention_policies DROP CONSTRAINT retention_policies_on_referenced_check;
CREATE INDEX changed_idx ON dbopt.job_runs (pid);
CREATE OR REPLACE VIEW dbopt.registered_standbys AS
    SELECT s.name, s.added_at, s.added_by FROM dbopt.standbys s WHERE s.name <> '';
ALTER TABLE dbopt.audit_log DISABLE TRIGGER audit_log_no_truncate;
ALTER EVENT TRIGGER dbopt_audit_watch ENABLE;
GRANT SELECT ON dbopt.standbys TO pg_monitor;
ALTER EXTENSION dbopt DROP TABLE dbopt.suppressions;
ALTER SEQUENCE dbopt.audit_log_id_seq MAXVALUE 1000;
COMMENT ON TYPE dbopt.regression IS 'changed';
SELECT kind, object FROM (
  (SELECT * FROM fresh EXCEPT SELECT * FROM public.dbopt_catalog())
  UNION
  (SELECT * FROM public.dbopt_catalog() EXCEPT SELECT * FROM fresh)) d
 ORDER BY 1, 2;
ROLLBACK;
-- Every historic version: status() and the read-only reports (granted to
-- pg_monitor, callable without arguments) run against the old objects; an
-- old install gets the extension_version warning, never an error.
DROP EXTENSION dbopt;
SET client_min_messages = warning;
CREATE TEMP TABLE old_versions (version text, status_rows bigint, version_check text,
                                reports int, failed text);
DO $$
DECLARE
    v text;
    f regprocedure;
    n int;
    failed text;
    cnt bigint;
BEGIN
    FOREACH v IN ARRAY ARRAY['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '0.10', '0.11', '0.12'] LOOP
        EXECUTE format('CREATE EXTENSION dbopt VERSION %L CASCADE', v);
        n := 0;
        failed := '';
        FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                  WHERE p.pronamespace = 'dbopt'::regnamespace AND p.proretset
                    AND p.pronargs = p.pronargdefaults
                    AND has_function_privilege('pg_monitor', p.oid, 'EXECUTE')
                  ORDER BY 1 LOOP
            BEGIN
                EXECUTE format('SELECT count(*) FROM %s.%I()',
                               'dbopt', (SELECT proname FROM pg_proc WHERE oid = f)) INTO cnt;
                n := n + 1;
            EXCEPTION WHEN OTHERS THEN
                failed := failed || f::text || ': ' || SQLERRM || '; ';
            END;
        END LOOP;
        INSERT INTO old_versions
        SELECT v, (SELECT count(*) FROM dbopt.status()),
               (SELECT severity || ' ' || value FROM dbopt.status() WHERE check_name = 'extension_version'),
               n, failed;
        DROP EXTENSION dbopt;
    END LOOP;
END $$;
RESET client_min_messages;
SELECT version, status_rows > 0 AS status_runs, version_check, reports > 0 AS reports_run, failed
  FROM old_versions ORDER BY string_to_array(version, '.')::int[];
\c dbopt_regress
DROP DATABASE dbopt_upgrade;
