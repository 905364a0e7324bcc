-- take_snapshot() and purge_snapshots(): what a snapshot records, that
-- pg_stat_statements is never reset, that texts are kept once, and that
-- the default snapshot job is on.
CREATE SCHEMA "snap ""s"";";
SET search_path = "snap ""s"";", public;
CREATE TABLE "t;" (id int PRIMARY KEY, v text);
CREATE INDEX "t; v" ON "t;" (v);
SELECT dbopt.take_snapshot() AS first \gset
INSERT INTO "t;" SELECT g, 'v' || g FROM generate_series(1, 100) g;
SELECT count(*) FROM "t;" WHERE id = 5;
SELECT count(*) FROM "t;" WHERE id = 6;
ANALYZE "t;";
-- Table counters reach the statistics system when the backend flushes them.
SELECT pg_stat_force_next_flush();
SELECT dbopt.take_snapshot() AS second \gset
SELECT :second > :first AS later_id;
SELECT pgss_available, pgss_dealloc IS NOT NULL AS has_dealloc,
       server ? 'bgwriter' AND server ? 'archiver' AND server ? 'activity' AND server ? 'replication'
       AND server ? 'max_connections' AND server ? 'role_limits' AS server_parts
  FROM dbopt.snapshots WHERE snap_id = :second;
-- The statement run twice between the snapshots: calls grew by exactly 2
-- and never went down (no reset).
SELECT s2.calls - coalesce(s1.calls, 0) AS calls_between, s2.calls >= coalesce(s1.calls, 0) AS monotonic
  FROM dbopt.snapshot_statements s2
  JOIN dbopt.query_texts t ON t.dbid = s2.dbid AND t.queryid = s2.queryid
  LEFT JOIN dbopt.snapshot_statements s1 ON s1.snap_id = :first AND s1.dbid = s2.dbid AND s1.queryid = s2.queryid
       AND s1.userid = s2.userid AND s1.toplevel = s2.toplevel
 WHERE s2.snap_id = :second AND t.query LIKE 'SELECT count(*) FROM "t;" WHERE id = $1';
SELECT count(*) = count(DISTINCT (dbid, queryid)) AS texts_once FROM dbopt.query_texts;
SELECT relation, n_tup_ins, bytes > 0 AS sized FROM dbopt.snapshot_tables
 WHERE snap_id = :second AND relid = '"t;"'::regclass;
SELECT index_name FROM dbopt.snapshot_indexes WHERE snap_id = :second AND relid = '"t;"'::regclass ORDER BY 1;
SELECT count(*) > 0 AS has_this_database FROM dbopt.snapshot_databases
 WHERE snap_id = :second AND datname = current_database();
-- compare_snapshots(): the workload between two snapshots, exact calls.
SELECT calls, rows, 'new' = ANY (flags) AS is_new, mean_ms >= 0 AS timed
  FROM dbopt.compare_snapshots(:first, :second)
 WHERE query = 'SELECT count(*) FROM "t;" WHERE id = $1';
SELECT * FROM dbopt.compare_snapshots(:second, :first);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.compare_snapshots(:first, 999999);
\echo :LAST_ERROR_SQLSTATE

-- Welch's t-test agrees with a hand computation (numerical integration of
-- Student's t: p = 0.0018806 and 0.1384674).
SELECT round(dbopt.welch_p_value(10, 4, 30, 12, 9, 30)::numeric, 7) AS p1,
       round(dbopt.welch_p_value(5, 1, 10, 5.5, 1.2, 12)::numeric, 7) AS p2,
       dbopt.welch_p_value(12, 9, 30, 10, 4, 30) > 0.99 AS faster_is_not_slower,
       dbopt.welch_p_value(1, 1, 1, 2, 1, 5) IS NULL AS needs_two_values;

-- detect_regressions(): pg_sleep(1 ms) 30 times, then pg_sleep(10 ms) 30
-- times; a statement of a steady 2 ms in both windows stays silent
-- (statements of a few microseconds vary by more than 1.5x between runs).
\set ECHO none
\o /dev/null
SELECT dbopt.take_snapshot() AS b0 \gset
SELECT 'SELECT pg_sleep(0.001)' FROM generate_series(1, 30) \gexec
SELECT 'SELECT pg_sleep(0.002), 1 AS steady' FROM generate_series(1, 30) \gexec
SELECT dbopt.take_snapshot() AS b1 \gset
SELECT 'SELECT pg_sleep(0.010)' FROM generate_series(1, 30) \gexec
SELECT 'SELECT pg_sleep(0.002), 1 AS steady' FROM generate_series(1, 30) \gexec
SELECT dbopt.take_snapshot() AS c1 \gset
\o
\set ECHO all
SELECT query, baseline_calls, current_calls, ratio > 2 AS much_slower, p_value < 0.001 AS significant
  FROM dbopt.detect_regressions(:b0, :b1, :b1, :c1);
