-- src/snapshots.sql: performance snapshots, comparisons and regressions (the SQL of src/snapshots.c)

-- One row per dbopt.take_snapshot(): when, whether pg_stat_statements was
-- readable (and its eviction count and reset time, so comparisons can tell
-- untrustworthy windows), and server-wide state as jsonb.  pgss_entries,
-- with the eviction count and reset time, tells take_snapshot() whether any
-- statement can be new since the previous snapshot, so texts are read only
-- then.
CREATE TABLE dbopt.snapshots (
    snap_id          bigserial PRIMARY KEY,
    taken_at         timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    pgss_available   boolean NOT NULL,
    pgss_dealloc     bigint,
    pgss_stats_reset timestamptz,
    server           jsonb NOT NULL,
    pgss_entries     bigint
);
CREATE INDEX ON dbopt.snapshots (taken_at);
COMMENT ON TABLE dbopt.snapshots IS
    'Snapshots taken by dbopt.take_snapshot(); server holds bgwriter, archiver, WAL (pg_stat_wal, from 0.13), replication, activity and connection figures';
COMMENT ON COLUMN dbopt.snapshots.pgss_entries IS 'pg_stat_statements entries copied by this snapshot';

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
    bytes bigint,
    heap_blks_read bigint, heap_blks_hit bigint, idx_blks_read bigint, idx_blks_hit bigint
);
CREATE INDEX ON dbopt.snapshot_tables USING brin (snap_id);
CREATE TABLE dbopt.snapshot_indexes (
    snap_id bigint NOT NULL,
    indexrelid oid NOT NULL, relid oid NOT NULL, index_name text NOT NULL,
    idx_scan bigint, idx_tup_read bigint, idx_tup_fetch bigint, bytes bigint,
    idx_blks_read bigint, idx_blks_hit bigint
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
COMMENT ON TABLE dbopt.snapshot_tables IS
    'pg_stat_user_tables per snapshot, with the size from pg_class and the block counts of pg_statio_user_tables (NULL in snapshots taken before 0.13)';
COMMENT ON TABLE dbopt.snapshot_indexes IS
    'pg_stat_user_indexes per snapshot, with the size from pg_class and the block counts of pg_statio_user_indexes (NULL in snapshots taken before 0.13)';
REVOKE ALL ON dbopt.snapshots, dbopt.snapshot_statements, dbopt.query_texts, dbopt.snapshot_databases,
    dbopt.snapshot_tables, dbopt.snapshot_indexes FROM PUBLIC;
GRANT SELECT ON dbopt.snapshots, dbopt.snapshot_statements, dbopt.query_texts, dbopt.snapshot_databases,
    dbopt.snapshot_tables, dbopt.snapshot_indexes TO pg_monitor;

CREATE TYPE dbopt.regression AS (
    queryid bigint, query text, baseline_calls bigint, current_calls bigint,
    baseline_mean_ms double precision, current_mean_ms double precision,
    ratio double precision, p_value double precision,
    added_ms_per_call double precision, added_ms_per_s double precision,
    current_share_pct double precision);
COMMENT ON TYPE dbopt.regression IS
    'A statement that got slower: calls and mean time in each window, their ratio, Welch''s p-value, the time added per call and per second of the current window, and the statement''s share of that window''s time';

CREATE FUNCTION dbopt.take_snapshot()
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_take_snapshot'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.take_snapshot() IS
    'Record pg_stat_statements (never reset), pg_stat_database, user tables and indexes with their block I/O, activity, connections, bgwriter, archiver, WAL and replication into dbopt.snapshot_*; returns the snapshot id';
REVOKE ALL ON FUNCTION dbopt.take_snapshot() FROM PUBLIC;

-- purge_snapshots() with keep written as text: a bare number is refused.
-- No default here, so purge_snapshots() with no argument stays unambiguous.
CREATE FUNCTION dbopt.purge_snapshots(
    keep interval DEFAULT '14 days'::interval, dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_snapshots'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.purge_snapshots(interval,boolean) IS
    'Delete snapshots older than keep, and query texts no snapshot refers to any more; returns the number of snapshots deleted (or, in a dry run, that would be)';
REVOKE ALL ON FUNCTION dbopt.purge_snapshots(interval,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.welch_p_value(
    mean1 double precision, var1 double precision, n1 double precision, mean2 double precision,
    var2 double precision, n2 double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'dbopt_welch_p_value'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION dbopt.welch_p_value(double precision,double precision,double precision,double precision,double precision,double precision) IS
    'One-sided p-value of Welch''s t-test that the second sample''s mean is greater (sample variances); NULL below two values';
REVOKE ALL ON FUNCTION dbopt.welch_p_value(double precision,double precision,double precision,double precision,double precision,double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.welch_p_value(double precision,double precision,double precision,double precision,double precision,double precision) TO pg_monitor;

-- Per statement of this database, cumulative totals at one snapshot, with
-- the sum of squares that lets a window's exact variance be recovered:
-- pg_stat_statements keeps the population stddev, so sum(x^2) = n (sd^2 + mean^2).
CREATE FUNCTION dbopt.snapshot_totals(snap bigint)
RETURNS TABLE (
    queryid bigint, calls bigint, total_ms double precision, sumsq double precision, rows bigint,
    blks_hit bigint, blks_read bigint)
LANGUAGE SQL STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.queryid, sum(s.calls)::bigint, sum(s.total_exec_time),
           sum(s.calls * (s.stddev_exec_time ^ 2 + s.mean_exec_time ^ 2)),
           sum(s.rows)::bigint, sum(s.shared_blks_hit)::bigint, sum(s.shared_blks_read)::bigint
      FROM dbopt.snapshot_statements s
     WHERE s.snap_id = snap
       AND s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
     GROUP BY s.queryid $$;
COMMENT ON FUNCTION dbopt.snapshot_totals(bigint) IS
    'Cumulative totals per statement of this database at one snapshot, summed over users and nesting levels, with the sum of squares';
REVOKE ALL ON FUNCTION dbopt.snapshot_totals(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.snapshot_totals(bigint) TO pg_monitor;

CREATE FUNCTION dbopt.check_snapshot_window(from_id bigint, to_id bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
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
COMMENT ON FUNCTION dbopt.check_snapshot_window(bigint,bigint) IS
    'Raise a clear error for a bad snapshot window; true when pg_stat_statements evicted entries or was reset within it';
REVOKE ALL ON FUNCTION dbopt.check_snapshot_window(bigint,bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.check_snapshot_window(bigint,bigint) TO pg_monitor;

-- compare_snapshots(): deltas entry by entry, NULL where counters restarted.
CREATE FUNCTION dbopt.compare_snapshots(from_id bigint, to_id bigint)
RETURNS TABLE (
    queryid bigint, query text, calls bigint, total_ms double precision, mean_ms double precision,
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
COMMENT ON FUNCTION dbopt.compare_snapshots(bigint,bigint) IS
    'Per statement of this database: calls, time, rows and hit ratio between two snapshots, ordered by total time; flags new, evicted_or_reset (the window), and counters_reset (this statement''s counters restarted: its figures are NULL)';
REVOKE ALL ON FUNCTION dbopt.compare_snapshots(bigint,bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.compare_snapshots(bigint,bigint) TO pg_monitor;

CREATE FUNCTION dbopt.slow_queries(
    min_mean_ms double precision DEFAULT 1000, min_calls bigint DEFAULT 1)
RETURNS TABLE (
    queryid bigint, query text, calls bigint, mean_ms double precision, total_ms double precision,
    rows bigint, share_of_total_pct double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
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
COMMENT ON FUNCTION dbopt.slow_queries(double precision,bigint) IS
    'Statements of this database whose mean time is at least min_mean_ms over at least min_calls calls, from the live pg_stat_statements';
REVOKE ALL ON FUNCTION dbopt.slow_queries(double precision,bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.slow_queries(double precision,bigint) TO pg_monitor;

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
RETURNS TABLE (
    queryid bigint, calls bigint, total_ms double precision, sumsq double precision, rows bigint,
    blks_hit bigint, blks_read bigint, is_new boolean, counters_reset boolean)
LANGUAGE SQL STABLE
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
COMMENT ON FUNCTION dbopt.snapshot_deltas(bigint,bigint) IS
    'Per statement of this database present at to_id: calls, time, sum of squares, rows and blocks between two snapshots, entry by entry; NULL deltas (counters_reset) for a statement whose counters restarted within the window';
REVOKE ALL ON FUNCTION dbopt.snapshot_deltas(bigint,bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.snapshot_deltas(bigint,bigint) TO pg_monitor;

CREATE FUNCTION dbopt.detect_regressions(
    baseline_from bigint, baseline_to bigint, current_from bigint, current_to bigint,
    min_calls integer DEFAULT 20, min_ratio double precision DEFAULT 1.5,
    max_p_value double precision DEFAULT 0.01, min_added_ms double precision DEFAULT 1,
    min_share_pct double precision DEFAULT 1)
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
COMMENT ON FUNCTION dbopt.detect_regressions(bigint,bigint,bigint,bigint,integer,double precision,double precision,double precision,double precision) IS
    'Statements whose mean time rose from a baseline window to a current window: exact window means and variances from cumulative counters, Welch''s t-test, filtered by calls, ratio, p-value, time added per call and share of the current window''s time; ranked by time added per second';
REVOKE ALL ON FUNCTION dbopt.detect_regressions(bigint,bigint,bigint,bigint,integer,double precision,double precision,double precision,double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.detect_regressions(bigint,bigint,bigint,bigint,integer,double precision,double precision,double precision,double precision) TO pg_monitor;

CREATE FUNCTION dbopt.detect_regressions(
    baseline interval, current interval, min_calls integer DEFAULT 20,
    min_ratio double precision DEFAULT 1.5, max_p_value double precision DEFAULT 0.01,
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
COMMENT ON FUNCTION dbopt.detect_regressions(interval,interval,integer,double precision,double precision,double precision,double precision) IS
    'detect_regressions() over the last `current` of snapshots against the `baseline` before it';
REVOKE ALL ON FUNCTION dbopt.detect_regressions(interval,interval,integer,double precision,double precision,double precision,double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.detect_regressions(interval,interval,integer,double precision,double precision,double precision,double precision) TO pg_monitor;

CREATE FUNCTION dbopt.purge_snapshots(keep text, dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_snapshots'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.purge_snapshots(text,boolean) IS
    'purge_snapshots() with keep written as text, such as ''30 days'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.purge_snapshots(text,boolean) FROM PUBLIC;
