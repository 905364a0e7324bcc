-- The upgrade path: install the first release, keep data, update to the
-- current one, and end with the same functions as a fresh install.
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
CREATE TEMP TABLE upgraded AS
SELECT p.oid::regprocedure::text AS fn, pg_get_function_result(p.oid) AS result,
       obj_description(p.oid, 'pg_proc') AS comment, p.proacl::text AS acl
  FROM pg_proc p WHERE p.pronamespace = 'dbopt'::regnamespace;
DROP EXTENSION dbopt;
CREATE EXTENSION dbopt;
SELECT count(*) AS differences FROM (
  (SELECT p.oid::regprocedure::text, pg_get_function_result(p.oid),
          obj_description(p.oid, 'pg_proc'), p.proacl::text
     FROM pg_proc p WHERE p.pronamespace = 'dbopt'::regnamespace
   EXCEPT SELECT * FROM upgraded)
  UNION ALL
  (SELECT * FROM upgraded
   EXCEPT SELECT p.oid::regprocedure::text, pg_get_function_result(p.oid),
                 obj_description(p.oid, 'pg_proc'), p.proacl::text
            FROM pg_proc p WHERE p.pronamespace = 'dbopt'::regnamespace)) d;
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
    FOREACH v IN ARRAY ARRAY['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '0.10'] LOOP
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
