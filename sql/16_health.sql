-- health_check(): every check appears once even when all is well, and
-- each one fires in a constructed case (a real state where the test
-- cluster can make one, otherwise a threshold forced low).  Replication to
-- a standby, failing archiving, evictions from pg_stat_statements and
-- NOTIFY are in t/006_health.pl.
CREATE SCHEMA "health ""h"";";
SET search_path = "health ""h"";", public;

-- The shape: findings columns, then value and threshold.
SELECT pg_get_function_result('dbopt.health_check(boolean, boolean, boolean)'::regprocedure);

-- Every check answers, with a registered name and a shared severity.
SELECT check_name, count(*) > 0 AS answered
  FROM dbopt.health_check() GROUP BY check_name ORDER BY check_name;
SELECT count(*) AS unregistered FROM dbopt.health_check() h
 WHERE NOT EXISTS (SELECT FROM dbopt.check_names() c WHERE c.check_name = h.check_name)
    OR h.severity NOT IN ('critical', 'warning', 'info', 'ok');
-- check_names() lists each of them under health_check.
SELECT (SELECT array_agg(DISTINCT h.check_name ORDER BY h.check_name) FROM dbopt.health_check() h)
     = (SELECT array_agg(c.check_name ORDER BY c.check_name) FROM dbopt.check_names() c
         WHERE c.report = 'health_check' AND c.check_name <> 'check_failed') AS listed_under_health_check;
-- Thresholds come from the settings, in the value's unit.
SET dbopt.health_replication_lag = '2MB';
SET dbopt.health_idle_in_transaction = '2min';
SELECT check_name, threshold FROM dbopt.health_check()
 WHERE check_name IN ('replication_lag', 'idle_in_transaction', 'cache_hit_ratio') ORDER BY 1;
RESET dbopt.health_replication_lag;
RESET dbopt.health_idle_in_transaction;

-- dead_tuple_ratio and autovacuum_stale: half the rows deleted from a table
-- autovacuum may not touch.
CREATE TABLE "dead; t" (id int, pad text) WITH (autovacuum_enabled = off);
INSERT INTO "dead; t" SELECT g, repeat('x', 20) FROM generate_series(1, 10000) g;
DELETE FROM "dead; t" WHERE id % 2 = 0;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT severity, check_name, object_name, round(value) AS value, threshold, fix_sql
  FROM dbopt.health_check()
 WHERE check_name IN ('dead_tuple_ratio', 'autovacuum_stale') AND object_name LIKE '%dead; t%'
 ORDER BY check_name;
SELECT detail FROM dbopt.health_check() WHERE check_name = 'autovacuum_stale' AND object_name LIKE '%dead; t%';
-- Its fix works: after the VACUUM neither check reports the table.
VACUUM (ANALYZE) "health ""h"";"."dead; t";
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT count(*) AS still_reported FROM dbopt.health_check()
 WHERE check_name IN ('dead_tuple_ratio', 'autovacuum_stale') AND severity <> 'ok'
   AND object_name LIKE '%dead; t%';

-- table_bloat: a dense table estimates near zero; the same table with nine
-- rows in ten deleted and vacuumed (the pages stay) is reported; a big
-- table never analyzed has no estimate, and says why.
CREATE TABLE "bloat ""b""" (id int, pad text) WITH (autovacuum_enabled = off);
INSERT INTO "bloat ""b""" SELECT g, repeat('y', 100) FROM generate_series(1, 50000) g;
ANALYZE "bloat ""b""";
SET dbopt.health_table_bloat = 0;
SELECT coalesce(max(value), 0) < 10 AS near_zero FROM dbopt.health_check()
 WHERE check_name = 'table_bloat' AND object_name = '"health ""h"";"."bloat ""b"""';
RESET dbopt.health_table_bloat;
DELETE FROM "bloat ""b""" WHERE id % 10 <> 0;
VACUUM ANALYZE "bloat ""b""";
SELECT severity, value BETWEEN 80 AND 95 AS about_90_pct, threshold FROM dbopt.health_check()
 WHERE check_name = 'table_bloat' AND object_name = '"health ""h"";"."bloat ""b"""';
