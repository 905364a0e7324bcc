-- pgTAP: performance snapshots: take_snapshot(), compare_snapshots(),
-- snapshot_deltas(), detect_regressions(), slow_queries(), purge_snapshots():
-- signatures, who may call them, refusals, and their figures on a workload
-- run between snapshots in this very session.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(25);

SELECT function_returns('dbopt', 'take_snapshot', ARRAY[]::text[], 'bigint');
SELECT has_function('dbopt', 'purge_snapshots', ARRAY['interval', 'boolean']);
SELECT has_function('dbopt', 'purge_snapshots', ARRAY['text', 'boolean']);
SELECT has_function('dbopt', 'compare_snapshots', ARRAY['bigint', 'bigint']);
SELECT has_function('dbopt', 'snapshot_deltas', ARRAY['bigint', 'bigint']);
SELECT has_function('dbopt', 'detect_regressions',
    ARRAY['bigint', 'bigint', 'bigint', 'bigint', 'integer', 'double precision',
          'double precision', 'double precision', 'double precision']);
SELECT has_function('dbopt', 'detect_regressions',
    ARRAY['interval', 'interval', 'integer', 'double precision', 'double precision',
          'double precision', 'double precision']);
SELECT has_function('dbopt', 'slow_queries', ARRAY['double precision', 'bigint']);

SELECT ok(has_function_privilege('pg_monitor', 'dbopt.compare_snapshots(bigint,bigint)', 'EXECUTE')
      AND has_function_privilege('pg_monitor', 'dbopt.snapshot_deltas(bigint,bigint)', 'EXECUTE')
      AND has_function_privilege('pg_monitor', 'dbopt.detect_regressions(interval,interval,integer,double precision,double precision,double precision,double precision)', 'EXECUTE')
      AND has_function_privilege('pg_monitor', 'dbopt.slow_queries(double precision,bigint)', 'EXECUTE'),
          'pg_monitor may read the snapshot reports');
SELECT ok(NOT has_function_privilege('pg_monitor', 'dbopt.take_snapshot()', 'EXECUTE')
      AND NOT has_function_privilege('pg_monitor', 'dbopt.purge_snapshots(interval,boolean)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.compare_snapshots(bigint,bigint)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.take_snapshot()', 'EXECUTE'),
          'neither pg_monitor nor PUBLIC may take or purge snapshots; PUBLIC reads nothing');

-- The workload (each statement run at top level, where pg_stat_statements
-- counts it): one statement 7 times between the first two snapshots, a
-- 1 ms sleep 25 times, then a 10 ms sleep 25 times before the third.
CREATE TABLE tap_snap (id int PRIMARY KEY, k int);
INSERT INTO tap_snap SELECT g, g % 10 FROM generate_series(1, 1000) g;
SELECT dbopt.take_snapshot() AS s1 \gset
\o /dev/null
SELECT format('SELECT count(*) FROM tap_snap WHERE k = %s /* tap_snap_probe */', g) FROM generate_series(1, 7) g \gexec
SELECT 'SELECT pg_sleep(0.001)' FROM generate_series(1, 25) \gexec
\o
SELECT dbopt.take_snapshot() AS s2 \gset
\o /dev/null
SELECT 'SELECT pg_sleep(0.01)' FROM generate_series(1, 25) \gexec
\o
SELECT dbopt.take_snapshot() AS s3 \gset

SELECT ok(:s1 < :s2 AND :s2 < :s3, 'take_snapshot returns increasing ids');
SELECT is((SELECT count(*)::int FROM dbopt.snapshots WHERE snap_id IN (:s1, :s2, :s3)), 3,
          'each snapshot has its header row');
SELECT results_eq(
    format($$ SELECT calls, 'new' = ANY (flags) FROM dbopt.compare_snapshots(%s, %s) WHERE query LIKE '%%tap_snap_probe%%' $$, :s1, :s2),
    $$ VALUES (7::bigint, true) $$,
    'compare_snapshots counts the 7 calls of a statement new in the window');
SELECT results_eq(
    format($$ SELECT d.calls, d.counters_reset FROM dbopt.snapshot_deltas(%s, %s) d
         JOIN dbopt.query_texts t ON t.queryid = d.queryid AND t.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        WHERE t.query LIKE '%%tap_snap_probe%%' AND d.calls > 0 $$, :s1, :s2),
    $$ VALUES (7::bigint, false) $$,
    'snapshot_deltas gives the same 7 calls, counters not reset');
SELECT is_empty(format($$ SELECT 1 FROM dbopt.compare_snapshots(%s, %s) WHERE query LIKE '%%tap_snap_probe%%' $$, :s2, :s3),
                'a statement not run in a window is not in it');
SELECT ok((SELECT current_mean_ms > baseline_mean_ms AND ratio >= 1.5 AND p_value <= 0.01
             FROM dbopt.detect_regressions(:s1, :s2, :s2, :s3) WHERE query LIKE '%pg_sleep%'),
          'detect_regressions finds the sleep that went from 1 ms to 10 ms');
SELECT is_empty(format($$ SELECT 1 FROM dbopt.detect_regressions(%s, %s, %s, %s) WHERE query LIKE '%%pg_sleep%%' $$, :s2, :s3, :s1, :s2),
                'the other way round it is no regression');
-- (A rerun in the same database adds a twin entry: the table's OID is new.)
SELECT ok((SELECT max(calls) >= 7 FROM dbopt.slow_queries(min_mean_ms => 0) WHERE query LIKE '%tap_snap_probe%'),
          'slow_queries lists the statement at a 0 ms floor');
SELECT is_empty($$ SELECT 1 FROM dbopt.slow_queries(min_mean_ms => 1e9) $$,
                'and nothing at a floor of 11 days');

SELECT throws_ok(format('SELECT * FROM dbopt.compare_snapshots(%s, %s)', :s2, :s1), '22023', NULL,
                 'a window from a newer snapshot to an older one is refused');
SELECT throws_ok(format('SELECT * FROM dbopt.compare_snapshots(NULL, %s)', :s1), '22023', NULL,
                 'a NULL end of a window is refused');
SELECT throws_ok($$ SELECT dbopt.purge_snapshots('14') $$, '22023', 'keep "14" has no unit',
                 'purge_snapshots refuses a bare number');
SELECT throws_ok($$ SELECT dbopt.purge_snapshots(NULL::interval) $$, '22004', NULL,
                 'and a NULL keep');

-- The oldest snapshot made 30 days old: the dry run and the real run count it alone.
UPDATE dbopt.snapshots SET taken_at = taken_at - interval '30 days' WHERE snap_id = :s1;
SELECT is(ARRAY[dbopt.purge_snapshots('14 days', dry_run => true), dbopt.purge_snapshots('14 days')],
          ARRAY[1::bigint, 1::bigint], 'purge_snapshots deletes what its dry run counted');
SELECT throws_ok(format('SELECT * FROM dbopt.compare_snapshots(%s, %s)', :s1, :s2), '42704', NULL,
                 'the purged snapshot is gone');

SELECT * FROM finish();
ROLLBACK;
