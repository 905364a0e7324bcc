/* dbopt--0.6--0.7.sql: performance snapshots */

\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.7'" to load this file. \quit

-- One row per dbopt.take_snapshot(): when, whether pg_stat_statements was
-- readable (and its eviction count and reset time, so comparisons can tell
-- untrustworthy windows), and server-wide state as jsonb.
CREATE TABLE dbopt.snapshots (
    snap_id          bigserial PRIMARY KEY,
    taken_at         timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    pgss_available   boolean NOT NULL,
    pgss_dealloc     bigint,
    pgss_stats_reset timestamptz,
    server           jsonb NOT NULL
);
CREATE INDEX ON dbopt.snapshots (taken_at);
COMMENT ON TABLE dbopt.snapshots IS
    'Snapshots taken by dbopt.take_snapshot(); server holds bgwriter, archiver, replication, activity and connection figures';

-- Cumulative pg_stat_statements counters per snapshot; texts are kept once
-- per (dbid, queryid) in dbopt.query_texts.
CREATE TABLE dbopt.snapshot_statements (
    snap_id             bigint NOT NULL,
    userid              oid NOT NULL,
    dbid                oid NOT NULL,
    queryid             bigint NOT NULL,
    toplevel            boolean NOT NULL,
    calls               bigint NOT NULL,
    total_exec_time     double precision NOT NULL,
    mean_exec_time      double precision NOT NULL,
    stddev_exec_time    double precision NOT NULL,
    plans               bigint NOT NULL,
    total_plan_time     double precision NOT NULL,
    rows                bigint NOT NULL,
    shared_blks_hit     bigint NOT NULL,
    shared_blks_read    bigint NOT NULL,
    shared_blks_dirtied bigint NOT NULL,
    shared_blks_written bigint NOT NULL,
    temp_blks_read      bigint NOT NULL,
    temp_blks_written   bigint NOT NULL,
    wal_bytes           numeric NOT NULL
);
CREATE TABLE dbopt.query_texts (
    dbid       oid NOT NULL,
    queryid    bigint NOT NULL,
    query      text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (dbid, queryid)
);
CREATE TABLE dbopt.snapshot_databases (
    snap_id bigint NOT NULL,
    datid oid NOT NULL, datname name, numbackends integer,
    xact_commit bigint, xact_rollback bigint, blks_read bigint, blks_hit bigint,
    tup_returned bigint, tup_fetched bigint, tup_inserted bigint, tup_updated bigint, tup_deleted bigint,
    conflicts bigint, temp_files bigint, temp_bytes bigint, deadlocks bigint,
    blk_read_time double precision, blk_write_time double precision, stats_reset timestamptz
);
CREATE INDEX ON dbopt.snapshot_databases USING brin (snap_id);
CREATE TABLE dbopt.snapshot_tables (
    snap_id bigint NOT NULL,
    relid oid NOT NULL, relation text NOT NULL,
    seq_scan bigint, seq_tup_read bigint, idx_scan bigint, idx_tup_fetch bigint,
    n_tup_ins bigint, n_tup_upd bigint, n_tup_del bigint, n_tup_hot_upd bigint,
    n_live_tup bigint, n_dead_tup bigint,
    vacuum_count bigint, autovacuum_count bigint, analyze_count bigint, autoanalyze_count bigint,
    last_vacuum timestamptz, last_autovacuum timestamptz, last_analyze timestamptz, last_autoanalyze timestamptz,
    bytes bigint
);
CREATE INDEX ON dbopt.snapshot_tables USING brin (snap_id);
CREATE TABLE dbopt.snapshot_indexes (
    snap_id bigint NOT NULL,
    indexrelid oid NOT NULL, relid oid NOT NULL, index_name text NOT NULL,
    idx_scan bigint, idx_tup_read bigint, idx_tup_fetch bigint, bytes bigint
);
CREATE INDEX ON dbopt.snapshot_indexes USING brin (snap_id);
-- No foreign keys, and BRIN indexes on snap_id: a snapshot appends
-- thousands of rows with one snap_id, which a BRIN range finds again at
-- almost no cost per insert, where per-row key checks and btree entries
-- would cost more than the copy.  purge_snapshots() deletes children with
-- their snapshot.
CREATE INDEX ON dbopt.snapshot_statements USING brin (snap_id);
COMMENT ON TABLE dbopt.snapshot_statements IS
    'pg_stat_statements counters per snapshot and (userid, dbid, queryid, toplevel); cumulative, as read';
