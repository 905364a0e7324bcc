
-- check: password_encryption_not_scram
SELECT 'warning', 'password_encryption',
pg_catalog.format('password_encryption is %s: new passwords are stored as md5 hashes', s.setting),
'Store passwords as SCRAM: set password_encryption, then have each role set its password again.',
'ALTER SYSTEM SET password_encryption = ''scram-sha-256''; SELECT pg_catalog.pg_reload_conf()'
FROM pg_catalog.pg_settings s WHERE s.name = 'password_encryption' AND s.setting <> 'scram-sha-256';

-- check: md5_password_hashes
SELECT 'warning', pg_catalog.quote_ident(a.rolname),
'the role''s stored password is an md5 hash, which a leaked catalog lets anyone replay',
'Set the password again under password_encryption = scram-sha-256 (\password in psql).', NULL
FROM pg_catalog.pg_authid a WHERE a.rolpassword LIKE 'md5%' ORDER BY 2;

-- check: superuser_count
SELECT 'warning', pg_catalog.string_agg(pg_catalog.quote_ident(rolname), ', ' ORDER BY rolname),
pg_catalog.format('%s login roles are superusers', count(*)),
'Keep one superuser login for emergencies; give the others the predefined roles they need (pg_monitor, pg_read_all_data, ...).',
NULL
FROM pg_catalog.pg_roles WHERE rolsuper AND rolcanlogin HAVING count(*) > 1;

-- check: role_bypassrls
SELECT 'warning', pg_catalog.quote_ident(rolname),
'the role bypasses every row-level security policy', 'Remove BYPASSRLS unless the role is for backups or maintenance.',
pg_catalog.format('ALTER ROLE %I NOBYPASSRLS', rolname)
FROM pg_catalog.pg_roles WHERE rolbypassrls AND NOT rolsuper ORDER BY 2;

-- check: role_createrole
SELECT 'warning', pg_catalog.quote_ident(rolname),
'the role may create roles and, in PostgreSQL 15, grant itself the membership of any non-superuser role',
'Keep CREATEROLE for the one role that manages roles.', pg_catalog.format('ALTER ROLE %I NOCREATEROLE', rolname)
FROM pg_catalog.pg_roles WHERE rolcreaterole AND NOT rolsuper ORDER BY 2;

-- check: public_schema_create
SELECT 'warning', pg_catalog.quote_ident(nspname),
'PUBLIC may create objects in this schema, so any role can plant a function or table that others resolve by search_path',
'Revoke CREATE from PUBLIC and grant it to the roles that deploy.',
pg_catalog.format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', nspname)
FROM pg_catalog.pg_namespace
WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp_)' AND pg_catalog.has_schema_privilege('public', oid, 'CREATE') ORDER BY 2;

-- check: security_definer_search_path
SELECT 'warning', p.oid::pg_catalog.regprocedure::text,
'SECURITY DEFINER function without a pinned search_path: a caller can make it resolve names to objects of their own',
'Pin its search_path.', pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', p.oid::pg_catalog.regprocedure)
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
  AND NOT EXISTS (SELECT FROM pg_catalog.unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')
ORDER BY 2;

-- check: security_definer_public_execute
SELECT 'warning', p.oid::pg_catalog.regprocedure::text,
'SECURITY DEFINER function that every role may execute, with its owner''s rights',
'Revoke EXECUTE from PUBLIC and grant it to the roles that need it.',
pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', p.oid::pg_catalog.regprocedure)
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
  AND pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') ORDER BY 2;

-- check: rls_enabled_no_policy
SELECT 'warning', c.oid::pg_catalog.regclass::text,
'row-level security is enabled but the table has no policy, so everyone but its owner sees no rows',
'Add the policies the application needs, or disable row-level security if it was switched on by mistake.', NULL
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid) ORDER BY 2;

-- check: rls_not_forced
SELECT 'info', c.oid::pg_catalog.regclass::text,
'row-level security is not forced, so the table''s owner bypasses its policies',
'Force it if the application connects as the owner.', pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', c.oid::pg_catalog.regclass)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND NOT c.relforcerowsecurity AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)' ORDER BY 2;

-- check: tenant_table_without_rls
SELECT DISTINCT ON (c.oid) 'warning', c.oid::pg_catalog.regclass::text,
pg_catalog.format('the table has the tenant column %I but no row-level security: any role that may read it sees every tenant', a.attname),
'Isolate tenants with row-level security.',
pg_catalog.format('SELECT dbopt.enable_tenant_isolation(%L, %L)', c.oid::pg_catalog.regclass::text, a.attname)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND NOT c.relrowsecurity AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
  AND n.nspname <> 'dbopt' AND a.attname::text = ANY ($1)
ORDER BY c.oid, pg_catalog.array_position($1, a.attname::text);

-- check: pg_hba_trust
SELECT CASE WHEN type = 'local' THEN 'warning' ELSE 'critical' END,
pg_catalog.format('pg_hba.conf line %s', line_number),
pg_catalog.format('%s %s %s %s: trust lets anyone who can connect log in as any of these roles, with no password',
  type, array_to_string(database, ','), array_to_string(user_name, ','), coalesce(address, '')),
'Use scram-sha-256 (or peer for local connections) and reload.', NULL
FROM pg_catalog.pg_hba_file_rules WHERE auth_method = 'trust' ORDER BY line_number;

-- check: pg_hba_password
SELECT 'critical', pg_catalog.format('pg_hba.conf line %s', line_number),
pg_catalog.format('%s %s %s: the password method sends passwords in clear text', type, array_to_string(database, ','), array_to_string(user_name, ',')),
'Use scram-sha-256 and reload.', NULL
FROM pg_catalog.pg_hba_file_rules WHERE auth_method = 'password' ORDER BY line_number;

