-- dbopt demo: security and compliance, after the workload (tenant isolation
-- is shown as a dry run only: forcing it would hide every row from the
-- workload, which does not set app.current_organization_id).
\pset null '-'
\echo
\echo '== dbopt.validate_security_configuration(): counts by check =='
SELECT severity, check_name, count(*) AS findings
  FROM dbopt.validate_security_configuration(include_passed => false) GROUP BY 1, 2
 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, 2;
\echo
\echo '== sensitive columns, a masked view, and the audit trigger on app.clients =='
SELECT c AS sensitive_column, k AS kind
  FROM (VALUES ('email', 'email'), ('phone', 'phone'), ('name', 'name')) v(c, k),
       LATERAL (SELECT dbopt.mark_sensitive('app.clients', c::name, k)) m;
SELECT dbopt.create_masked_view('app.clients', 'clients_masked');
SELECT id, name, email, phone FROM app.clients_masked ORDER BY id LIMIT 3;
SELECT dbopt.enable_audit('app.clients');
UPDATE app.clients SET phone = '+1 555 0100' WHERE id = 1;
UPDATE app.clients SET phone = '+1 555 0100' WHERE id = 1;   -- changes nothing: not logged
SELECT operation, row_key, old_data, new_data, changed_columns, tenant FROM dbopt.audit_log ORDER BY id;
SELECT dbopt.enable_tenant_isolation('app.invoices', 'organization_id', dry_run => true);
\echo
\echo '== dbopt.generate_compliance_report(): its sections =='
SELECT key, left(value::text, 100) AS value
  FROM jsonb_each(dbopt.generate_compliance_report()) ORDER BY key;