COMMENT ON TABLE dbopt.query_texts IS
    'Statement texts, kept once per (dbid, queryid) from the first snapshot that saw them';
COMMENT ON TABLE dbopt.snapshot_databases IS 'pg_stat_database per snapshot';
COMMENT ON TABLE dbopt.snapshot_tables IS 'pg_stat_user_tables per snapshot, with the size from pg_class';
COMMENT ON TABLE dbopt.snapshot_indexes IS 'pg_stat_user_indexes per snapshot, with the size from pg_class';
REVOKE ALL ON dbopt.snapshots, dbopt.snapshot_statements, dbopt.query_texts, dbopt.snapshot_databases,
    dbopt.snapshot_tables, dbopt.snapshot_indexes FROM PUBLIC;
GRANT SELECT ON dbopt.snapshots, dbopt.snapshot_statements, dbopt.query_texts, dbopt.snapshot_databases,
    dbopt.snapshot_tables, dbopt.snapshot_indexes TO pg_monitor;

CREATE FUNCTION dbopt.take_snapshot()
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_take_snapshot'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.take_snapshot() IS
    'Record pg_stat_statements (never reset), pg_stat_database, user tables and indexes, activity, connections, bgwriter, archiver and replication into dbopt.snapshot_*; returns the snapshot id';

