-- pgTAP: the foundation's contracts (schema, findings shape, suppressions).
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(17);

SELECT has_schema('dbopt');
SELECT has_table('dbopt', 'suppressions', 'suppressions table exists');
SELECT columns_are('dbopt', 'suppressions',
    ARRAY['check_name', 'object_name', 'reason', 'until', 'created_at', 'created_by']);
SELECT col_type_is('dbopt', 'suppressions', 'until', 'timestamp with time zone',
    'until is timestamptz');
SELECT has_function('dbopt', 'status', ARRAY['boolean', 'boolean']);
SELECT has_function('dbopt', 'suppress', ARRAY['text', 'text', 'text', 'timestamp with time zone']);
SELECT has_function('dbopt', 'unsuppress', ARRAY['text', 'text']);

-- Every check-style report starts with the shared findings columns, in order.
-- findings_changes() is not a report but a list of changes in the history
-- (change and time first), so it is not held to that shape.
SELECT is_empty($$
    SELECT p.oid::regprocedure
      FROM pg_proc p
     WHERE p.pronamespace = 'dbopt'::regnamespace
       AND 'severity' = ANY (p.proargnames)
       AND p.oid <> 'dbopt.findings_changes(timestamptz)'::regprocedure
       AND ((SELECT array_agg(n ORDER BY i)
               FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a(n, m, i)
              WHERE m IN ('o', 't'))::text[])[1:6]
           <> ARRAY['severity', 'check_name', 'object_name', 'detail', 'remediation', 'fix_sql']
$$, 'findings reports share the six leading columns');

SELECT is_empty($$
    SELECT 1 FROM dbopt.status()
     WHERE severity NOT IN ('critical', 'warning', 'info', 'ok') OR check_name IS NULL
$$, 'status rows have a valid severity and a check name');

SELECT set_eq($$
    SELECT object_name FROM dbopt.status() WHERE check_name = 'setting'
$$, $$ SELECT name FROM pg_settings WHERE name LIKE 'dbopt.%' $$,
    'status lists every dbopt.* setting');

SELECT throws_ok($$ SELECT dbopt.suppress('no_such_check', NULL, 'x') $$,
    '42704', 'unknown check name "no_such_check"', 'unknown check names are refused');
SELECT throws_ok($$ SELECT dbopt.suppress('setting', NULL, '') $$,
    '22023', 'a suppression needs a reason', 'a reason is required');
SELECT throws_ok($$ SELECT dbopt.suppress('setting', NULL, 'x', now() - interval '1 s') $$,
    '22023', 'suppression end time is not in the future', 'past end times are refused');

SELECT lives_ok($$ SELECT dbopt.suppress('setting', 'dbopt.lock_timeout', 'pgTAP') $$,
    'suppress accepts a known check');
SELECT is((SELECT count(*)::int FROM dbopt.status()
            WHERE check_name = 'setting' AND object_name = 'dbopt.lock_timeout'), 0,
    'suppressed finding is hidden');
SELECT is((SELECT count(*)::int FROM dbopt.status(include_suppressed => true)
            WHERE check_name = 'setting' AND detail LIKE '%[suppressed: pgTAP]'), 1,
    'include_suppressed shows it, annotated');
SELECT ok(dbopt.unsuppress('setting', 'dbopt.lock_timeout'), 'unsuppress removes it');

SELECT * FROM finish();
ROLLBACK;
