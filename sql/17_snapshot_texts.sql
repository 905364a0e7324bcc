-- take_snapshot() reads statement texts only when a statement may be new
-- since the previous snapshot: a different entry count, eviction count or
-- reset time.  A reset of single entries can keep all three while a new
-- statement arrives; a full comparison every 16 snapshots stores its text.
\set ECHO none
\o /dev/null
-- Warm-up: every statement shape used below runs once first, so that only
-- the steps themselves change pg_stat_statements' entries.  (Column aliases
-- do not change a queryid; the tables read do.)
SELECT count(*) >= 0 FROM pg_catalog.pg_am;
SELECT count(*) FROM (SELECT pg_stat_statements_reset(0, 0, queryid) FROM pg_stat_statements
                       WHERE query = 'SELECT count(*) >= $1 FROM pg_catalog.pg_amproc') r;
SELECT count(*) FROM dbopt.query_texts WHERE query IN ('SELECT count(*) >= $1 FROM pg_catalog.pg_amop', 'SELECT count(*) >= $1 FROM pg_catalog.pg_amproc');
SELECT count(*) AS snapshots FROM (SELECT dbopt.take_snapshot() FROM generate_series(1, 16)) s;
SELECT dbopt.take_snapshot() IS NOT NULL AS taken;
SELECT dbopt.take_snapshot() IS NOT NULL AS taken;
\o
\set ECHO all
-- A new statement changes the count: the next snapshot stores its text.
SELECT count(*) >= 0 FROM pg_catalog.pg_amop;
SELECT dbopt.take_snapshot() IS NOT NULL AS taken;
SELECT count(*) FROM dbopt.query_texts WHERE query IN ('SELECT count(*) >= $1 FROM pg_catalog.pg_amop', 'SELECT count(*) >= $1 FROM pg_catalog.pg_amproc');
SELECT dbopt.take_snapshot() IS NOT NULL AS taken;
-- One entry removed and a new one added: same count, same evictions.
SELECT count(*) FROM (SELECT pg_stat_statements_reset(0, 0, queryid) FROM pg_stat_statements
                       WHERE query = 'SELECT count(*) >= $1 FROM pg_catalog.pg_am') r;
SELECT count(*) >= 0 FROM pg_catalog.pg_amproc;
SELECT dbopt.take_snapshot() IS NOT NULL AS taken;
SELECT count(*) FROM dbopt.query_texts WHERE query IN ('SELECT count(*) >= $1 FROM pg_catalog.pg_amop', 'SELECT count(*) >= $1 FROM pg_catalog.pg_amproc');
-- Within the next 16 snapshots the full comparison finds it.
SELECT count(*) AS snapshots FROM (SELECT dbopt.take_snapshot() FROM generate_series(1, 16)) s;
SELECT count(*) FROM dbopt.query_texts WHERE query IN ('SELECT count(*) >= $1 FROM pg_catalog.pg_amop', 'SELECT count(*) >= $1 FROM pg_catalog.pg_amproc');
-- Every snapshot records how many entries it copied.
SELECT count(*) AS without_count FROM dbopt.snapshots WHERE pgss_available AND pgss_entries IS NULL;
SELECT dbopt.purge_snapshots('0') >= 0 AS purged;
