-- 5,000 distinct statements in pg_stat_statements: 100 tables times 50
-- expression shapes (constants are normalized, so shapes must differ).
SELECT pg_stat_statements_reset();
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    EXECUTE format('CREATE TABLE s_%s (a int)', i);
  END LOOP;
END $$;
SELECT format('SELECT %s FROM s_%s', (SELECT string_agg('a', ' + ') FROM generate_series(1, j)), i)
  FROM generate_series(1, 100) i, generate_series(1, 50) j \gexec
CREATE TABLE pgss_copy AS SELECT * FROM pg_stat_statements WITH NO DATA;
-- One snapshot first, so texts are stored and the timed runs read counters only.
SELECT dbopt.take_snapshot();
SELECT count(*) AS statements FROM pg_stat_statements;
