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
-- By time: the windows need snapshots at both ends.
SELECT count(*) FROM dbopt.detect_regressions(interval '1 day', interval '1 day');
\echo :LAST_ERROR_SQLSTATE

-- The default job takes snapshots now.
SELECT job_name, kind, schedule, enabled, next_run_at > now() AS scheduled FROM dbopt.jobs WHERE is_default;
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
