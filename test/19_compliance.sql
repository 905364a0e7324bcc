-- pgTAP: generate_compliance_report(): one jsonb document with its
-- sections, a tenant scope, and refused arguments.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(10);

SELECT function_returns('dbopt', 'generate_compliance_report', ARRAY['text', 'date'], 'jsonb');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.generate_compliance_report(text,date)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.generate_compliance_report(text,date)', 'EXECUTE'),
          'pg_monitor may run the compliance report, PUBLIC may not');

CREATE TABLE tap_comp (id int PRIMARY KEY, org_id int, email text);
INSERT INTO tap_comp SELECT g, g % 2, 'u' || g || '@example.org' FROM generate_series(1, 10) g;
\o /dev/null
SELECT dbopt.mark_sensitive('tap_comp', 'email', 'email');
SELECT dbopt.enable_audit('tap_comp');
\o
UPDATE tap_comp SET email = 'x@example.org' WHERE id = 1;

CREATE TEMP TABLE rep AS SELECT dbopt.generate_compliance_report() AS r;
SELECT set_eq($$ SELECT jsonb_object_keys(r) FROM rep $$,
              ARRAY['generated_at', 'as_of', 'database', 'scope', 'security', 'audit', 'tenant_isolation',
                    'sensitive_columns', 'retention', 'backups', 'integrity', 'notes'],
              'the report has its documented keys');
SELECT is((SELECT r -> 'sensitive_columns' @> '[{"table": "public.tap_comp", "column": "email", "kind": "email", "protection": "none"}]' FROM rep),
          true, 'the sensitive column is listed, unprotected');
SELECT ok((SELECT (r #>> '{audit,audited_tables}') IS NOT NULL AND (r #>> '{audit,events_30_days}')::int >= 1 FROM rep),
          'the audit section counts the logged change');
SELECT is((SELECT r ->> 'database' FROM rep), current_database()::text, 'it names the database');

SELECT is((SELECT (r -> 'scope_found')::boolean FROM (SELECT dbopt.generate_compliance_report('no-such-tenant') r) s),
          false, 'a scope that no row carries is said to match no tenant');
SELECT throws_ok($$ SELECT dbopt.generate_compliance_report(' ') $$, '22023', 'scope must be a tenant id or NULL',
                 'a blank scope is refused');
SELECT throws_ok($$ SELECT dbopt.generate_compliance_report(NULL, NULL) $$, '22004', NULL, 'a NULL as_of is refused');
SELECT throws_ok($$ SELECT dbopt.generate_compliance_report(NULL, current_date + 1) $$, '22023', 'as_of is in the future',
                 'a future as_of is refused');

SELECT * FROM finish();
ROLLBACK;
