-- dbopt 0.9 -> 0.10: truth (issue #19): every dry run predicts its real run,
-- and no advice does harm.
\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.10'" to load this file. \quit

-- ==== partitions: one plan for dry and real runs; coexistence ====

-- backfill: also fill the gaps below the newest partition (by default only
-- the stretch from the newest partition forward is filled, as pg_partman
-- does).  force: manage the table although pg_partman or TimescaleDB
-- manages it too.
ALTER TABLE dbopt.partition_config
    ADD COLUMN backfill boolean NOT NULL DEFAULT false,
    ADD COLUMN force boolean NOT NULL DEFAULT false;

DROP FUNCTION dbopt.manage_partitions(regclass, text, integer, text, text);
CREATE FUNCTION dbopt.manage_partitions(
    parent regclass,
    partition_interval text,
    premake integer DEFAULT 4,
    retention text DEFAULT NULL,
    retention_mode text DEFAULT 'drop',
    backfill boolean DEFAULT false,
    force boolean DEFAULT false)
RETURNS dbopt.partition_config
AS 'MODULE_PATHNAME', 'dbopt_manage_partitions'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.manage_partitions(regclass, text, integer, text, text, boolean, boolean) IS
    'Register (or re-register) a table partitioned by range on one time or integer column; interval and retention need their unit and are checked against the key type; refuses a table pg_partman or TimescaleDB manages unless force; the caller must own the table';
REVOKE ALL ON FUNCTION dbopt.manage_partitions(regclass, text, integer, text, text, boolean, boolean) FROM PUBLIC;

DROP FUNCTION dbopt.drop_old_partitions(regclass, text, text, boolean);
CREATE FUNCTION dbopt.drop_old_partitions(
    parent regclass,
    older_than text,
    mode text DEFAULT 'drop',
    dry_run boolean DEFAULT false,
    force boolean DEFAULT false)
RETURNS SETOF dbopt.partition_action
AS 'MODULE_PATHNAME', 'dbopt_drop_old_partitions'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.drop_old_partitions(regclass, text, text, boolean, boolean) IS
    'Drop or detach the partitions of any range-partitioned table whose whole range is older than older_than (with its unit), under dbopt.lock_timeout, skipping busy ones; refuses a table another tool manages unless force; the caller must own the table';
REVOKE ALL ON FUNCTION dbopt.drop_old_partitions(regclass, text, text, boolean, boolean) FROM PUBLIC;

COMMENT ON FUNCTION dbopt.create_future_partitions(regclass, boolean, boolean) IS
    'Create the partitions a registered table needs up to premake intervals ahead, from its newest partition forward (every gap with backfill), never below its retention cutoff, named like its existing partitions; rows in the default partition that block one are reported (default_has_rows) or moved in one transaction';
COMMENT ON FUNCTION dbopt.run_partition_maintenance(boolean) IS
    'For every registered table: one plan (future partitions, then retention over the table as it will be), described in a dry run and carried out otherwise; one summary row per table';

-- ==== retention: referenced rows ====

-- Rows that a foreign key with ON DELETE NO ACTION or RESTRICT references
-- cannot be deleted: 'skip' keeps them (counted in detail), 'error' stops
-- the policy before any row goes.  Both runs find them first, so a dry
-- run's promise holds.
ALTER TABLE dbopt.retention_policies
    ADD COLUMN on_referenced text NOT NULL DEFAULT 'skip' CHECK (on_referenced IN ('skip', 'error'));

DROP FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean);
CREATE FUNCTION dbopt.add_retention_policy(
    relation regclass,
    time_column name,
    keep interval,
    mode text DEFAULT 'delete',
    archive_table regclass DEFAULT NULL,
    batch_size integer DEFAULT 10000,
    max_rows_per_run bigint DEFAULT NULL,
    enabled boolean DEFAULT true,
    on_referenced text DEFAULT 'skip')
RETURNS dbopt.retention_policies
AS 'MODULE_PATHNAME', 'dbopt_add_retention_policy'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean, text) IS
    'Register (or replace) the retention policy of a table: keep rows newer than now() - keep by a timestamptz, timestamp or date column; rows referenced under NO ACTION/RESTRICT are kept (on_referenced => ''skip'') or stop the policy (''error''); archive mode creates <table>_archive when no archive_table is given; the caller must own both tables';
