-- pgTAP: tenant isolation: enable_tenant_isolation() forces row-level
-- security with one policy keyed on a setting; a reader sees no rows
-- without it and only its tenant's with it; disable_tenant_isolation()
-- undoes it.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(13);

SELECT function_returns('dbopt', 'enable_tenant_isolation', ARRAY['regclass', 'name', 'text', 'boolean'], 'text');
SELECT function_returns('dbopt', 'disable_tenant_isolation', ARRAY['regclass', 'boolean'], 'text');
SELECT ok(NOT has_function_privilege('public', 'dbopt.enable_tenant_isolation(regclass,name,text,boolean)', 'EXECUTE')
      AND NOT has_function_privilege('pg_monitor', 'dbopt.enable_tenant_isolation(regclass,name,text,boolean)', 'EXECUTE')
      AND NOT has_function_privilege('pg_monitor', 'dbopt.disable_tenant_isolation(regclass,boolean)', 'EXECUTE'),
          'tenant isolation is granted to nobody');

CREATE TABLE tap_ten (id int PRIMARY KEY, org_id int NOT NULL, v text);
INSERT INTO tap_ten SELECT g, g % 3, 'v' || g FROM generate_series(1, 30) g;
CREATE ROLE tap_ten_reader;
GRANT SELECT, INSERT ON tap_ten TO tap_ten_reader;

SELECT ok(dbopt.enable_tenant_isolation('tap_ten', 'org_id', dry_run => true) ~ '^would ', 'a dry run says what it would do');
SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'tap_ten'::regclass), false, 'and changes nothing');
SELECT lives_ok($$ SELECT dbopt.enable_tenant_isolation('tap_ten', 'org_id') $$, 'isolation is enabled');
SELECT results_eq($$ SELECT relrowsecurity, relforcerowsecurity, (SELECT polname FROM pg_policy WHERE polrelid = c.oid)
                       FROM pg_class c WHERE oid = 'tap_ten'::regclass $$,
                  $$ VALUES (true, true, 'dbopt_tenant_isolation'::name) $$,
                  'row-level security is on and forced, with dbopt''s policy');

SET LOCAL ROLE tap_ten_reader;
SELECT is((SELECT count(*)::int FROM tap_ten), 0, 'without the setting a reader sees no rows');
SET LOCAL app.current_organization_id = '2';
SELECT is((SELECT count(*)::int FROM tap_ten WHERE org_id = 2), (SELECT count(*)::int FROM tap_ten),
          'with it, only that tenant''s rows');
SELECT throws_ok($$ INSERT INTO tap_ten VALUES (100, 1, 'x') $$, '42501', NULL, 'writing another tenant''s row is refused');
SET LOCAL app.current_organization_id = '';
RESET ROLE;

SELECT throws_ok($$ SELECT dbopt.enable_tenant_isolation('tap_ten', 'no_such_column') $$, NULL, NULL,
                 'an unknown column is refused');
SELECT throws_ok($$ SELECT dbopt.enable_tenant_isolation(NULL, 'org_id') $$, '22004', NULL, 'a NULL table is refused');
SELECT lives_ok($$ SELECT dbopt.disable_tenant_isolation('tap_ten') $$, 'isolation is disabled');

SELECT * FROM finish();
ROLLBACK;