CREATE TABLE "never analyzed" (id int, pad text) WITH (autovacuum_enabled = off);
INSERT INTO "never analyzed" SELECT g, repeat('z', 100) FROM generate_series(1, 20000) g;
SELECT severity, value, detail, fix_sql FROM dbopt.health_check()
 WHERE check_name = 'table_bloat' AND object_name = '"health ""h"";"."never analyzed"';

-- temp_file_usage: a sort that spills, then any byte is over a zero threshold.
SET work_mem = '64kB';
SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY g DESC) s;
RESET work_mem;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SET dbopt.health_temp_file_usage = 0;
SELECT severity, value > 0 AS wrote_bytes FROM dbopt.health_check()
 WHERE check_name = 'temp_file_usage' AND object_name = current_database();
RESET dbopt.health_temp_file_usage;

-- replication_lag: an inactive physical slot that reserved WAL keeps it.
SELECT 1 FROM pg_create_physical_replication_slot('regress_health_slot', true);
CREATE TABLE wal_maker AS SELECT g FROM generate_series(1, 10000) g;
SET dbopt.health_replication_lag = 0;
SELECT severity, object_name, value > 0 AS keeps_wal, fix_sql FROM dbopt.health_check()
 WHERE check_name = 'replication_lag';
RESET dbopt.health_replication_lag;
SELECT pg_drop_replication_slot('regress_health_slot');
SELECT severity, detail FROM dbopt.health_check() WHERE check_name = 'replication_lag';

-- role_connection_limit: a role at its limit, seen from its own session.
CREATE ROLE "regress health; role" LOGIN CONNECTION LIMIT 1 IN ROLE pg_monitor;
SELECT current_user AS me \gset
\c - "regress health; role"
SELECT severity, object_name, value, detail FROM dbopt.health_check()
 WHERE check_name = 'role_connection_limit';
\c - :"me"
SET search_path = "health ""h"";", public;
DROP ROLE "regress health; role";

-- check_failed: without pg_monitor, the WAL archive status directory and
-- dbopt's snapshots may not be read; those checks fail alone and the
-- others still answer.
CREATE ROLE regress_health_plain;
GRANT USAGE ON SCHEMA dbopt TO regress_health_plain;
GRANT SELECT ON dbopt.suppressions TO regress_health_plain;
GRANT EXECUTE ON FUNCTION dbopt.health_check(boolean, boolean, boolean) TO regress_health_plain;
SET ROLE regress_health_plain;
SELECT severity, check_name, object_name, detail FROM dbopt.health_check() WHERE check_name = 'check_failed'
 ORDER BY object_name;
SELECT count(DISTINCT check_name) AS checks_answered FROM dbopt.health_check();
RESET ROLE;
REVOKE ALL ON FUNCTION dbopt.health_check(boolean, boolean, boolean) FROM regress_health_plain;
REVOKE ALL ON dbopt.suppressions FROM regress_health_plain;
REVOKE ALL ON SCHEMA dbopt FROM regress_health_plain;
DROP ROLE regress_health_plain;

-- Checks with no state to construct here fire on a forced threshold.
CHECKPOINT;
SELECT pg_sleep(0.05);
SELECT pg_sleep(0.05);
SET dbopt.health_cache_hit_ratio = 100;
SET dbopt.health_connection_utilization = 0;
SET dbopt.health_slow_query_time = 40;
SET dbopt.health_slow_queries = 0;
SET dbopt.health_xid_wraparound = 1;
SET dbopt.health_checkpoints_requested = 0;
SET dbopt.health_checkpoints_min_sample = 1;
SELECT check_name, severity,
       CASE WHEN check_name = 'cache_hit_ratio' THEN value < threshold ELSE value > threshold END AS past_threshold
  FROM dbopt.health_check()
 WHERE check_name IN ('connection_utilization', 'slow_queries', 'checkpoints_requested')
    OR (check_name IN ('cache_hit_ratio', 'xid_wraparound') AND object_name = current_database())
 ORDER BY check_name;
SELECT detail LIKE '%statements of this database have a mean execution time of at least 40 ms; the slowest, queryid %'
       AS names_the_slowest
  FROM dbopt.health_check() WHERE check_name = 'slow_queries';