CREATE FUNCTION dbopt.purge_snapshots(keep interval DEFAULT '14 days', dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_snapshots'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION dbopt.purge_snapshots(interval, boolean) IS
    'Delete snapshots older than keep, and query texts no snapshot refers to any more; returns the number of snapshots deleted (or, in a dry run, that would be)';


CREATE FUNCTION dbopt.welch_p_value(mean1 double precision, var1 double precision, n1 double precision,
                                    mean2 double precision, var2 double precision, n2 double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'dbopt_welch_p_value'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION dbopt.welch_p_value(double precision, double precision, double precision, double precision, double precision, double precision) IS
    'One-sided p-value of Welch''s t-test that the second sample''s mean is greater (sample variances); NULL below two values';

-- Per statement of this database, cumulative totals at one snapshot, with
-- the sum of squares that lets a window's exact variance be recovered:
-- pg_stat_statements keeps the population stddev, so sum(x^2) = n (sd^2 + mean^2).
CREATE FUNCTION dbopt.snapshot_totals(snap bigint)
RETURNS TABLE (queryid bigint, calls bigint, total_ms double precision, sumsq double precision,
               rows bigint, blks_hit bigint, blks_read bigint)
LANGUAGE sql STABLE AS $$
    SELECT s.queryid, sum(s.calls)::bigint, sum(s.total_exec_time),
           sum(s.calls * (s.stddev_exec_time ^ 2 + s.mean_exec_time ^ 2)),
           sum(s.rows)::bigint, sum(s.shared_blks_hit)::bigint, sum(s.shared_blks_read)::bigint
      FROM dbopt.snapshot_statements s
     WHERE s.snap_id = snap
       AND s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
     GROUP BY s.queryid $$;
COMMENT ON FUNCTION dbopt.snapshot_totals(bigint) IS
    'Cumulative totals per statement of this database at one snapshot, summed over users and nesting levels, with the sum of squares';

CREATE FUNCTION dbopt.check_snapshot_window(from_id bigint, to_id bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF from_id IS NULL OR to_id IS NULL OR from_id >= to_id THEN
        RAISE EXCEPTION 'invalid snapshot window % to %', from_id, to_id
            USING ERRCODE = '22023', DETAIL = 'A window runs from an older snapshot to a newer one.',
                  HINT = 'SELECT snap_id, taken_at FROM dbopt.snapshots ORDER BY snap_id lists them.';
    END IF;
    IF NOT EXISTS (SELECT FROM dbopt.snapshots WHERE snap_id = from_id)
       OR NOT EXISTS (SELECT FROM dbopt.snapshots WHERE snap_id = to_id) THEN
        RAISE EXCEPTION 'snapshot % or % does not exist', from_id, to_id
            USING ERRCODE = '42704', DETAIL = 'It may have been purged by dbopt.purge_snapshots().',
                  HINT = 'SELECT snap_id, taken_at FROM dbopt.snapshots ORDER BY snap_id lists them.';
    END IF;
    -- Untrustworthy when entries were evicted or statistics were reset in between.
    RETURN (SELECT coalesce(b.pgss_dealloc > a.pgss_dealloc, false)
                   OR b.pgss_stats_reset IS DISTINCT FROM a.pgss_stats_reset
              FROM dbopt.snapshots a, dbopt.snapshots b
             WHERE a.snap_id = from_id AND b.snap_id = to_id);
END $$;
COMMENT ON FUNCTION dbopt.check_snapshot_window(bigint, bigint) IS
    'Raise a clear error for a bad snapshot window; true when pg_stat_statements evicted entries or was reset within it';

CREATE FUNCTION dbopt.compare_snapshots(from_id bigint, to_id bigint)
RETURNS TABLE (queryid bigint, query text, calls bigint, total_ms double precision, mean_ms double precision,
               rows bigint, hit_ratio double precision, share_of_total_pct double precision, flags text[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
    untrusted boolean := dbopt.check_snapshot_window(from_id, to_id);
BEGIN
    RETURN QUERY
    WITH d AS (
        SELECT b.queryid, b.calls - coalesce(a.calls, 0) AS calls, b.total_ms - coalesce(a.total_ms, 0) AS total_ms,
               b.rows - coalesce(a.rows, 0) AS rows, b.blks_hit - coalesce(a.blks_hit, 0) AS hit,
               b.blks_read - coalesce(a.blks_read, 0) AS rd, a.queryid IS NULL AS is_new
          FROM dbopt.snapshot_totals(to_id) b
          LEFT JOIN dbopt.snapshot_totals(from_id) a ON a.queryid = b.queryid)
    SELECT d.queryid, t.query, d.calls, d.total_ms, d.total_ms / nullif(d.calls, 0), d.rows,
           d.hit::double precision / nullif(d.hit + d.rd, 0),
           100 * d.total_ms / nullif(sum(d.total_ms) OVER (), 0),
           array_remove(ARRAY[CASE WHEN d.is_new THEN 'new' END,
                              CASE WHEN untrusted OR d.calls < 0 THEN 'evicted_or_reset' END], NULL)
      FROM d
      LEFT JOIN dbopt.query_texts t
        ON t.queryid = d.queryid
       AND t.dbid = (SELECT o.oid FROM pg_catalog.pg_database o WHERE o.datname = pg_catalog.current_database())
     WHERE d.calls <> 0
     ORDER BY d.total_ms DESC;
END $$;
COMMENT ON FUNCTION dbopt.compare_snapshots(bigint, bigint) IS
    'Per statement of this database: calls, time, rows and hit ratio between two snapshots, ordered by total time; flags new and evicted_or_reset';

-- The row both forms of detect_regressions() return.
CREATE TYPE dbopt.regression AS (
    queryid bigint, query text, baseline_calls bigint, current_calls bigint,
    baseline_mean_ms double precision, current_mean_ms double precision,
    ratio double precision, p_value double precision);
COMMENT ON TYPE dbopt.regression IS
    'A statement that got slower: calls and mean time in each window, their ratio and Welch''s p-value';

CREATE FUNCTION dbopt.detect_regressions(
    baseline_from bigint, baseline_to bigint, current_from bigint, current_to bigint,
    min_calls integer DEFAULT 20, min_ratio double precision DEFAULT 1.5,
    max_p_value double precision DEFAULT 0.01)
RETURNS SETOF dbopt.regression
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM dbopt.check_snapshot_window(baseline_from, baseline_to);
    PERFORM dbopt.check_snapshot_window(current_from, current_to);
    RETURN QUERY
    WITH w AS (
        -- Each window's exact count, mean and sample variance, from the totals at its two ends.
        SELECT x.which, e.queryid, e.calls - coalesce(s.calls, 0) AS n,
               e.total_ms - coalesce(s.total_ms, 0) AS total,
               e.sumsq - coalesce(s.sumsq, 0) AS sumsq
          FROM (VALUES ('b', baseline_from, baseline_to), ('c', current_from, current_to)) x(which, f, t)
          CROSS JOIN LATERAL dbopt.snapshot_totals(x.t) e
          LEFT JOIN LATERAL (SELECT * FROM dbopt.snapshot_totals(x.f) s0 WHERE s0.queryid = e.queryid) s ON true),
    m AS (
        SELECT w.which, w.queryid, w.n, w.total / w.n AS mean,
               greatest(w.sumsq / w.n - (w.total / w.n) ^ 2, 0) * w.n / nullif(w.n - 1, 0) AS var
          FROM w WHERE w.n > 0),
    r AS (
        SELECT b.queryid, b.n AS bn, c.n AS cn, b.mean AS bm, c.mean AS cm,
               c.mean / nullif(b.mean, 0) AS ratio,
               dbopt.welch_p_value(b.mean, b.var, b.n, c.mean, c.var, c.n) AS p
          FROM m b JOIN m c ON c.queryid = b.queryid AND b.which = 'b' AND c.which = 'c')
    SELECT r.queryid, t.query, r.bn, r.cn, r.bm, r.cm, r.ratio, r.p
      FROM r
      LEFT JOIN dbopt.query_texts t
        ON t.queryid = r.queryid
       AND t.dbid = (SELECT o.oid FROM pg_catalog.pg_database o WHERE o.datname = pg_catalog.current_database())
     WHERE r.bn >= min_calls AND r.cn >= min_calls AND r.ratio >= min_ratio AND r.p <= max_p_value
     ORDER BY r.ratio DESC;
END $$;
COMMENT ON FUNCTION dbopt.detect_regressions(bigint, bigint, bigint, bigint, integer, double precision, double precision) IS
    'Statements whose mean time rose from a baseline window to a current window: exact window means and variances from cumulative counters, Welch''s t-test, filtered by calls, ratio and p-value';

CREATE FUNCTION dbopt.detect_regressions(
    baseline interval, current interval,
    min_calls integer DEFAULT 20, min_ratio double precision DEFAULT 1.5,
    max_p_value double precision DEFAULT 0.01)
RETURNS SETOF dbopt.regression
LANGUAGE plpgsql STABLE AS $$
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
    RETURN QUERY SELECT * FROM dbopt.detect_regressions(bf, cf, cf, ct, min_calls, min_ratio, max_p_value);
END $$;
COMMENT ON FUNCTION dbopt.detect_regressions(interval, interval, integer, double precision, double precision) IS
    'detect_regressions() over the last `current` of snapshots against the `baseline` before it';

CREATE FUNCTION dbopt.slow_queries(min_mean_ms double precision DEFAULT 1000, min_calls bigint DEFAULT 1)
RETURNS TABLE (queryid bigint, query text, calls bigint, mean_ms double precision, total_ms double precision,
               rows bigint, share_of_total_pct double precision)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    nsp name := (SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                  WHERE e.extname = 'pg_stat_statements');
BEGIN
    IF nsp IS NULL THEN
        RAISE EXCEPTION 'pg_stat_statements is not installed in this database'
            USING ERRCODE = '55000', DETAIL = 'slow_queries() reads it live.',
                  HINT = 'CREATE EXTENSION pg_stat_statements; it also needs shared_preload_libraries.';
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT s.queryid, s.query, s.calls, s.mean_exec_time, s.total_exec_time, s.rows,
                100 * s.total_exec_time / nullif(sum(s.total_exec_time) OVER (), 0)
           FROM %I.pg_stat_statements s
          WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
        ', nsp) || ' AND s.calls >= $2 AND s.mean_exec_time >= $1 ORDER BY s.mean_exec_time DESC'
      USING min_mean_ms, min_calls;
END $$;
COMMENT ON FUNCTION dbopt.slow_queries(double precision, bigint) IS
    'Statements of this database whose mean time is at least min_mean_ms over at least min_calls calls, from the live pg_stat_statements';

REVOKE ALL ON FUNCTION dbopt.take_snapshot() FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.purge_snapshots(interval, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.welch_p_value(double precision, double precision, double precision, double precision, double precision, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.snapshot_totals(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.check_snapshot_window(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.compare_snapshots(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.detect_regressions(bigint, bigint, bigint, bigint, integer, double precision, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.detect_regressions(interval, interval, integer, double precision, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.slow_queries(double precision, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.welch_p_value(double precision, double precision, double precision, double precision, double precision, double precision),
    dbopt.snapshot_totals(bigint), dbopt.check_snapshot_window(bigint, bigint),
    dbopt.compare_snapshots(bigint, bigint),
    dbopt.detect_regressions(bigint, bigint, bigint, bigint, integer, double precision, double precision),
    dbopt.detect_regressions(interval, interval, integer, double precision, double precision),
    dbopt.slow_queries(double precision, bigint) TO pg_monitor;

-- The default snapshot job now has its function: switch it on.
UPDATE dbopt.jobs SET enabled = true, next_run_at = pg_catalog.now() + interval '15 minutes'
 WHERE is_default AND kind = 'snapshot';
