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
