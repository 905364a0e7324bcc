-- Create, drop and re-create; CASCADE brings the required extensions.
CREATE EXTENSION dbopt CASCADE;
SELECT extname FROM pg_extension
 WHERE extname IN ('dbopt', 'pgcrypto', 'pg_stat_statements') ORDER BY 1;
SELECT e.extversion = a.default_version AS default_version_installed,
       e.extrelocatable, e.extnamespace::regnamespace AS schema
  FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
 WHERE e.extname = 'dbopt';

-- Config tables are dumped by pg_dump.
SELECT c AS dumped_config_table
  FROM pg_extension, unnest(extconfig::regclass[]) c
 WHERE extname = 'dbopt' ORDER BY c::text;

-- Not relocatable.
ALTER EXTENSION dbopt SET SCHEMA public;
\echo :LAST_ERROR_SQLSTATE

DROP EXTENSION dbopt;
SELECT count(*) AS dbopt_functions_left
  FROM pg_proc WHERE pronamespace = 'dbopt'::regnamespace;
CREATE EXTENSION dbopt;
SELECT count(*) > 0 AS recreated_status_works FROM dbopt.status();

-- Every function has a COMMENT ON (visible in \df+).
SELECT p.oid::regprocedure AS function_without_comment
  FROM pg_proc p
 WHERE p.pronamespace = 'dbopt'::regnamespace
   AND obj_description(p.oid, 'pg_proc') IS NULL;

-- Every table and view has one too.
SELECT c.oid::regclass AS relation_without_comment
  FROM pg_class c
 WHERE c.relnamespace = 'dbopt'::regnamespace AND c.relkind IN ('r', 'v', 'p', 'm')
   AND obj_description(c.oid, 'pg_class') IS NULL;
