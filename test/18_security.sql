-- pgTAP: validate_security_configuration(): its shape, that it names only
-- registered checks, and that a failing case appears and its own fix_sql
-- clears it.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(9);

SELECT function_returns('dbopt', 'validate_security_configuration', ARRAY['boolean', 'boolean'], 'setof record');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.validate_security_configuration(boolean,boolean)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.validate_security_configuration(boolean,boolean)', 'EXECUTE'),
          'pg_monitor may run the security checks, PUBLIC may not');
SELECT is_empty($$ SELECT check_name FROM dbopt.validate_security_configuration(include_passed => true)
                   EXCEPT SELECT check_name FROM dbopt.check_names() $$,
                'every check name it emits is registered');
SELECT ok((SELECT count(*) FROM dbopt.validate_security_configuration(include_passed => true) WHERE severity = 'ok') > 0,
          'include_passed adds the checks that pass');

-- A SECURITY DEFINER function without a pinned search_path, executable by PUBLIC.
CREATE SCHEMA tap_sec;
CREATE FUNCTION tap_sec.definer() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
SELECT is((SELECT fix_sql FROM dbopt.validate_security_configuration()
            WHERE check_name = 'security_definer_search_path' AND object_name LIKE 'tap_sec.definer%'),
          'ALTER FUNCTION tap_sec.definer() SET search_path = pg_catalog, pg_temp',
          'an unpinned SECURITY DEFINER function is found, with its fix');
SELECT ok(EXISTS (SELECT 1 FROM dbopt.validate_security_configuration()
                   WHERE check_name = 'security_definer_public_execute' AND object_name LIKE 'tap_sec.definer%'),
          'and so is PUBLIC''s EXECUTE on it');
\o /dev/null
SELECT fix_sql FROM dbopt.validate_security_configuration()
 WHERE check_name IN ('security_definer_search_path', 'security_definer_public_execute')
   AND object_name LIKE 'tap_sec.definer%' \gexec
\o
SELECT is_empty($$ SELECT 1 FROM dbopt.validate_security_configuration() WHERE object_name LIKE 'tap_sec.definer%' $$,
                'running the fixes clears both');

SELECT lives_ok($$ SELECT dbopt.suppress('superuser_count', NULL, 'pgTAP') $$, 'a security finding can be suppressed');
SELECT is_empty($$ SELECT 1 FROM dbopt.validate_security_configuration() WHERE check_name = 'superuser_count' $$,
                'and is then hidden');

SELECT * FROM finish();
ROLLBACK;
