-- 300 distinct statements in pg_stat_statements: 100 on the table whose
-- index is to be dropped ("SELECT cX FROM target WHERE cY = $1", X and Y
-- from 1 to 10; index on c1, so 10 of them use it) and 200 on 20 other
-- tables.  simulate_drop_index plans all 300 once and the 100 on target
-- again without the index.
SELECT pg_stat_statements_reset();
CREATE TABLE target (id int PRIMARY KEY, c1 int, c2 int, c3 int, c4 int, c5 int, c6 int, c7 int, c8 int, c9 int, c10 int);
INSERT INTO target SELECT g, g % 1000, g % 200, g % 300, g % 400, g % 500, g % 600, g % 700, g % 800, g % 900, g % 1000
  FROM generate_series(1, 100000) g;
CREATE INDEX target_c1 ON target (c1);
DO $$
BEGIN
  FOR i IN 1..20 LOOP
    EXECUTE format('CREATE TABLE o_%s (id int PRIMARY KEY, c1 int, c2 int, c3 int, c4 int, c5 int, c6 int, c7 int, c8 int, c9 int, c10 int)', i);
    EXECUTE format('INSERT INTO o_%s SELECT g, g %% 100, g %% 200, g %% 300, g %% 400, g %% 500, g %% 600, g %% 700, g %% 800, g %% 900, g %% 1000 FROM generate_series(1, 10000) g', i);
    EXECUTE format('CREATE INDEX ON o_%s (c1)', i);
  END LOOP;
END $$;
ANALYZE;
-- Run as prepared statements, as an application does; the anchor's
-- PREPAREs then fall on the same pg_stat_statements entries.
SELECT format('PREPARE w_%s_%s(int) AS SELECT c%s FROM target WHERE c%s = $1; EXECUTE w_%s_%s(7); DEALLOCATE w_%s_%s',
              x, y, x, y, x, y, x, y)
  FROM generate_series(1, 10) x, generate_series(1, 10) y \gexec
SELECT format('PREPARE o_%s_%s(int) AS SELECT * FROM o_%s WHERE c%s = $1; EXECUTE o_%s_%s(7); DEALLOCATE o_%s_%s',
              i, j, i, j, i, j, i, j)
  FROM generate_series(1, 20) i, generate_series(1, 10) j \gexec
-- The anchor, written out once (untimed): what a DBA does by hand.  Each
-- statement on target is prepared and its generic plan explained; then, in
-- a transaction that is rolled back, the index is dropped and each one
-- explained again.  (PostgreSQL 15 has no EXPLAIN (GENERIC_PLAN).)
CREATE TABLE anchor_loop AS
SELECT row_number() OVER (ORDER BY k, x, y) AS n, s FROM (
  SELECT 1 AS k, x, y, format('PREPARE w_%s_%s(int) AS SELECT c%s FROM target WHERE c%s = $1', x, y, x, y) AS s
    FROM generate_series(1, 10) x, generate_series(1, 10) y
  UNION ALL
  SELECT 2, x, y, format('EXPLAIN (FORMAT JSON) EXECUTE w_%s_%s(NULL)', x, y) FROM generate_series(1, 10) x, generate_series(1, 10) y
  UNION ALL SELECT 3, 0, 0, 'BEGIN'
  UNION ALL SELECT 4, 0, 0, 'DROP INDEX target_c1'
  UNION ALL
  SELECT 5, x, y, format('EXPLAIN (FORMAT JSON) EXECUTE w_%s_%s(NULL)', x, y) FROM generate_series(1, 10) x, generate_series(1, 10) y
  UNION ALL SELECT 6, 0, 0, 'ROLLBACK'
  UNION ALL SELECT 7, 0, 0, 'DEALLOCATE ALL') v;
SELECT count(*) AS statements FROM pg_stat_statements WHERE query ~ '^PREPARE [wo]_';
