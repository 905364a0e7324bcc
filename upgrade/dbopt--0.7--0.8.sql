/* dbopt--0.7--0.8.sql: health check and HTML report */

\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.8'" to load this file. \quit

-- How many pg_stat_statements entries a snapshot copied: with the eviction
-- count and reset time, it tells take_snapshot() whether any statement can
-- be new since the previous snapshot, so texts are read only then.
ALTER TABLE dbopt.snapshots ADD COLUMN pgss_entries bigint;
COMMENT ON COLUMN dbopt.snapshots.pgss_entries IS 'pg_stat_statements entries copied by this snapshot';

CREATE FUNCTION dbopt.health_check(notify boolean DEFAULT false, include_suppressed boolean DEFAULT false)
RETURNS TABLE (severity text, check_name text, object_name text, detail text, remediation text, fix_sql text,
               value double precision, threshold double precision)
AS 'MODULE_PATHNAME', 'dbopt_health_check'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.health_check(boolean, boolean) IS
    'Server health as findings with the measured value and its threshold (dbopt.health_* settings): cache hit ratio, connections, idle and long transactions, slow statements, replication, wraparound, archiving, dead tuples, bloat, autovacuum, checkpoints, temp files, pg_stat_statements evictions; notify => true also sends each non-ok finding as JSON with NOTIFY dbopt_alerts';
