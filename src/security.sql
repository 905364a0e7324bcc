-- src/security.sql: security configuration and the compliance report (the SQL of src/security.c)

CREATE FUNCTION dbopt.validate_security_configuration(
    include_passed boolean DEFAULT true, include_suppressed boolean DEFAULT false)
RETURNS TABLE (
    severity text, check_name text, object_name text, detail text, remediation text, fix_sql text)
AS 'MODULE_PATHNAME', 'dbopt_validate_security_configuration'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.validate_security_configuration(boolean,boolean) IS
    'Security findings, worst first: password storage, superusers and role attributes, schema and function privileges, row-level security and tenant tables, pg_hba.conf, SSL, logging, checksums, default privileges, sensitive columns; an ok row per passed check unless include_passed => false, check_skipped when a check cannot be evaluated';
REVOKE ALL ON FUNCTION dbopt.validate_security_configuration(boolean,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.validate_security_configuration(boolean,boolean) TO pg_monitor;

-- A scope that matches no tenant is said so (scope_found, notes); an as_of
-- in the future, a NULL as_of and an empty scope are refused.
CREATE FUNCTION dbopt.generate_compliance_report(
    scope text DEFAULT NULL, as_of date DEFAULT CURRENT_DATE)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    report jsonb;
    section jsonb;
    tenant_cols text[] := pg_catalog.string_to_array(pg_catalog.current_setting('dbopt.tenant_columns'), ',');
    upto timestamptz := (as_of + 1)::timestamptz;
    r record;
    n bigint;
    items jsonb;
    scope_rows bigint := 0;
    scope_events bigint := 0;
    notes jsonb := '[]';
BEGIN
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must not be null'
              USING ERRCODE = 'null_value_not_allowed',
                    DETAIL = 'The report describes the database as of one day.',
                    HINT = 'Leave it out for today, or pass a past date.';
    END IF;
    IF as_of > current_date THEN
        RAISE EXCEPTION 'as_of is in the future'
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'A compliance report states what happened up to a day; nothing has happened after today.',
                    HINT = 'Pass today''s date or an earlier one, or leave it out for today.';
    END IF;
    IF scope IS NOT NULL AND pg_catalog.btrim(scope) = '' THEN
        RAISE EXCEPTION 'scope must be a tenant id or NULL'
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'An empty scope matches no tenant.',
                    HINT = 'Pass NULL for the whole database, or a value of the tenant columns (dbopt.tenant_columns).';
    END IF;
    report := jsonb_build_object('generated_at', pg_catalog.now(), 'as_of', as_of,
                                 'database', pg_catalog.current_database(), 'scope', scope);

    -- backups
    SELECT jsonb_build_object('archive_mode', pg_catalog.current_setting('archive_mode'),
                              'archived_count', a.archived_count, 'failed_count', a.failed_count,
                              'last_archived_wal', a.last_archived_wal, 'last_archived_time', a.last_archived_time,
                              'last_archived_age_s', round(extract(epoch FROM pg_catalog.now() - a.last_archived_time)),
                              'last_failed_time', a.last_failed_time)
      INTO section FROM pg_catalog.pg_stat_archiver a;
    report := report || jsonb_build_object('backups', section);

    -- Every other section is read in its own subtransaction: one that fails
    -- (a missing privilege, say) is reported as skipped, with its error.
    DECLARE
        part text;
    BEGIN
        FOREACH part IN ARRAY ARRAY['security', 'audit', 'tenant_isolation', 'sensitive_columns', 'retention', 'integrity'] LOOP
            BEGIN
                CASE part
                WHEN 'security' THEN
                    SELECT jsonb_build_object(
                             'counts', jsonb_build_object(
                                 'critical', count(*) FILTER (WHERE f.severity = 'critical'),
                                 'warning', count(*) FILTER (WHERE f.severity = 'warning'),
                                 'info', count(*) FILTER (WHERE f.severity = 'info')),
                             'findings', coalesce(jsonb_agg(jsonb_build_object('severity', f.severity, 'check_name', f.check_name,
                                                                               'object_name', f.object_name, 'detail', f.detail)
                                                            ORDER BY pg_catalog.array_position(ARRAY['critical', 'warning', 'info'], f.severity),
                                                                     f.object_name COLLATE "C", f.check_name COLLATE "C"), '[]'))
                      INTO section FROM dbopt.validate_security_configuration(include_passed => false) f;
                WHEN 'audit' THEN
                    SELECT jsonb_build_object(
                             'audited_tables', coalesce((SELECT jsonb_agg(t.relation::text ORDER BY t.relation::text)
                                                           FROM dbopt.audited_tables t WHERE t.enabled), '[]'),
                             'sensitive_tables_not_audited',
                                 coalesce((SELECT jsonb_agg(DISTINCT s.relation::text)
                                             FROM dbopt.sensitive_columns s JOIN pg_catalog.pg_class c ON c.oid = s.relation
                                            WHERE NOT EXISTS (SELECT FROM dbopt.audited_tables t WHERE t.relation = s.relation AND t.enabled)), '[]'),
                             'events_30_days', (SELECT count(*) FROM dbopt.audit_log l
                                                 WHERE l.logged_at >= upto - interval '30 days' AND l.logged_at < upto
                                                   AND (scope IS NULL OR l.tenant = scope)),
                             'events_by_operation', coalesce((SELECT jsonb_object_agg(o.operation, o.n) FROM (
                                                      SELECT l.operation, count(*) AS n FROM dbopt.audit_log l
                                                       WHERE l.logged_at >= upto - interval '30 days' AND l.logged_at < upto
                                                         AND (scope IS NULL OR l.tenant = scope) GROUP BY 1) o), '{}'))
                      INTO section;
                WHEN 'tenant_isolation' THEN
                    -- tables with a tenant column; with a scope, that tenant's row count
                    items := '[]';
                    FOR r IN
                        SELECT DISTINCT ON (c.oid) c.oid::regclass AS rel, a.attname, c.relrowsecurity AS rls, c.reltuples
                          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
                          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attname::text = ANY (tenant_cols)
                           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'dbopt') AND ns.nspname !~ '^pg_'
                         ORDER BY c.oid, pg_catalog.array_position(tenant_cols, a.attname::text)
                    LOOP
                        IF scope IS NULL THEN
                            n := greatest(r.reltuples, 0)::bigint;
                        ELSE
                            EXECUTE pg_catalog.format('SELECT count(*) FROM %s WHERE %I::pg_catalog.text OPERATOR(pg_catalog.=) $1',
                                                      r.rel, r.attname) INTO n USING scope;
                            scope_rows := scope_rows + n;
                        END IF;
                        items := items || jsonb_build_object('table', r.rel::text, 'tenant_column', r.attname, 'rls', r.rls,
                                                             CASE WHEN scope IS NULL THEN 'rows_estimate' ELSE 'rows' END, n);
                    END LOOP;
                    section := jsonb_build_object(
                        'with_rls', (SELECT count(*) FROM jsonb_array_elements(items) e WHERE (e->>'rls')::boolean),
                        'without_rls', (SELECT count(*) FROM jsonb_array_elements(items) e WHERE NOT (e->>'rls')::boolean),
                        'tables', items);
                WHEN 'sensitive_columns' THEN
                    -- each with its protection
                    SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'table', s.relation::text, 'column', s.column_name, 'kind', s.kind,
                               'protection', CASE WHEN a.atttypid = 'bytea'::regtype THEN 'encrypted'
                                                  WHEN NOT EXISTS (SELECT FROM dbopt.validate_security_configuration(include_suppressed => true) f
                                                                    WHERE f.check_name = 'sensitive_column_unprotected'
                                                                      AND f.object_name = pg_catalog.format('%s.%I', s.relation, s.column_name))
                                                  THEN 'masked_view' ELSE 'none' END)
                             ORDER BY s.relation::text, s.column_name), '[]')
                      INTO section
                      FROM dbopt.sensitive_columns s JOIN pg_catalog.pg_class c ON c.oid = s.relation
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = s.relation AND a.attname = s.column_name;
                WHEN 'retention' THEN
                    -- the policies, and rows older than policy still present
                    items := '[]';
                    FOR r IN SELECT p.relation, p.time_column, p.keep, p.mode, p.enabled, p.last_run_at, p.last_status
                               FROM dbopt.retention_policies p JOIN pg_catalog.pg_class c ON c.oid = p.relation ORDER BY p.relation::text
                    LOOP
                        EXECUTE format('SELECT count(*) FROM %s WHERE %I < $1', r.relation, r.time_column) INTO n USING upto - r.keep;
                        items := items || jsonb_build_object('table', r.relation::text, 'time_column', r.time_column, 'keep', r.keep,
                                                             'mode', r.mode, 'enabled', r.enabled, 'last_run_at', r.last_run_at,
                                                             'last_status', r.last_status, 'rows_older_than_policy', n);
                    END LOOP;
                    section := jsonb_build_object('policies', items);
                WHEN 'integrity' THEN
                    -- counts of check_data_integrity() findings
                    WITH d AS MATERIALIZED (SELECT i.severity, i.check_name FROM dbopt.check_data_integrity() i)
                    SELECT jsonb_build_object(
                             'critical', (SELECT count(*) FROM d WHERE d.severity = 'critical'),
                             'warning', (SELECT count(*) FROM d WHERE d.severity = 'warning'),
                             'info', (SELECT count(*) FROM d WHERE d.severity = 'info'),
                             'checks', coalesce((SELECT jsonb_object_agg(x.check_name, x.n)
                                                   FROM (SELECT d.check_name, count(*) AS n FROM d GROUP BY 1) x), '{}'))
                      INTO section;
                END CASE;
            EXCEPTION WHEN OTHERS THEN
                section := jsonb_build_object('skipped', SQLERRM);
            END;
            report := report || jsonb_build_object(part, section);
        END LOOP;
    END;

    -- A scope that names no tenant is said so, not reported as empty tables.
    IF scope IS NOT NULL THEN
        BEGIN
            SELECT count(*) INTO scope_events FROM dbopt.audit_log l WHERE l.tenant = scope;
        EXCEPTION WHEN OTHERS THEN
            scope_events := NULL;
        END;
        IF scope_rows = 0 AND coalesce(scope_events, 0) = 0 THEN
            notes := notes || pg_catalog.to_jsonb(pg_catalog.format(
                'scope %L matches no tenant: no row of any tenant table (columns %s) and no audit event carries it',
                scope, pg_catalog.array_to_string(tenant_cols, ', ')));
        END IF;
        report := report || jsonb_build_object('scope_found', scope_rows > 0 OR coalesce(scope_events, 0) > 0);
    END IF;
    report := report || jsonb_build_object('notes', notes);
    RETURN report;
END $$;
COMMENT ON FUNCTION dbopt.generate_compliance_report(text,date) IS
    'One jsonb document: generated_at, as_of (not in the future), database, scope, security, audit, tenant_isolation, sensitive_columns, retention, backups, integrity, notes; with scope set to a tenant, its row counts and audit events, and scope_found saying whether any row or event carries it';
REVOKE ALL ON FUNCTION dbopt.generate_compliance_report(text,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.generate_compliance_report(text,date) TO pg_monitor;