RESET dbopt.health_cache_hit_ratio;
RESET dbopt.health_connection_utilization;
RESET dbopt.health_slow_query_time;
RESET dbopt.health_slow_queries;
RESET dbopt.health_xid_wraparound;
-- checkpoints_requested below its minimum sample: not a warning, whatever
-- the share, and no value; the detail says what the server counts.
SET dbopt.health_checkpoints_min_sample = 1000000;
SELECT severity, value, detail LIKE 'not enough evidence: % checkpoints since %, fewer than dbopt.health_checkpoints_min_sample = 1000000; %' AS not_enough,
       detail LIKE '%requested checkpoints include CHECKPOINT, CREATE and DROP DATABASE, %, which the server does not count apart from WAL past max_wal_size' AS says_what_counts
  FROM dbopt.health_check() WHERE check_name = 'checkpoints_requested';
RESET dbopt.health_checkpoints_min_sample;
RESET dbopt.health_checkpoints_requested;

-- archive_mode is off on the test cluster: both archive checks say so.
SELECT severity, check_name, value, detail FROM dbopt.health_check()
 WHERE check_name IN ('archiving_failing', 'archive_lag') ORDER BY check_name;

-- Suppressions hide a finding unless include_suppressed.
SELECT dbopt.suppress('table_bloat', '"health ""h"";"."bloat ""b"""', 'rewritten next week');
SELECT count(*) AS shown FROM dbopt.health_check()
 WHERE check_name = 'table_bloat' AND object_name = '"health ""h"";"."bloat ""b"""';
SELECT severity, detail LIKE '%[suppressed: rewritten next week%' AS noted FROM dbopt.health_check(include_suppressed => true)
 WHERE check_name = 'table_bloat' AND object_name = '"health ""h"";"."bloat ""b"""';
SELECT dbopt.unsuppress('table_bloat', '"health ""h"";"."bloat ""b"""');

-- Bad values for a threshold are refused by the setting itself.
SET dbopt.health_cache_hit_ratio = 101;
SET dbopt.health_idle_in_transaction = '-1';

-- cache_hit_ratio: with no snapshot, since the statistics reset; with
-- snapshots, over the window between the two latest, named in the detail,
-- and the value is that window's ratio, not the cumulative one.  (Only
-- findings that are not ok are listed, and new pages count as blocks
-- read: so a threshold of 100 and a table written in the window.)
SET dbopt.health_cache_hit_ratio = 100;
SELECT count(*) AS snapshots FROM dbopt.snapshots;
SELECT severity, detail LIKE '% block requests were found in shared buffers since statistics %' AS since_reset
  FROM dbopt.health_check() WHERE check_name = 'cache_hit_ratio' AND object_name = current_database();
SELECT pg_stat_force_next_flush();
SELECT dbopt.take_snapshot() AS h1 \gset
CREATE TABLE "hit ""r""" AS SELECT g, repeat('h', 100) AS pad FROM generate_series(1, 20000) g;
SELECT count(*) FROM "hit ""r""";
SELECT count(*) FROM "hit ""r""";
SELECT pg_stat_force_next_flush();
SELECT dbopt.take_snapshot() AS h2 \gset
SELECT h.severity,
       h.detail LIKE '% block requests were found in shared buffers between snapshots ' || :h1 || ' and ' || :h2 || ' (% to %)'
         AS names_the_window,
       -- the window's ratio, to one decimal
       h.value::numeric = round(h.value::numeric, 1)
         AND abs(h.value::numeric - 100.0 * (b.blks_hit - a.blks_hit)
                                    / (b.blks_hit - a.blks_hit + b.blks_read - a.blks_read)) <= 0.05 AS window_ratio
  FROM dbopt.health_check() h,
       dbopt.snapshot_databases a, dbopt.snapshot_databases b
 WHERE h.check_name = 'cache_hit_ratio' AND h.object_name = current_database()
   AND a.snap_id = :h1 AND b.snap_id = :h2 AND a.datname = current_database() AND b.datname = current_database();
RESET dbopt.health_cache_hit_ratio;
SELECT dbopt.purge_snapshots('0') AS purged;

DROP SCHEMA "health ""h"";" CASCADE;
