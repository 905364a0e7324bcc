-- pgTAP: the audit trigger: enable_audit()/disable_audit(), one log row
-- per change with what changed, no row for a no-op or an excluded column,
-- the append-only log, and refusals.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(16);

SELECT function_returns('dbopt', 'enable_audit', ARRAY['regclass', 'text[]', 'boolean'], 'text');
SELECT function_returns('dbopt', 'disable_audit', ARRAY['regclass', 'boolean'], 'text');
SELECT has_function('dbopt', 'purge_audit_log', ARRAY['interval', 'boolean']);
SELECT ok(NOT has_function_privilege('public', 'dbopt.enable_audit(regclass,text[],boolean)', 'EXECUTE')
      AND NOT has_function_privilege('pg_monitor', 'dbopt.enable_audit(regclass,text[],boolean)', 'EXECUTE')
      AND NOT has_function_privilege('pg_monitor', 'dbopt.purge_audit_log(interval,boolean)', 'EXECUTE')
      AND NOT has_table_privilege('pg_monitor', 'dbopt.audit_log', 'SELECT'),
          'auditing is granted to nobody, and reading the log takes an explicit grant');

CREATE TABLE tap_aud (id int PRIMARY KEY, org_id int, v text, secret text);
SELECT lives_ok($$ SELECT dbopt.enable_audit('tap_aud', exclude_columns => ARRAY['secret']) $$,
                'enable_audit installs the triggers');
SELECT results_eq($$ SELECT relation::text, enabled, excluded_columns, fires FROM dbopt.audited_tables $$,
                  $$ VALUES ('tap_aud', true, ARRAY['secret'], 'always') $$,
                  'audited_tables lists the table, fired always');

INSERT INTO tap_aud VALUES (1, 7, 'a', 's1');
UPDATE tap_aud SET v = 'b' WHERE id = 1;
UPDATE tap_aud SET v = 'b' WHERE id = 1;            -- changes nothing
UPDATE tap_aud SET secret = 's2' WHERE id = 1;      -- changes an excluded column only
DELETE FROM tap_aud WHERE id = 1;
SELECT results_eq(
    $$ SELECT operation, row_key, old_data, new_data, changed_columns, tenant
         FROM dbopt.audit_log WHERE relation = 'tap_aud'::regclass AND operation <> 'AUDIT ON' ORDER BY id $$,
    $$ VALUES ('INSERT', '{"id": 1}'::jsonb, NULL::jsonb, '{"id": 1, "v": "a", "org_id": 7}'::jsonb, NULL::text[], '7'),
              ('UPDATE', '{"id": 1}', '{"v": "a"}', '{"v": "b"}', ARRAY['v'], '7'),
              ('DELETE', '{"id": 1}', '{"id": 1, "v": "b", "org_id": 7}', NULL, NULL, '7') $$,
    'one row per change, only changed columns on UPDATE, the excluded column never, the tenant kept');
SELECT is((SELECT db_user FROM dbopt.audit_log WHERE relation = 'tap_aud'::regclass AND operation = 'INSERT'),
          current_user::text, 'the row names the user');

SELECT throws_ok($$ UPDATE dbopt.audit_log SET db_user = 'x' $$, NULL, NULL, 'the log refuses UPDATE');
SELECT throws_ok($$ DELETE FROM dbopt.audit_log $$, NULL, NULL, 'and DELETE, even for a superuser');
SELECT throws_ok($$ SELECT dbopt.enable_audit(NULL) $$, '22004', NULL, 'a NULL table is refused');
SELECT throws_ok($$ SELECT dbopt.enable_audit('dbopt.audit_log') $$, '22023', NULL, 'the log itself cannot be audited');
SELECT throws_ok($$ SELECT dbopt.purge_audit_log('30') $$, '22023', 'older_than "30" has no unit',
                 'purge_audit_log needs the unit');

SELECT is(dbopt.disable_audit('tap_aud', dry_run => true) ~ '^would ', true, 'a dry run says what it would do');
SELECT lives_ok($$ SELECT dbopt.disable_audit('tap_aud') $$, 'disable_audit removes the triggers');
INSERT INTO tap_aud VALUES (2, 7, 'c', 's');
SELECT is((SELECT count(*)::int FROM dbopt.audit_log WHERE relation = 'tap_aud'::regclass AND operation = 'INSERT'), 1,
          'and no row is logged afterwards');

SELECT * FROM finish();
ROLLBACK;
