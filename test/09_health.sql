-- pgTAP: health_check(): its shape, that every check answers once at
-- least, that thresholds are the dbopt.health_* settings, that a check the
-- caller may not run fails alone, and who may call it.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(12);

SELECT function_returns('dbopt', 'health_check', ARRAY['boolean', 'boolean', 'boolean'], 'setof record');
SELECT is((SELECT string_agg(n || ' ' || format_type(t, NULL), ', ' ORDER BY o)
             FROM pg_proc p, unnest(p.proargnames, p.proallargtypes, p.proargmodes)
                  WITH ORDINALITY AS x(n, t, m, o)
            WHERE p.oid = 'dbopt.health_check(boolean,boolean,boolean)'::regprocedure AND m = 't'),
          'severity text, check_name text, object_name text, detail text, remediation text, fix_sql text, value double precision, threshold double precision',
          'health_check returns the findings columns plus value and threshold');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.health_check(boolean,boolean,boolean)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.health_check(boolean,boolean,boolean)', 'EXECUTE'),
          'pg_monitor may run health_check, PUBLIC may not');

CREATE TEMP TABLE hc AS SELECT * FROM dbopt.health_check();
SELECT set_eq($$ SELECT DISTINCT check_name FROM hc $$,
              $$ SELECT check_name FROM dbopt.check_names()
                  WHERE report = 'health_check' AND check_name <> 'check_failed' $$,
              'every registered health check answers, and only those');
SELECT is((SELECT count(DISTINCT check_name)::int FROM hc), 16, 'sixteen checks');
SELECT is_empty($$ SELECT 1 FROM hc WHERE severity NOT IN ('ok', 'info', 'warning', 'critical') $$,
                'every row has a valid severity');

-- A threshold of 0 turns the connection check into a warning whose value
-- and threshold are in the same unit (percent).
SET LOCAL dbopt.health_connection_utilization = 0;
SELECT results_eq(
    $$ SELECT severity, threshold, value > 0 AND value <= 100 FROM dbopt.health_check()
        WHERE check_name = 'connection_utilization' $$,
    $$ VALUES ('warning', 0::float8, true) $$,
    'connection_utilization warns above its setting, in percent');
RESET dbopt.health_connection_utilization;
SELECT is((SELECT severity FROM dbopt.health_check() WHERE check_name = 'connection_utilization'),
          'ok', 'and is ok at the default 80%');
SELECT throws_ok($$ SET dbopt.health_connection_utilization = -1 $$, '22023', NULL,
                 'a negative threshold is refused');
SELECT is_empty($$ SELECT 1 FROM dbopt.health_check(NULL) $$,
                'a NULL notify gives no rows (strict), never an alert');

-- A role granted EXECUTE but not pg_monitor: the checks it may not read
-- become check_failed rows, and the other checks still answer.
CREATE ROLE tap_hc_nobody;
GRANT EXECUTE ON FUNCTION dbopt.health_check(boolean, boolean, boolean) TO tap_hc_nobody;
GRANT SELECT ON dbopt.suppressions TO tap_hc_nobody;  -- every report reads it
SET LOCAL ROLE tap_hc_nobody;
CREATE TEMP TABLE hc_nobody AS SELECT * FROM dbopt.health_check();
RESET ROLE;
SELECT ok((SELECT count(*) FROM hc_nobody WHERE check_name = 'check_failed') > 0
      AND (SELECT count(DISTINCT check_name) FROM hc_nobody WHERE check_name <> 'check_failed') > 0,
          'without pg_monitor some checks fail alone, the others answer');
SET LOCAL ROLE tap_hc_nobody;
SELECT throws_ok($$ SELECT * FROM dbopt.validate_security_configuration() $$, '42501', NULL,
                 'the grant covers health_check only');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