SELECT calls AS steady_calls FROM dbopt.compare_snapshots(:b1, :c1) WHERE query LIKE '%steady%';
SELECT count(*) AS steady_not_reported FROM dbopt.detect_regressions(:b0, :b1, :b1, :c1, min_ratio => 1.2)
 WHERE query LIKE '%steady%';
SELECT count(*) AS too_few_calls FROM dbopt.detect_regressions(:b0, :b1, :b1, :c1, min_calls => 31);
-- It matters, and says how much: about 9 ms more per call, most of the
-- current window's time.
SELECT added_ms_per_call BETWEEN 5 AND 50 AS adds_ms_per_call, added_ms_per_s > 0 AS adds_load,
       current_share_pct BETWEEN 30 AND 100 AS big_share
  FROM dbopt.detect_regressions(:b0, :b1, :b1, :c1) WHERE query = 'SELECT pg_sleep($1)';
-- By time: the windows need snapshots at both ends.
SELECT count(*) FROM dbopt.detect_regressions(interval '1 day', interval '1 day');
\echo :LAST_ERROR_SQLSTATE

-- Floors on practical size, on snapshots made here with exact counters
-- (one minute apart, 600 calls and more a window, so every p-value is
-- about 0): -1 takes 5 us a call, then 10 us, significant but 0.005 ms
-- more; -2 takes 2 ms, then 4 ms, but is under 1% of the current window's
-- time beside -3, steady at 80 ms; -4 goes from 1 ms to 30 ms.  -5 has
-- two users' entries, and one is evicted between the first two snapshots.
SELECT dbopt.take_snapshot() AS real_last \gset
INSERT INTO dbopt.snapshots (snap_id, taken_at, pgss_available, pgss_dealloc, pgss_stats_reset, pgss_entries, server)
SELECT :real_last + i, now() - interval '3 minutes' + i * interval '1 minute', true, CASE WHEN i = 1 THEN 0 ELSE 1 END,
       '2026-01-01 00:00:00+00', 5, '{}'
  FROM generate_series(1, 3) i;
SELECT setval('dbopt.snapshots_snap_id_seq', :real_last + 3) > 0 AS moved_on;
WITH w (queryid, userid, i, n, mean, sd) AS (VALUES
    (-1, 10, 1, 100, 0.005, 0.0005), (-1, 10, 2, 600, 0.005, 0.0005), (-1, 10, 3, 600, 0.010, 0.0005),
    (-2, 10, 1, 100, 2, 0.1), (-2, 10, 2, 100, 2, 0.1), (-2, 10, 3, 100, 4, 0.1),
    (-3, 10, 1, 1000, 80, 1), (-3, 10, 2, 1000, 80, 1), (-3, 10, 3, 1000, 80, 1),
    (-4, 10, 1, 100, 1, 0.1), (-4, 10, 2, 100, 1, 0.1), (-4, 10, 3, 100, 30, 0.1),
    (-5, 10, 1, 50, 1, 0), (-5, 11, 1, 50, 1, 0), (-5, 10, 2, 30, 1, 0), (-5, 10, 3, 30, 1, 0)),
c AS (SELECT queryid, userid, i,
             sum(n) OVER u AS calls, sum(n * mean) OVER u AS total, sum(n * (sd ^ 2 + mean ^ 2)) OVER u AS sumsq
        FROM w WINDOW u AS (PARTITION BY queryid, userid ORDER BY i))
INSERT INTO dbopt.snapshot_statements
SELECT :real_last + i, userid, (SELECT oid FROM pg_database WHERE datname = current_database()), queryid, true,
       calls, total, total / calls, sqrt(greatest(sumsq / calls - (total / calls) ^ 2, 0)), 0, 0, calls, 0, 0, 0, 0, 0, 0, 0
  FROM c;
SELECT :real_last + 1 AS s1, :real_last + 2 AS s2, :real_last + 3 AS s3 \gset
-- With the default floors, only -4: 29 ms a call, 100 calls a minute.
SELECT queryid, round(added_ms_per_call::numeric, 3) AS added_ms_per_call,
       round(added_ms_per_s::numeric, 3) AS added_ms_per_s, round(current_share_pct::numeric, 3) AS share_pct,
       round(ratio::numeric, 1) AS ratio, p_value < 1e-6 AS significant
  FROM dbopt.detect_regressions(:s1, :s2, :s2, :s3);
