-- validate_security_configuration(): each check fires in a constructed case
-- and passes once it is fixed, mostly with the finding's own fix_sql.
-- Settings that need a restart, pg_hba.conf and SSL are in t/008_security.pl.
CREATE SCHEMA "sec ""v"";";
SET search_path = "sec ""v"";", public;
CREATE TEMP VIEW sec AS SELECT * FROM dbopt.validate_security_configuration(include_passed => true);
-- One check's rows, leaving out what other tests left in this database.
CREATE FUNCTION pg_temp.state(c text) RETURNS TABLE (severity text, object_name text)
  LANGUAGE sql AS $$ SELECT severity, object_name FROM sec WHERE check_name = c
                      AND coalesce(object_name, '') NOT LIKE 'fkx.%' ORDER BY 2 $$;

-- Every check answers when asked for passed ones too, with registered names.
SELECT count(DISTINCT check_name) AS checks, bool_and(check_name IN (SELECT check_name FROM dbopt.check_names())) AS registered
  FROM sec;

-- password_encryption_not_scram and md5_password_hashes
SET password_encryption = 'md5';
SELECT * FROM pg_temp.state('password_encryption_not_scram');
CREATE ROLE regress_sec_md5 LOGIN PASSWORD 'not a real one';
SELECT * FROM pg_temp.state('md5_password_hashes');
RESET password_encryption;
ALTER ROLE regress_sec_md5 PASSWORD 'not a real one';
SELECT * FROM pg_temp.state('password_encryption_not_scram');
SELECT * FROM pg_temp.state('md5_password_hashes');

-- superuser_count, role_bypassrls, role_createrole
CREATE ROLE regress_sec_super LOGIN SUPERUSER;
SELECT severity, object_name LIKE '%regress_sec_super%' AS names_it FROM sec WHERE check_name = 'superuser_count';
DROP ROLE regress_sec_super;
SELECT * FROM pg_temp.state('superuser_count');
CREATE ROLE regress_sec_bypass BYPASSRLS CREATEROLE;
SELECT * FROM pg_temp.state('role_bypassrls');
SELECT * FROM pg_temp.state('role_createrole');
SELECT fix_sql FROM sec WHERE check_name IN ('role_bypassrls', 'role_createrole') \gexec
SELECT * FROM pg_temp.state('role_bypassrls');
SELECT * FROM pg_temp.state('role_createrole');

-- public_schema_create
CREATE SCHEMA "open; s";
GRANT CREATE ON SCHEMA "open; s" TO PUBLIC;
SELECT * FROM pg_temp.state('public_schema_create');
SELECT fix_sql FROM sec WHERE check_name = 'public_schema_create' \gexec
SELECT * FROM pg_temp.state('public_schema_create');

-- security_definer_search_path and security_definer_public_execute
CREATE FUNCTION "definer; f"() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
SELECT * FROM pg_temp.state('security_definer_search_path');
SELECT * FROM pg_temp.state('security_definer_public_execute');
SELECT fix_sql FROM sec WHERE check_name LIKE 'security_definer%' \gexec
SELECT * FROM pg_temp.state('security_definer_search_path');
SELECT * FROM pg_temp.state('security_definer_public_execute');

-- rls_enabled_no_policy, rls_not_forced, tenant_table_without_rls
CREATE TABLE "acct ""t""" (id int, tenant_id int);
SELECT * FROM pg_temp.state('tenant_table_without_rls');
ALTER TABLE "acct ""t""" ENABLE ROW LEVEL SECURITY;
SELECT * FROM pg_temp.state('rls_enabled_no_policy');
SELECT * FROM pg_temp.state('tenant_table_without_rls');
CREATE POLICY p ON "acct ""t""" USING (true);
SELECT * FROM pg_temp.state('rls_enabled_no_policy');
SELECT * FROM pg_temp.state('rls_not_forced');
SELECT fix_sql FROM sec WHERE check_name = 'rls_not_forced' \gexec
SELECT * FROM pg_temp.state('rls_not_forced');
CREATE TABLE orgs (id int, org_id int);
SELECT object_name, fix_sql FROM sec WHERE check_name = 'tenant_table_without_rls' AND object_name = '"sec ""v"";".orgs';
SELECT fix_sql FROM sec WHERE check_name = 'tenant_table_without_rls' AND object_name = '"sec ""v"";".orgs' \gexec
SELECT * FROM pg_temp.state('tenant_table_without_rls');
-- The tenant columns are a setting.
SET dbopt.tenant_columns = 'customer';
CREATE TABLE shop (id int, customer int);
SELECT * FROM pg_temp.state('tenant_table_without_rls');
RESET dbopt.tenant_columns;

-- logging_ddl (a session setting here)
SELECT * FROM pg_temp.state('logging_ddl');
SET log_statement = 'ddl';
SELECT * FROM pg_temp.state('logging_ddl');
RESET log_statement;

-- default_privileges_public
ALTER DEFAULT PRIVILEGES IN SCHEMA "sec ""v"";" GRANT SELECT ON TABLES TO PUBLIC;
SELECT * FROM pg_temp.state('default_privileges_public');
ALTER DEFAULT PRIVILEGES IN SCHEMA "sec ""v"";" REVOKE SELECT ON TABLES FROM PUBLIC;
SELECT * FROM pg_temp.state('default_privileges_public');

-- sensitive_column_unprotected and sensitive_table_not_audited
CREATE TABLE "person;s" (id int PRIMARY KEY, email text, ssn bytea, note text);
SELECT dbopt.mark_sensitive('"person;s"', 'email', 'email');
SELECT dbopt.mark_sensitive('"person;s"', 'ssn', 'national_id');
SELECT dbopt.mark_sensitive('"person;s"', 'note', 'free_text');
SELECT * FROM pg_temp.state('sensitive_column_unprotected');
SELECT * FROM pg_temp.state('sensitive_table_not_audited');
SELECT DISTINCT fix_sql FROM sec WHERE check_name LIKE 'sensitive%' \gexec
SELECT * FROM pg_temp.state('sensitive_column_unprotected');
SELECT * FROM pg_temp.state('sensitive_table_not_audited');

-- What the test cluster's configuration gives: its pg_hba.conf trusts local
-- connections; none of its lines uses password or md5.
SELECT check_name, bool_or(severity <> 'ok') AS fires
  FROM sec WHERE check_name IN ('pg_hba_trust', 'pg_hba_password', 'pg_hba_md5') GROUP BY 1 ORDER BY 1;

-- check_skipped: a pg_monitor member cannot read pg_authid or pg_hba_file_rules.
CREATE ROLE regress_sec_monitor IN ROLE pg_monitor;
SET ROLE regress_sec_monitor;
SELECT check_name, object_name FROM dbopt.validate_security_configuration() WHERE severity = 'info' AND check_name = 'check_skipped'
 ORDER BY 2;
RESET ROLE;

-- Suppressions work as in every report.
SELECT dbopt.suppress('logging_ddl', 'log_statement', 'we log DDL through pgaudit');
SELECT count(*) AS shown FROM dbopt.validate_security_configuration() WHERE check_name = 'logging_ddl';
SELECT count(*) AS shown FROM dbopt.validate_security_configuration(include_suppressed => true) WHERE check_name = 'logging_ddl';
SELECT dbopt.unsuppress('logging_ddl', 'log_statement');

SELECT dbopt.disable_audit('"person;s"');
DROP SCHEMA "sec ""v"";", "open; s" CASCADE;
DROP ROLE regress_sec_md5, regress_sec_bypass, regress_sec_monitor;
DELETE FROM dbopt.sensitive_columns;
DELETE FROM dbopt.maintenance_log;
