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
\c dbopt_regress
DROP DATABASE dbopt_upgrade;
