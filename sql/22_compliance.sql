-- generate_compliance_report(): its documented keys, each section's shape,
-- a tenant scope, the as_of window, and a section the caller may not read.
CREATE SCHEMA "comp ""c"";";
SET search_path = "comp ""c"";", public;
SET TimeZone = 'UTC';
CREATE TABLE "inv;oice" (id int PRIMARY KEY, organization_id int, email text, card bytea, note text,
                         created_at timestamptz NOT NULL);
INSERT INTO "inv;oice" SELECT g, g % 3, 'u' || g || '@example.com', NULL, 'n', now() - g * interval '10 days'
  FROM generate_series(1, 30) g;
SELECT dbopt.mark_sensitive('"inv;oice"', 'email', 'email');
SELECT dbopt.mark_sensitive('"inv;oice"', 'card', 'financial');
SELECT dbopt.mark_sensitive('"inv;oice"', 'note', 'free_text');
SELECT dbopt.create_masked_view('"inv;oice"', 'inv_masked') IS NOT NULL AS masked;
SELECT dbopt.enable_audit('"inv;oice"') IS NOT NULL AS audited;
SELECT dbopt.add_retention_policy('"inv;oice"', 'created_at', '100 days') IS NOT NULL AS policy;
UPDATE "inv;oice" SET note = 'changed' WHERE id <= 6;   -- 2 rows per tenant 0, 1, 2
CREATE TEMP TABLE r AS SELECT dbopt.generate_compliance_report() AS j;

-- The documented top-level keys, and each section's.
SELECT array_agg(k ORDER BY k) AS keys FROM r, jsonb_object_keys(j) k;
SELECT array_agg(k ORDER BY k) AS security_keys FROM r, jsonb_object_keys(j->'security') k;
SELECT array_agg(k ORDER BY k) AS audit_keys FROM r, jsonb_object_keys(j->'audit') k;
SELECT array_agg(k ORDER BY k) AS tenant_keys FROM r, jsonb_object_keys(j->'tenant_isolation') k;
SELECT array_agg(k ORDER BY k) AS backup_keys FROM r, jsonb_object_keys(j->'backups') k;
SELECT array_agg(k ORDER BY k) AS integrity_keys FROM r, jsonb_object_keys(j->'integrity') k;
SELECT j->>'database' = current_database() AS database, j->'scope' AS scope, (j->>'as_of')::date = current_date AS as_of,
       jsonb_typeof(j->'security'->'findings') AS findings,
       (j->'security'->'counts'->>'warning')::int > 0 AS has_warnings
  FROM r;
SELECT j->'audit'->'audited_tables' AS audited, j->'audit'->'events_30_days' AS events,
       j->'audit'->'events_by_operation' AS by_operation, j->'audit'->'sensitive_tables_not_audited' AS not_audited
  FROM r;
SELECT e->>'table' AS tbl, e->>'tenant_column' AS col, e->'rls' AS rls
  FROM r, jsonb_array_elements(j->'tenant_isolation'->'tables') e WHERE e->>'table' = '"comp ""c"";"."inv;oice"';
SELECT e->>'column' AS col, e->>'kind' AS kind, e->>'protection' AS protection
  FROM r, jsonb_array_elements(j->'sensitive_columns') e ORDER BY 1;
SELECT e->>'table' AS tbl, e->>'keep' AS keep, e->'rows_older_than_policy' AS old_rows
  FROM r, jsonb_array_elements(j->'retention'->'policies') e;
SELECT j->'backups'->>'archive_mode' AS archive_mode FROM r;

-- A tenant scope: that tenant's rows and audit events only.
SELECT e->'rows' AS tenant_rows, (SELECT j2->'audit'->'events_30_days' FROM (SELECT dbopt.generate_compliance_report('1') AS j2) x) AS tenant_events
  FROM (SELECT dbopt.generate_compliance_report('1') AS j) s, jsonb_array_elements(j->'tenant_isolation'->'tables') e
 WHERE e->>'table' = '"comp ""c"";"."inv;oice"';
-- A scope that matches no tenant says so, instead of "rows": 0 everywhere.
SELECT j->'scope_found' AS found, j->'notes' AS notes FROM (SELECT dbopt.generate_compliance_report('org-id') AS j) s;
SELECT j->'scope_found' AS found, jsonb_array_length(j->'notes') AS notes FROM (SELECT dbopt.generate_compliance_report('1') AS j) s;
SELECT dbopt.generate_compliance_report('  ');
\echo :LAST_ERROR_SQLSTATE
-- as_of in the future, or NULL, is refused.
SELECT dbopt.generate_compliance_report(as_of => current_date + 1);
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.generate_compliance_report(as_of => NULL);
\echo :LAST_ERROR_SQLSTATE
-- as_of in the past: the 30 days before it had no events.
SELECT dbopt.generate_compliance_report(as_of => date '2001-01-01')->'audit'->'events_30_days' AS events_in_2000;

-- A section the caller may not read is marked skipped; the rest is there.
CREATE ROLE regress_comp_monitor IN ROLE pg_monitor;
SET ROLE regress_comp_monitor;
SELECT (j->'audit') ? 'skipped' AS audit_skipped, j ? 'security' AS security_there, j ? 'backups' AS backups_there
  FROM (SELECT dbopt.generate_compliance_report() AS j) s;
RESET ROLE;

SELECT dbopt.disable_audit('"inv;oice"') IS NOT NULL AS off;
SELECT dbopt.remove_retention_policy('"inv;oice"');
DROP SCHEMA "comp ""c"";" CASCADE;
DROP ROLE regress_comp_monitor;
DELETE FROM dbopt.sensitive_columns;
DELETE FROM dbopt.maintenance_log;
