-- src/tenant.sql: tenant isolation by row-level security (the SQL of src/tenant.c)

-- Tenant isolation.
CREATE FUNCTION dbopt.enable_tenant_isolation(
    relation regclass, tenant_column name,
    setting_name text DEFAULT 'app.current_organization_id'::text, dry_run boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_enable_tenant_isolation'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.enable_tenant_isolation(regclass,name,text,boolean) IS
    'Enable and force row-level security on a table the caller owns, with one policy: tenant_column equals current_setting(setting_name, true) cast to its type, for reads and writes; unset means no rows';
REVOKE ALL ON FUNCTION dbopt.enable_tenant_isolation(regclass,name,text,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.disable_tenant_isolation(relation regclass, dry_run boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_disable_tenant_isolation'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.disable_tenant_isolation(regclass,boolean) IS
    'Remove the tenant policy; row-level security goes off too unless other policies remain';
REVOKE ALL ON FUNCTION dbopt.disable_tenant_isolation(regclass,boolean) FROM PUBLIC;
