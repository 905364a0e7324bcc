-- pgTAP: check_names(), status() and suppressions beyond 01_foundation:
-- the registry's shape, that status() emits only its registered names,
-- object-wide and time-limited suppressions.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(11);

SELECT function_returns('dbopt', 'check_names', ARRAY[]::text[], 'setof record');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.check_names()', 'EXECUTE')
      AND has_function_privilege('pg_monitor', 'dbopt.status(boolean,boolean)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.check_names()', 'EXECUTE')
      AND NOT has_function_privilege('pg_monitor', 'dbopt.suppress(text,text,text,timestamp with time zone)', 'EXECUTE')
      AND NOT has_function_privilege('pg_monitor', 'dbopt.unsuppress(text,text)', 'EXECUTE'),
          'pg_monitor reads the registry and status; nobody but the owner suppresses');
SELECT is_empty($$ SELECT report, check_name FROM dbopt.check_names() GROUP BY 1, 2 HAVING count(*) > 1 $$,
                'each name is registered once per report');
SELECT is_empty($$ SELECT 1 FROM dbopt.check_names() WHERE coalesce(trim(description), '') = '' $$,
                'every name has a description');
SELECT set_eq($$ SELECT DISTINCT report FROM dbopt.check_names() $$,
              ARRAY['status', 'analyze_index_usage', 'find_unindexed_foreign_keys', 'check_data_integrity',
                    'health_check', 'validate_security_configuration', 'analyze_partition_distribution'],
              'the seven reports that emit findings');
SELECT is_empty($$ SELECT check_name FROM dbopt.status() EXCEPT
                   SELECT check_name FROM dbopt.check_names() WHERE report = 'status' $$,
                'status emits only its registered names');

-- NULL object_name: every object of the check.
SELECT dbopt.suppress('setting', NULL, 'pgTAP: all settings') \gset
SELECT is_empty($$ SELECT 1 FROM dbopt.status() WHERE check_name = 'setting' $$,
                'a suppression without an object hides every object of its check');
SELECT ok((SELECT bool_and(detail LIKE '%[suppressed: pgTAP: all settings]')
             FROM dbopt.status(include_suppressed => true) WHERE check_name = 'setting'),
          'include_suppressed shows them all, annotated');
SELECT ok(NOT dbopt.unsuppress('setting', 'dbopt.lock_timeout'),
          'unsuppress removes exactly the suppression named, not the object-wide one');
SELECT ok(dbopt.unsuppress('setting'), 'unsuppress without an object removes the object-wide one');

-- An expired suppression hides nothing.
SELECT dbopt.suppress('setting', 'dbopt.lock_timeout', 'pgTAP', now() + interval '1 hour') \gset
UPDATE dbopt.suppressions SET until = now() - interval '1 second' WHERE check_name = 'setting';
SELECT is((SELECT count(*)::int FROM dbopt.status() WHERE check_name = 'setting' AND object_name = 'dbopt.lock_timeout'), 1,
          'once its end time has passed, the finding shows again');

SELECT * FROM finish();
ROLLBACK;