-- check: pg_hba_md5
SELECT 'warning', pg_catalog.format('pg_hba.conf line %s', line_number),
pg_catalog.format('%s %s %s: md5 authentication', type, array_to_string(database, ','), array_to_string(user_name, ',')),
'Use scram-sha-256 once every role has a SCRAM password (see md5_password_hashes), and reload.', NULL
FROM pg_catalog.pg_hba_file_rules WHERE auth_method = 'md5' ORDER BY line_number;

-- check: pg_hba_host_without_ssl
SELECT 'warning', pg_catalog.format('pg_hba.conf line %s', line_number),
pg_catalog.format('host %s %s %s: TCP connections are accepted without SSL', array_to_string(database, ','),
  array_to_string(user_name, ','), coalesce(address, '')),
'Use hostssl (and hostnossl reject) for connections that leave the machine, and reload.', NULL
FROM pg_catalog.pg_hba_file_rules WHERE type = 'host' AND auth_method <> 'reject' ORDER BY line_number;

-- check: ssl_off
SELECT 'warning', 'ssl', 'ssl is off: passwords and data cross the network in clear text',
'Install a certificate and key, set ssl = on, and reload.', NULL
WHERE pg_catalog.current_setting('ssl') = 'off';

-- check: logging_connections
SELECT 'warning', s.name, pg_catalog.format('%s is off: who connected, and when, is not in the server log', s.name),
'Turn it on, so logins can be audited.', pg_catalog.format('ALTER SYSTEM SET %s = on; SELECT pg_catalog.pg_reload_conf()', s.name)
FROM pg_catalog.pg_settings s WHERE s.name IN ('log_connections', 'log_disconnections') AND s.setting = 'off' ORDER BY 2;

-- check: logging_ddl
SELECT 'warning', 'log_statement', pg_catalog.format('log_statement is %s: schema changes are not in the server log', s.setting),
'Log DDL at least.', 'ALTER SYSTEM SET log_statement = ''ddl''; SELECT pg_catalog.pg_reload_conf()'
FROM pg_catalog.pg_settings s WHERE s.name = 'log_statement' AND s.setting = 'none';

-- check: data_checksums_off
SELECT 'warning', 'data_checksums', 'data checksums are off: silent corruption on disk goes unnoticed until it spreads',
'Enable them with pg_checksums --enable while the cluster is stopped (or on a new cluster with initdb --data-checksums).', NULL
WHERE pg_catalog.current_setting('data_checksums') = 'off';

-- check: default_privileges_public
SELECT 'warning', pg_catalog.format('default privileges of %s%s', pg_catalog.quote_ident(r.rolname),
  coalesce(' in schema ' || pg_catalog.quote_ident(n.nspname), '')),
pg_catalog.format('objects of type %s created from now on are granted %s to PUBLIC',
  CASE d.defaclobjtype WHEN 'r' THEN 'table' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'function' WHEN 'T' THEN 'type' WHEN 'n' THEN 'schema' END,
  a.privilege_type),
'Remove the default grant to PUBLIC.', NULL
FROM pg_catalog.pg_default_acl d JOIN pg_catalog.pg_roles r ON r.oid = d.defaclrole
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace,
LATERAL pg_catalog.aclexplode(d.defaclacl) a
WHERE a.grantee = 0 AND NOT (d.defaclobjtype IN ('f', 'T') AND a.privilege_type IN ('EXECUTE', 'USAGE') AND d.defaclnamespace = 0)
ORDER BY 2, 3;

-- check: sensitive_column_unprotected
SELECT 'warning', pg_catalog.format('%s.%I', s.relation, s.column_name),
pg_catalog.format('%s data, stored in clear and shown by no masked view', s.kind),
'Give readers a masked view instead of the table, or store the column encrypted (dbopt.encrypt_value()).',
pg_catalog.format('SELECT dbopt.create_masked_view(%L, %L)', s.relation::text,
  pg_catalog.quote_ident(pg_catalog.left((SELECT relname FROM pg_catalog.pg_class WHERE oid = s.relation), 55) || '_masked'))
FROM dbopt.sensitive_columns s JOIN pg_catalog.pg_class c ON c.oid = s.relation
JOIN pg_catalog.pg_attribute a ON a.attrelid = s.relation AND a.attname = s.column_name
WHERE a.atttypid <> 'bytea'::regtype
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite w ON w.oid = d.objid
                   WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refobjid = s.relation
                     AND d.refobjsubid = a.attnum
                     AND (SELECT pg_catalog.strpos(v, 'mask_email(' || q) > 0 OR pg_catalog.strpos(v, 'mask_phone(' || q) > 0
                                 OR pg_catalog.strpos(v, 'mask_text(' || q) > 0
                                 OR (s.kind = 'free_text' AND pg_catalog.strpos(v, '[redacted]') > 0)
                            FROM (SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.pg_get_viewdef(w.ev_class), '((', '('),
                                         pg_catalog.quote_ident(c.relname) || '.', '') AS v,
                                         pg_catalog.quote_ident(s.column_name) AS q) x))
ORDER BY 2;

-- check: sensitive_table_not_audited
SELECT DISTINCT 'warning', s.relation::text,
'the table holds sensitive columns, but changes to it are not audited',
'Audit it.', pg_catalog.format('SELECT dbopt.enable_audit(%L)', s.relation::text)
FROM dbopt.sensitive_columns s JOIN pg_catalog.pg_class c ON c.oid = s.relation
WHERE NOT EXISTS (SELECT FROM dbopt.audited_tables t WHERE t.relation = s.relation AND t.enabled)
ORDER BY 2;