-- Without them, -2 and -1 too, ranked by time added per second.
SELECT queryid, round(added_ms_per_call::numeric, 3) AS added_ms_per_call,
       round(added_ms_per_s::numeric, 3) AS added_ms_per_s, round(current_share_pct::numeric, 3) AS share_pct,
       p_value < 1e-6 AS significant
  FROM dbopt.detect_regressions(:s1, :s2, :s2, :s3, min_added_ms => 0, min_share_pct => 0);
SELECT array_agg(queryid ORDER BY queryid) AS only_share_floor
  FROM dbopt.detect_regressions(:s1, :s2, :s2, :s3, min_added_ms => 0);
SELECT array_agg(queryid ORDER BY queryid) AS only_added_floor
  FROM dbopt.detect_regressions(:s1, :s2, :s2, :s3, min_share_pct => 0);
-- The evicted entry of -5: no figures for that window, not 30 - 100 calls;
-- the next window counts it again.
SELECT queryid, calls, total_ms, rows, flags FROM dbopt.compare_snapshots(:s1, :s2) WHERE queryid = -5;
SELECT queryid, calls, total_ms, rows, flags FROM dbopt.compare_snapshots(:s2, :s3) WHERE queryid = -5;

-- Across pg_stat_statements resets, for real: a statement reset alone has
-- fewer calls after than before; after a reset of everything one has more
-- calls than before (9 against 7) and still no delta to trust.
SELECT dbopt.take_snapshot() AS r0 \gset
SELECT count(*) FROM "t;" WHERE id = 7;
SELECT count(*) FROM "t;" WHERE id = 7;
SELECT count(*) FROM "t;" WHERE id = 7;
SELECT count(*) FROM "t;" WHERE id = 7;
SELECT count(*) FROM "t;" WHERE id = 7;
SELECT v FROM "t;" WHERE id = 7;
SELECT v FROM "t;" WHERE id = 7;
SELECT v FROM "t;" WHERE id = 7;
SELECT dbopt.take_snapshot() AS r1 \gset
SELECT count(*) FROM (SELECT pg_stat_statements_reset(0, 0, queryid) FROM pg_stat_statements
                       WHERE query = 'SELECT v FROM "t;" WHERE id = $1') r;
SELECT v FROM "t;" WHERE id = 8;
SELECT dbopt.take_snapshot() AS r2 \gset
SELECT calls, total_ms, rows, flags FROM dbopt.compare_snapshots(:r1, :r2) WHERE query = 'SELECT v FROM "t;" WHERE id = $1';
SELECT pg_stat_statements_reset() IS NOT NULL AS reset_all;
\o /dev/null
SELECT 'SELECT count(*) FROM "t;" WHERE id = 8' FROM generate_series(1, 9) \gexec
\o
SELECT dbopt.take_snapshot() AS r3 \gset
SELECT calls, total_ms, rows, flags FROM dbopt.compare_snapshots(:r2, :r3) WHERE query = 'SELECT count(*) FROM "t;" WHERE id = $1';
SELECT count(*) AS negative FROM dbopt.compare_snapshots(:r0, :r3)
 WHERE calls < 0 OR total_ms < 0 OR rows < 0 OR mean_ms < 0;
-- Such a statement is no regression either way: its window has no figures.
SELECT count(*) AS across_reset FROM dbopt.detect_regressions(:r0, :r1, :r2, :r3, min_calls => 1, min_ratio => '-Infinity',
                                                              max_p_value => 1, min_added_ms => '-Infinity',
                                                              min_share_pct => 0)
 WHERE query = 'SELECT count(*) FROM "t;" WHERE id = $1';

-- The default job takes snapshots now.
SELECT job_name, kind, schedule, enabled, next_run_at > now() AS scheduled FROM dbopt.jobs WHERE is_default ORDER BY job_id;
-- Purging.
SELECT dbopt.purge_snapshots('-1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.purge_snapshots('1 day') AS purged_recent;
SELECT count(*) AS snapshots FROM dbopt.snapshots \gset
SELECT dbopt.purge_snapshots('0', dry_run => true) = :snapshots AS dry_run_counts_all;
SELECT count(*) = :snapshots AS dry_run_kept_them FROM dbopt.snapshots;
SELECT dbopt.purge_snapshots('0') = :snapshots AS purged_all;
SELECT action, rows = :snapshots AS all_counted FROM dbopt.maintenance_log
 WHERE operation = 'purge_snapshots' ORDER BY logged_at;
SELECT count(*) AS snapshots_left FROM dbopt.snapshots;
SELECT count(*) AS texts_left FROM dbopt.query_texts;

RESET search_path;
DELETE FROM dbopt.maintenance_log;
SET client_min_messages = warning;
DROP SCHEMA "snap ""s"";" CASCADE;
RESET client_min_messages;
