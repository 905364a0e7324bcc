-- 500 distinct statements in pg_stat_statements: 50 tables of 15,000 rows
-- (over the 1 MB floor) with ten unindexed integer columns, each queried by
-- equality on one column.  HypoPG is installed, so every candidate is
-- verified with a hypothetical index.
SELECT pg_stat_statements_reset();
CREATE EXTENSION IF NOT EXISTS hypopg;
DO $$
BEGIN
  FOR i IN 1..50 LOOP
    EXECUTE format('CREATE TABLE a_%s (id int PRIMARY KEY, c1 int, c2 int, c3 int, c4 int, c5 int, c6 int, c7 int, c8 int, c9 int, c10 int)', i);
    EXECUTE format('INSERT INTO a_%s SELECT g, g %% 100, g %% 200, g %% 300, g %% 400, g %% 500, g %% 600, g %% 700, g %% 800, g %% 900, g %% 1000 FROM generate_series(1, 15000) g', i);
  END LOOP;
END $$;
ANALYZE;
-- Run as prepared statements, as an application does; the anchor's PREPAREs
-- then fall on the same pg_stat_statements entries.
SELECT format('PREPARE s_%s_%s(int) AS SELECT * FROM a_%s WHERE c%s = $1; EXECUTE s_%s_%s(7); DEALLOCATE s_%s_%s',
              i, j, i, j, i, j, i, j)
  FROM generate_series(1, 50) i, generate_series(1, 10) j \gexec
-- The anchor's client loop, written out once (untimed): for each statement,
-- what a client-side advisor such as Dexter sends: PREPARE, the generic
-- plan's EXPLAIN, a hypothetical index, the EXPLAIN again, and clean-up.
CREATE TABLE anchor_loop AS
SELECT row_number() OVER (ORDER BY i, j, k) AS n, s
  FROM generate_series(1, 50) i, generate_series(1, 10) j,
       LATERAL (VALUES
         (1, format('PREPARE adv_%s_%s(int) AS SELECT * FROM a_%s WHERE c%s = $1', i, j, i, j)),
         (2, format('EXPLAIN (FORMAT JSON) EXECUTE adv_%s_%s(NULL)', i, j)),
         (3, format('SELECT indexrelid FROM hypopg_create_index(%L)', format('CREATE INDEX ON a_%s (c%s)', i, j))),
         (4, format('EXPLAIN (FORMAT JSON) EXECUTE adv_%s_%s(NULL)', i, j)),
         (5, 'SELECT hypopg_reset()'),
         (6, format('DEALLOCATE adv_%s_%s', i, j))) v(k, s);
SELECT count(*) AS statements FROM pg_stat_statements WHERE query LIKE 'PREPARE s_%';