-- The same with keep as text: a literal such as '90' (which PostgreSQL
-- would read as 90 seconds) is refused; the unit is required.
CREATE FUNCTION dbopt.add_retention_policy(
    relation regclass,
    time_column name,
    keep text,
    mode text DEFAULT 'delete',
    archive_table regclass DEFAULT NULL,
    batch_size integer DEFAULT 10000,
    max_rows_per_run bigint DEFAULT NULL,
    enabled boolean DEFAULT true,
    on_referenced text DEFAULT 'skip')
RETURNS dbopt.retention_policies
AS 'MODULE_PATHNAME', 'dbopt_add_retention_policy'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.add_retention_policy(regclass, name, text, text, regclass, integer, bigint, boolean, text) IS
    'add_retention_policy() with keep written as text, such as ''90 days'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.add_retention_policy(regclass, name, text, text, regclass, integer, bigint, boolean, text) FROM PUBLIC;

CREATE FUNCTION dbopt.purge_audit_log(older_than text, dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_audit_log'
LANGUAGE C VOLATILE CALLED ON NULL INPUT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.purge_audit_log(text, boolean) IS
    'purge_audit_log() with older_than written as text, such as ''1 year'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.purge_audit_log(text, boolean) FROM PUBLIC;

-- ==== health, snapshots, regressions ====

-- What ran between two snapshots, per statement of this database, matched
-- entry by entry (user, statement, nesting level).  pg_stat_statements
-- restarts an entry's counters when it is reset or evicted and comes back,
-- so a delta across that is not what ran: an entry whose counters went
-- down, that vanished, or that was there before a full reset in the window
-- gives its statement NULL deltas (counters_reset), never negative ones.
-- A statement evicted and back with counters above its old ones cannot be
-- told apart on PostgreSQL 15 (no per-entry stats_since): the window's
-- evicted_or_reset flag covers it.
CREATE FUNCTION dbopt.snapshot_deltas(from_id bigint, to_id bigint)
RETURNS TABLE (queryid bigint, calls bigint, total_ms double precision, sumsq double precision,
               rows bigint, blks_hit bigint, blks_read bigint, is_new boolean, counters_reset boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH me AS (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()),
    win AS (SELECT b.pgss_stats_reset IS DISTINCT FROM a.pgss_stats_reset AS full_reset
              FROM dbopt.snapshots a, dbopt.snapshots b WHERE a.snap_id = from_id AND b.snap_id = to_id),
    a AS (SELECT * FROM dbopt.snapshot_statements s WHERE s.snap_id = from_id AND s.dbid = (SELECT oid FROM me)),
    b AS (SELECT * FROM dbopt.snapshot_statements s WHERE s.snap_id = to_id AND s.dbid = (SELECT oid FROM me)),
    e AS (
        SELECT coalesce(b.queryid, a.queryid) AS queryid, a.queryid IS NOT NULL AS was, b.queryid IS NOT NULL AS is_now,
               b.calls - coalesce(a.calls, 0) AS calls,
               b.total_exec_time - coalesce(a.total_exec_time, 0) AS total_ms,
               b.calls * (b.stddev_exec_time ^ 2 + b.mean_exec_time ^ 2)
                 - coalesce(a.calls * (a.stddev_exec_time ^ 2 + a.mean_exec_time ^ 2), 0) AS sumsq,
               b.rows - coalesce(a.rows, 0) AS rows,
               b.shared_blks_hit - coalesce(a.shared_blks_hit, 0) AS blks_hit,
               b.shared_blks_read - coalesce(a.shared_blks_read, 0) AS blks_read,
               a.queryid IS NOT NULL
                 AND (b.queryid IS NULL OR win.full_reset OR b.calls < a.calls OR b.total_exec_time < a.total_exec_time
                      OR b.rows < a.rows OR b.shared_blks_hit < a.shared_blks_hit OR b.shared_blks_read < a.shared_blks_read)
                 AS restarted
          FROM b FULL JOIN a ON a.userid = b.userid AND a.queryid = b.queryid AND a.toplevel = b.toplevel
          CROSS JOIN win)
    SELECT e.queryid,
           CASE WHEN NOT bool_or(e.restarted) THEN sum(e.calls)::bigint END,
           CASE WHEN NOT bool_or(e.restarted) THEN sum(e.total_ms) END,
           CASE WHEN NOT bool_or(e.restarted) THEN sum(e.sumsq) END,
           CASE WHEN NOT bool_or(e.restarted) THEN sum(e.rows)::bigint END,
           CASE WHEN NOT bool_or(e.restarted) THEN sum(e.blks_hit)::bigint END,
           CASE WHEN NOT bool_or(e.restarted) THEN sum(e.blks_read)::bigint END,
           NOT bool_or(e.was), bool_or(e.restarted)
      FROM e
     GROUP BY e.queryid
    HAVING bool_or(e.is_now) $$;
COMMENT ON FUNCTION dbopt.snapshot_deltas(bigint, bigint) IS
    'Per statement of this database present at to_id: calls, time, sum of squares, rows and blocks between two snapshots, entry by entry; NULL deltas (counters_reset) for a statement whose counters restarted within the window';
REVOKE ALL ON FUNCTION dbopt.snapshot_deltas(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.snapshot_deltas(bigint, bigint) TO pg_monitor;

-- compare_snapshots(): deltas entry by entry, NULL where counters restarted.
CREATE OR REPLACE FUNCTION dbopt.compare_snapshots(from_id bigint, to_id bigint)
RETURNS TABLE (queryid bigint, query text, calls bigint, total_ms double precision, mean_ms double precision,
               rows bigint, hit_ratio double precision, share_of_total_pct double precision, flags text[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    untrusted boolean := dbopt.check_snapshot_window(from_id, to_id);
BEGIN
    RETURN QUERY
    SELECT d.queryid, t.query, d.calls, d.total_ms, d.total_ms / nullif(d.calls, 0), d.rows,
           d.blks_hit::double precision / nullif(d.blks_hit + d.blks_read, 0),
           100 * d.total_ms / nullif(sum(d.total_ms) OVER (), 0),
           array_remove(ARRAY[CASE WHEN d.is_new THEN 'new' END,
                              CASE WHEN untrusted OR d.counters_reset THEN 'evicted_or_reset' END,
                              CASE WHEN d.counters_reset THEN 'counters_reset' END], NULL)
      FROM dbopt.snapshot_deltas(from_id, to_id) d
      LEFT JOIN dbopt.query_texts t
        ON t.queryid = d.queryid
       AND t.dbid = (SELECT o.oid FROM pg_catalog.pg_database o WHERE o.datname = pg_catalog.current_database())
     WHERE d.calls IS DISTINCT FROM 0
     ORDER BY d.total_ms DESC NULLS LAST, d.queryid;
END $$;
COMMENT ON FUNCTION dbopt.compare_snapshots(bigint, bigint) IS
    'Per statement of this database: calls, time, rows and hit ratio between two snapshots, ordered by total time; flags new, evicted_or_reset (the window), and counters_reset (this statement''s counters restarted: its figures are NULL)';

-- detect_regressions(): a significant p-value is not enough; the slowdown
-- must matter, per call (min_added_ms) and to the workload (min_share_pct),
-- and its size is returned so that regressions can be ranked.
DROP FUNCTION dbopt.detect_regressions(interval, interval, integer, double precision, double precision);
DROP FUNCTION dbopt.detect_regressions(bigint, bigint, bigint, bigint, integer, double precision, double precision);
ALTER TYPE dbopt.regression
    ADD ATTRIBUTE added_ms_per_call double precision,
    ADD ATTRIBUTE added_ms_per_s double precision,
    ADD ATTRIBUTE current_share_pct double precision;
COMMENT ON TYPE dbopt.regression IS
    'A statement that got slower: calls and mean time in each window, their ratio, Welch''s p-value, the time added per call and per second of the current window, and the statement''s share of that window''s time';

CREATE FUNCTION dbopt.detect_regressions(
    baseline_from bigint, baseline_to bigint, current_from bigint, current_to bigint,
    min_calls integer DEFAULT 20, min_ratio double precision DEFAULT 1.5,
    max_p_value double precision DEFAULT 0.01,
    min_added_ms double precision DEFAULT 1, min_share_pct double precision DEFAULT 1)
RETURNS SETOF dbopt.regression
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    window_s double precision;
BEGIN
    PERFORM dbopt.check_snapshot_window(baseline_from, baseline_to);
    PERFORM dbopt.check_snapshot_window(current_from, current_to);
    SELECT extract(epoch FROM b.taken_at - a.taken_at) INTO window_s
      FROM dbopt.snapshots a, dbopt.snapshots b WHERE a.snap_id = current_from AND b.snap_id = current_to;
    RETURN QUERY
    WITH w AS (
        -- Each window's exact count, total and sum of squares; NULL where counters restarted.
        SELECT x.which, d.queryid, d.calls AS n, d.total_ms AS total, d.sumsq
          FROM (VALUES ('b', baseline_from, baseline_to), ('c', current_from, current_to)) x(which, f, t)
          CROSS JOIN LATERAL dbopt.snapshot_deltas(x.f, x.t) d),
    m AS (
        SELECT w.which, w.queryid, w.n, w.total / w.n AS mean,
               greatest(w.sumsq / w.n - (w.total / w.n) ^ 2, 0) * w.n / nullif(w.n - 1, 0) AS var,
               100 * w.total / nullif(sum(w.total) FILTER (WHERE w.total > 0) OVER (PARTITION BY w.which), 0) AS share
          FROM w WHERE w.n > 0),
    r AS (
        SELECT b.queryid, b.n AS bn, c.n AS cn, b.mean AS bm, c.mean AS cm,
               c.mean / nullif(b.mean, 0) AS ratio,
               dbopt.welch_p_value(b.mean, b.var, b.n, c.mean, c.var, c.n) AS p,
               c.mean - b.mean AS added,
               (c.mean - b.mean) * c.n / nullif(window_s, 0) AS added_per_s,
               c.share
          FROM m b JOIN m c ON c.queryid = b.queryid AND b.which = 'b' AND c.which = 'c')
    SELECT r.queryid, t.query, r.bn, r.cn, r.bm, r.cm, r.ratio, r.p, r.added, r.added_per_s, r.share
      FROM r
      LEFT JOIN dbopt.query_texts t
        ON t.queryid = r.queryid
       AND t.dbid = (SELECT o.oid FROM pg_catalog.pg_database o WHERE o.datname = pg_catalog.current_database())
     WHERE r.bn >= min_calls AND r.cn >= min_calls AND r.ratio >= min_ratio AND r.p <= max_p_value
       AND r.added >= min_added_ms AND r.share >= min_share_pct
     ORDER BY r.added_per_s DESC NULLS LAST, r.queryid;
END $$;
COMMENT ON FUNCTION dbopt.detect_regressions(bigint, bigint, bigint, bigint, integer, double precision, double precision, double precision, double precision) IS
    'Statements whose mean time rose from a baseline window to a current window: exact window means and variances from cumulative counters, Welch''s t-test, filtered by calls, ratio, p-value, time added per call and share of the current window''s time; ranked by time added per second';

CREATE FUNCTION dbopt.detect_regressions(
    baseline interval, current interval,
    min_calls integer DEFAULT 20, min_ratio double precision DEFAULT 1.5,
    max_p_value double precision DEFAULT 0.01,
    min_added_ms double precision DEFAULT 1, min_share_pct double precision DEFAULT 1)
RETURNS SETOF dbopt.regression
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ct bigint; cf bigint; bf bigint;
BEGIN
    -- Current: the last `current` up to the newest snapshot; baseline: the `baseline` before it.
    SELECT max(snap_id) INTO ct FROM dbopt.snapshots;
    SELECT max(snap_id) INTO cf FROM dbopt.snapshots
     WHERE taken_at <= (SELECT taken_at FROM dbopt.snapshots WHERE snap_id = ct) - current;
    SELECT min(snap_id) INTO bf FROM dbopt.snapshots
     WHERE taken_at >= (SELECT taken_at FROM dbopt.snapshots WHERE snap_id = cf) - baseline;
    IF ct IS NULL OR cf IS NULL OR bf IS NULL OR bf >= cf THEN
        RAISE EXCEPTION 'not enough snapshots for a % baseline before the last %', baseline, current
            USING ERRCODE = '22023', DETAIL = 'Each window needs a snapshot at both ends.',
                  HINT = 'Let the snapshot job run longer, or pick snapshot ids yourself.';
    END IF;
    RETURN QUERY SELECT * FROM dbopt.detect_regressions(bf, cf, cf, ct, min_calls, min_ratio, max_p_value,
                                                        min_added_ms, min_share_pct);
END $$;
COMMENT ON FUNCTION dbopt.detect_regressions(interval, interval, integer, double precision, double precision, double precision, double precision) IS
    'detect_regressions() over the last `current` of snapshots against the `baseline` before it';

REVOKE ALL ON FUNCTION dbopt.detect_regressions(bigint, bigint, bigint, bigint, integer, double precision, double precision, double precision, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.detect_regressions(interval, interval, integer, double precision, double precision, double precision, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    dbopt.detect_regressions(bigint, bigint, bigint, bigint, integer, double precision, double precision, double precision, double precision),
    dbopt.detect_regressions(interval, interval, integer, double precision, double precision, double precision, double precision)
    TO pg_monitor;

-- ==== integrity, status, fix_sql ====

-- ==== compliance ====

-- A scope that matches no tenant is said so (scope_found, notes); an as_of
-- in the future, a NULL as_of and an empty scope are refused.
CREATE OR REPLACE FUNCTION dbopt.generate_compliance_report(scope text DEFAULT NULL, as_of date DEFAULT current_date)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp AS $$
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
COMMENT ON FUNCTION dbopt.generate_compliance_report(text, date) IS
    'One jsonb document: generated_at, as_of (not in the future), database, scope, security, audit, tenant_isolation, sensitive_columns, retention, backups, integrity, notes; with scope set to a tenant, its row counts and audit events, and scope_found saying whether any row or event carries it';

-- ==== units: interval arguments written as text ====

-- purge_snapshots() with keep written as text: a bare number is refused.
-- No default here, so purge_snapshots() with no argument stays unambiguous.
CREATE FUNCTION dbopt.purge_snapshots(keep text, dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_snapshots'
LANGUAGE C VOLATILE CALLED ON NULL INPUT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.purge_snapshots(text, boolean) IS
    'purge_snapshots() with keep written as text, such as ''30 days'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.purge_snapshots(text, boolean) FROM PUBLIC;

-- analyze_index_usage(): the indexes of tables that belong to an extension
-- (dbopt's own, pg_partman's, ...) are left out, and shown only with
-- include_extension_objects, never with DROP advice (issue #20).
DROP FUNCTION dbopt.analyze_index_usage(text, interval, boolean);
CREATE FUNCTION dbopt.analyze_index_usage(
    schema_name text DEFAULT NULL,
    min_stats_age interval DEFAULT '7 days',
    include_suppressed boolean DEFAULT false,
    include_extension_objects boolean DEFAULT false,
    OUT schemaname name, OUT tablename name, OUT indexname name,
    OUT index regclass, OUT index_size_bytes bigint, OUT table_size_bytes bigint,
    OUT scans bigint, OUT tuples_read bigint, OUT tuples_fetched bigint,
    OUT is_unique boolean, OUT is_primary boolean, OUT backs_constraint boolean,
    OUT is_valid boolean, OUT stats_since timestamptz,
    OUT bloat_bytes_estimate bigint, OUT findings text[],
    OUT recommendation text, OUT fix_sql text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_analyze_index_usage'
LANGUAGE C CALLED ON NULL INPUT STABLE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.analyze_index_usage(text, interval, boolean, boolean) IS
    'One row per index on user tables: size, scans, constraint role, bloat estimate, finding codes (unused, unused_recent_stats, duplicate, redundant, invalid, bloated) and the SQL to fix them; indexes of extension member tables only with include_extension_objects, and never with a fix';
REVOKE ALL ON FUNCTION dbopt.analyze_index_usage(text, interval, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.analyze_index_usage(text, interval, boolean, boolean) TO pg_monitor;

-- The same with min_stats_age written as text in the second position:
-- analyze_index_usage(NULL, '90') is refused rather than read as 90
-- seconds, which would call busy indexes unused.  Its first two arguments
-- have no default, so calls without them stay with the interval form,
-- unambiguous.
CREATE FUNCTION dbopt.analyze_index_usage(
    schema_name text,
    min_stats_age text,
    include_suppressed boolean DEFAULT false,
    include_extension_objects boolean DEFAULT false,
    OUT schemaname name, OUT tablename name, OUT indexname name,
    OUT index regclass, OUT index_size_bytes bigint, OUT table_size_bytes bigint,
    OUT scans bigint, OUT tuples_read bigint, OUT tuples_fetched bigint,
    OUT is_unique boolean, OUT is_primary boolean, OUT backs_constraint boolean,
    OUT is_valid boolean, OUT stats_since timestamptz,
    OUT bloat_bytes_estimate bigint, OUT findings text[],
    OUT recommendation text, OUT fix_sql text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_analyze_index_usage'
LANGUAGE C CALLED ON NULL INPUT STABLE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.analyze_index_usage(text, text, boolean, boolean) IS
    'analyze_index_usage() with min_stats_age written as text, such as ''7 days'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.analyze_index_usage(text, text, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.analyze_index_usage(text, text, boolean, boolean) TO pg_monitor;