REVOKE ALL ON FUNCTION dbopt.health_check(boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.health_check(boolean, boolean) TO pg_monitor;

CREATE FUNCTION dbopt.report_html(from_id bigint, to_id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_report_html'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.report_html(bigint, bigint) IS
    'A self-contained HTML page over a snapshot window: summary, top statements, regressions between its halves, health findings, and inline SVG charts of transactions per second, cache hit ratio, connections and the top statements'' mean times; write it with psql -Atc';
REVOKE ALL ON FUNCTION dbopt.report_html(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.report_html(bigint, bigint) TO pg_monitor;

CREATE FUNCTION dbopt.suggest_indexes(min_calls bigint DEFAULT 50, min_mean_ms double precision DEFAULT 1,
                                      min_improvement_pct double precision DEFAULT 50,
                                      max_suggestions integer DEFAULT 20)
RETURNS TABLE (relation regclass, columns text[], index_sql text, queryids bigint[], calls bigint,
               cost_before double precision, cost_after double precision, improvement_pct double precision,
               index_bytes_estimate bigint, write_overhead_pct double precision, verified_by text, detail text)
AS 'MODULE_PATHNAME', 'dbopt_suggest_indexes'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.suggest_indexes(bigint, double precision, double precision, integer) IS
    'Btree indexes for the busiest statements of pg_stat_statements: each planned generically in the server, candidates from the columns its scans filter, join or sort on, verified with hypothetical indexes when hypopg is installed (otherwise a pg_stats estimate), with size and write overhead';
REVOKE ALL ON FUNCTION dbopt.suggest_indexes(bigint, double precision, double precision, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.suggest_indexes(bigint, double precision, double precision, integer) TO pg_monitor;

-- Audit: rows written by dbopt.audit_trigger() straight into the heap and
-- index; append-only (dbopt.audit_log_guard), removed only by
-- purge_audit_log().  Its rows are dumped by pg_dump.
CREATE TABLE dbopt.audit_log (
    id               bigserial NOT NULL,
    logged_at        timestamptz NOT NULL,
    txid             bigint NOT NULL,
    relation_name    text NOT NULL,
    relation         oid NOT NULL,
    operation        text NOT NULL,
    row_key          jsonb,
    old_data         jsonb,
    new_data         jsonb,
    changed_columns  text[],
    db_user          text NOT NULL,
    application_name text,
    client_addr      inet,
    tenant           text
);
CREATE INDEX audit_log_relation_logged_at ON dbopt.audit_log (relation, logged_at);
COMMENT ON TABLE dbopt.audit_log IS
    'Audit rows written by dbopt.audit_trigger(): one per INSERT, DELETE, UPDATE that changed something (changed columns only) and TRUNCATE; append-only';
SELECT pg_catalog.pg_extension_config_dump('dbopt.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('dbopt.audit_log_id_seq', '');
REVOKE ALL ON dbopt.audit_log FROM PUBLIC;

CREATE FUNCTION dbopt.audit_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'dbopt_audit_trigger'
LANGUAGE C;
COMMENT ON FUNCTION dbopt.audit_trigger() IS
    'The audit trigger installed by dbopt.enable_audit(); its arguments are the columns left out';
CREATE FUNCTION dbopt.audit_log_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'dbopt_audit_log_guard'
LANGUAGE C;
COMMENT ON FUNCTION dbopt.audit_log_guard() IS
    'Keeps dbopt.audit_log append-only: refuses UPDATE, DELETE and TRUNCATE outside dbopt.purge_audit_log()';
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON dbopt.audit_log
    FOR EACH ROW EXECUTE FUNCTION dbopt.audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON dbopt.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION dbopt.audit_log_guard();

CREATE FUNCTION dbopt.enable_audit(relation regclass, exclude_columns text[] DEFAULT NULL, dry_run boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_enable_audit'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.enable_audit(regclass, text[], boolean) IS
    'Install the C audit triggers on a table the caller owns (row INSERT/UPDATE/DELETE, statement TRUNCATE), leaving exclude_columns out of the log; again to change the exclusions';
CREATE FUNCTION dbopt.disable_audit(relation regclass, dry_run boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_disable_audit'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.disable_audit(regclass, boolean) IS
    'Remove the audit triggers from a table the caller owns; its rows in dbopt.audit_log stay';
CREATE FUNCTION dbopt.purge_audit_log(older_than interval, dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_audit_log'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.purge_audit_log(interval, boolean) IS
    'Delete audit rows older than older_than (extension owner only: the only way rows leave the log); returns the count, logged in dbopt.maintenance_log';

CREATE VIEW dbopt.audited_tables AS
SELECT t.tgrelid::regclass AS relation, t.tgenabled <> 'D' AS enabled,
       (SELECT array_agg(a ORDER BY n) FROM unnest(string_to_array(rtrim(encode(t.tgargs, 'escape'), '\000'), '\000'))
              WITH ORDINALITY u(a, n) WHERE a <> '') AS excluded_columns
  FROM pg_catalog.pg_trigger t
 WHERE t.tgname = 'dbopt_audit_row' AND t.tgfoid = 'dbopt.audit_trigger()'::regprocedure;
COMMENT ON VIEW dbopt.audited_tables IS 'Tables with the dbopt audit trigger, and the columns they leave out';
REVOKE ALL ON dbopt.audited_tables FROM PUBLIC;
GRANT SELECT ON dbopt.audited_tables TO pg_monitor;

REVOKE ALL ON FUNCTION dbopt.audit_trigger() FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.audit_log_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.enable_audit(regclass, text[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.disable_audit(regclass, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.purge_audit_log(interval, boolean) FROM PUBLIC;

-- Masking: pure functions, for everyone.  Masks keep the length of what
-- they hide out of sight: a fixed '***' replaces the hidden part of an
-- e-mail's local part; the other masks replace each hidden character.
CREATE FUNCTION dbopt.mask_text(value text, keep_first integer, keep_last integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
             WHEN keep_first < 0 OR keep_last < 0 THEN NULL
             WHEN pg_catalog.length(value) <= keep_first + keep_last THEN pg_catalog.repeat('*', pg_catalog.length(value))
             ELSE pg_catalog.left(value, keep_first)
                  || pg_catalog.repeat('*', pg_catalog.length(value) - keep_first - keep_last)
                  || pg_catalog.right(value, keep_last)
           END $$;
COMMENT ON FUNCTION dbopt.mask_text(text, integer, integer) IS
    'The text with every character but the first keep_first and the last keep_last replaced by *; all * when it is no longer than those; NULL for negative counts';
CREATE FUNCTION dbopt.mask_email(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN pg_catalog.strpos(value, '@') > 1
                THEN pg_catalog.left(value, 1) || '***' || pg_catalog.substr(value, pg_catalog.strpos(value, '@'))
                ELSE dbopt.mask_text(value, 0, 0) END $$;
COMMENT ON FUNCTION dbopt.mask_email(text) IS
    'An e-mail address with its local part reduced to its first character and ***, the domain kept (j***@example.com); not an address: all *';
CREATE FUNCTION dbopt.mask_phone(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    -- every digit but the last four becomes *; spaces, signs and brackets stay
    SELECT pg_catalog.string_agg(CASE WHEN c ~ '[0-9]' AND n <= d - 4 THEN '*' ELSE c END, '' ORDER BY i)
      FROM (SELECT c, i, count(*) FILTER (WHERE c ~ '[0-9]') OVER (ORDER BY i) AS n,
                   count(*) FILTER (WHERE c ~ '[0-9]') OVER () AS d
              FROM pg_catalog.regexp_split_to_table(value, '') WITH ORDINALITY t(c, i)) s $$;
COMMENT ON FUNCTION dbopt.mask_phone(text) IS
    'A phone number with every digit but the last four replaced by *, its formatting kept (+** (***) ***-4567)';
GRANT EXECUTE ON FUNCTION dbopt.mask_text(text, integer, integer), dbopt.mask_email(text), dbopt.mask_phone(text) TO PUBLIC;

CREATE FUNCTION dbopt.encrypt_value(plaintext text, key text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'dbopt_encrypt_value'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.encrypt_value(text, text) IS
    'pgcrypto pgp_sym_encrypt(plaintext, key), wherever pgcrypto is installed';
CREATE FUNCTION dbopt.decrypt_value(ciphertext bytea, key text)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_decrypt_value'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.decrypt_value(bytea, text) IS
    'pgcrypto pgp_sym_decrypt(ciphertext, key): the inverse of dbopt.encrypt_value()';
REVOKE ALL ON FUNCTION dbopt.encrypt_value(text, text), dbopt.decrypt_value(bytea, text) FROM PUBLIC;

-- Registry of sensitive columns (config, dumped by pg_dump).
CREATE TABLE dbopt.sensitive_columns (
    relation    regclass NOT NULL,
    column_name name NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('email', 'phone', 'name', 'address', 'national_id', 'financial', 'free_text')),
    marked_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    marked_by   name NOT NULL,
    PRIMARY KEY (relation, column_name)
);
COMMENT ON TABLE dbopt.sensitive_columns IS 'Columns holding personal or sensitive data, by kind: written by dbopt.mark_sensitive()';
SELECT pg_catalog.pg_extension_config_dump('dbopt.sensitive_columns', '');
REVOKE ALL ON dbopt.sensitive_columns FROM PUBLIC;
GRANT SELECT ON dbopt.sensitive_columns TO pg_monitor;

CREATE FUNCTION dbopt.mark_sensitive(relation regclass, column_name name, kind text)
RETURNS void
AS 'MODULE_PATHNAME', 'dbopt_mark_sensitive'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.mark_sensitive(regclass, name, text) IS
    'Record a column of a table the caller owns as sensitive (email, phone, name, address, national_id, financial, free_text); again to change the kind';
CREATE FUNCTION dbopt.create_masked_view(relation regclass, view_name text)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_create_masked_view'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.create_masked_view(regclass, text) IS
    'Create a view (owned by the caller) of every column of a table the caller owns, its registered sensitive columns masked by kind; returns the view''s name';
REVOKE ALL ON FUNCTION dbopt.mark_sensitive(regclass, name, text), dbopt.create_masked_view(regclass, text) FROM PUBLIC;

-- Tenant isolation.
CREATE FUNCTION dbopt.enable_tenant_isolation(relation regclass, tenant_column name,
                                              setting_name text DEFAULT 'app.current_organization_id',
                                              dry_run boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_enable_tenant_isolation'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.enable_tenant_isolation(regclass, name, text, boolean) IS
    'Enable and force row-level security on a table the caller owns, with one policy: tenant_column equals current_setting(setting_name, true) cast to its type, for reads and writes; unset means no rows';
CREATE FUNCTION dbopt.disable_tenant_isolation(relation regclass, dry_run boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dbopt_disable_tenant_isolation'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.disable_tenant_isolation(regclass, boolean) IS
    'Remove the tenant policy; row-level security goes off too unless other policies remain';
REVOKE ALL ON FUNCTION dbopt.enable_tenant_isolation(regclass, name, text, boolean),
    dbopt.disable_tenant_isolation(regclass, boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.validate_security_configuration(include_passed boolean DEFAULT false,
                                                      include_suppressed boolean DEFAULT false)
RETURNS TABLE (severity text, check_name text, object_name text, detail text, remediation text, fix_sql text)
AS 'MODULE_PATHNAME', 'dbopt_validate_security_configuration'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION dbopt.validate_security_configuration(boolean, boolean) IS
    'Security findings: password storage, superusers and role attributes, schema and function privileges, row-level security and tenant tables, pg_hba.conf, SSL, logging, checksums, default privileges, sensitive columns; an ok row per passed check with include_passed, check_skipped when a check cannot be evaluated';
REVOKE ALL ON FUNCTION dbopt.validate_security_configuration(boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.validate_security_configuration(boolean, boolean) TO pg_monitor;

-- The compliance report: one jsonb document with stable keys.  Each section
-- is computed on its own: one the caller may not read says so under
-- "skipped" and the others are still there.
CREATE FUNCTION dbopt.generate_compliance_report(scope text DEFAULT NULL, as_of date DEFAULT current_date)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    report jsonb;
    section jsonb;
    tenant_cols text[] := pg_catalog.string_to_array(pg_catalog.current_setting('dbopt.tenant_columns'), ',');
    upto timestamptz := (as_of + 1)::timestamptz;
    r record;
    n bigint;
    items jsonb;
BEGIN
    report := jsonb_build_object('generated_at', pg_catalog.now(), 'as_of', as_of,
                                 'database', pg_catalog.current_database(), 'scope', scope);

    -- security
    BEGIN
        SELECT jsonb_build_object(
                 'counts', jsonb_build_object(
                     'critical', count(*) FILTER (WHERE f.severity = 'critical'),
                     'warning', count(*) FILTER (WHERE f.severity = 'warning'),
                     'info', count(*) FILTER (WHERE f.severity = 'info')),
                 'findings', coalesce(jsonb_agg(jsonb_build_object('severity', f.severity, 'check_name', f.check_name,
                                                                   'object_name', f.object_name, 'detail', f.detail)
                                                ORDER BY f.severity, f.check_name, f.object_name), '[]'))
          INTO section FROM dbopt.validate_security_configuration() f;
    EXCEPTION WHEN OTHERS THEN
        section := jsonb_build_object('skipped', SQLERRM);
    END;
    report := report || jsonb_build_object('security', section);

    -- audit
    BEGIN
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
    EXCEPTION WHEN OTHERS THEN
        section := jsonb_build_object('skipped', SQLERRM);
    END;
    report := report || jsonb_build_object('audit', section);

    -- tenant_isolation: tables with a tenant column; with a scope, that tenant's row count
    BEGIN
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
                EXECUTE format('SELECT count(*) FROM %s WHERE %I::text = $1', r.rel, r.attname) INTO n USING scope;
            END IF;
            items := items || jsonb_build_object('table', r.rel::text, 'tenant_column', r.attname, 'rls', r.rls,
                                                 CASE WHEN scope IS NULL THEN 'rows_estimate' ELSE 'rows' END, n);
        END LOOP;
        section := jsonb_build_object(
            'with_rls', (SELECT count(*) FROM jsonb_array_elements(items) e WHERE (e->>'rls')::boolean),
            'without_rls', (SELECT count(*) FROM jsonb_array_elements(items) e WHERE NOT (e->>'rls')::boolean),
            'tables', items);
    EXCEPTION WHEN OTHERS THEN
        section := jsonb_build_object('skipped', SQLERRM);
    END;
    report := report || jsonb_build_object('tenant_isolation', section);

    -- sensitive_columns: each with its protection
    BEGIN
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
    EXCEPTION WHEN OTHERS THEN
        section := jsonb_build_object('skipped', SQLERRM);
    END;
    report := report || jsonb_build_object('sensitive_columns', section);

    -- retention: the policies, and rows older than policy still present
    BEGIN
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
    EXCEPTION WHEN OTHERS THEN
        section := jsonb_build_object('skipped', SQLERRM);
    END;
    report := report || jsonb_build_object('retention', section);

    -- backups
    SELECT jsonb_build_object('archive_mode', pg_catalog.current_setting('archive_mode'),
                              'archived_count', a.archived_count, 'failed_count', a.failed_count,
                              'last_archived_wal', a.last_archived_wal, 'last_archived_time', a.last_archived_time,
                              'last_archived_age_s', round(extract(epoch FROM pg_catalog.now() - a.last_archived_time)),
                              'last_failed_time', a.last_failed_time)
      INTO section FROM pg_catalog.pg_stat_archiver a;
    report := report || jsonb_build_object('backups', section);

    -- integrity: counts of check_data_integrity() findings
    BEGIN
        WITH d AS MATERIALIZED (SELECT i.severity, i.check_name FROM dbopt.check_data_integrity() i)
        SELECT jsonb_build_object(
                 'critical', (SELECT count(*) FROM d WHERE d.severity = 'critical'),
                 'warning', (SELECT count(*) FROM d WHERE d.severity = 'warning'),
                 'info', (SELECT count(*) FROM d WHERE d.severity = 'info'),
                 'checks', coalesce((SELECT jsonb_object_agg(x.check_name, x.n)
                                       FROM (SELECT d.check_name, count(*) AS n FROM d GROUP BY 1) x), '{}'))
          INTO section;
    EXCEPTION WHEN OTHERS THEN
        section := jsonb_build_object('skipped', SQLERRM);
    END;
    report := report || jsonb_build_object('integrity', section);
    RETURN report;
END $$;
COMMENT ON FUNCTION dbopt.generate_compliance_report(text, date) IS
    'One jsonb document: generated_at, as_of, database, scope, security, audit, tenant_isolation, sensitive_columns, retention, backups, integrity; with scope set to a tenant, its row counts and audit events';
REVOKE ALL ON FUNCTION dbopt.generate_compliance_report(text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.generate_compliance_report(text, date) TO pg_monitor;
