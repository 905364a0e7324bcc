-- The stable part of dbopt.status() on the test cluster, which preloads
-- dbopt and pg_stat_statements.
SELECT severity, check_name, object_name, value, fix_sql
  FROM dbopt.status()
 WHERE check_name IN ('extension_version', 'library_preloaded',
                      'pg_stat_statements_loaded', 'setting')
 ORDER BY check_name, object_name;

-- Every row uses the shared severities and a registered check name.
SELECT DISTINCT severity FROM dbopt.status()
 WHERE severity NOT IN ('critical', 'warning', 'info', 'ok');
SELECT DISTINCT s.check_name FROM dbopt.status() s
 WHERE s.check_name NOT IN (SELECT c.check_name FROM dbopt.check_names() c);

-- pg_stat_statements fill matches a direct count (one statement, one view).
SELECT s.value = (SELECT count(*) FROM pg_stat_statements(false))::text
                 || '/' || current_setting('pg_stat_statements.max') AS fill_matches
  FROM dbopt.status() s WHERE s.check_name = 'pg_stat_statements_fill';

-- Companions: one row each; an installed one is 'ok' with its version,
-- an available one is 'info' with a CREATE EXTENSION fix.
SELECT object_name, severity IN ('ok', 'info') AS known_state
  FROM dbopt.status() WHERE check_name = 'companion_extension' ORDER BY 1;
SELECT severity, value, fix_sql
  FROM dbopt.status() WHERE check_name = 'companion_extension' AND object_name = 'amcheck';
CREATE EXTENSION amcheck;
SELECT severity, value ~ '^installed ' AS installed, fix_sql
  FROM dbopt.status() WHERE check_name = 'companion_extension' AND object_name = 'amcheck';
DROP EXTENSION amcheck;

-- Settings: reported with their current value, validated, prefix reserved.
SET dbopt.lock_timeout = '250ms';
SELECT value FROM dbopt.status() WHERE check_name = 'setting' AND object_name = 'dbopt.lock_timeout';
SET dbopt.lock_timeout = 0;
\echo :LAST_ERROR_SQLSTATE
SET dbopt.lock_timeot = '1s';
\echo :LAST_ERROR_SQLSTATE
RESET dbopt.lock_timeout;
