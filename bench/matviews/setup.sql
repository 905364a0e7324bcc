-- 40 chains of 5 materialized views (200 views), each reading the one
-- before it through a plain view, over a 200k-row table; the first of
-- each chain has a unique index, so it can refresh CONCURRENTLY.
CREATE TABLE mv_src (id int PRIMARY KEY, g int, v numeric);
INSERT INTO mv_src SELECT i, i % 40, i / 3.0 FROM generate_series(1, 200000) i;
DO $$
BEGIN
  FOR c IN 1..40 LOOP
    EXECUTE format('CREATE MATERIALIZED VIEW mv_%s_1 AS SELECT id, v FROM mv_src WHERE g = %s', c, c - 1);
    EXECUTE format('CREATE UNIQUE INDEX ON mv_%s_1 (id)', c);
    FOR k IN 2..5 LOOP
      EXECUTE format('CREATE VIEW v_%s_%s AS SELECT id, v FROM mv_%s_%s', c, k, c, k - 1);
      EXECUTE format('CREATE MATERIALIZED VIEW mv_%s_%s AS SELECT id, v * 2 AS v FROM v_%s_%s', c, k, c, k);
    END LOOP;
  END LOOP;
END $$;
-- The anchor: the REFRESH statements a DBA keeps in a script, in the right
-- order, written out once here so that building it is not timed.
CREATE TABLE anchor_script AS
SELECT string_agg(format('REFRESH MATERIALIZED VIEW %s%s;', CASE WHEN k = 1 THEN 'CONCURRENTLY ' ELSE '' END,
                         format('mv_%s_%s', c, k)), E'\n' ORDER BY k, c) AS sql
  FROM generate_series(1, 40) c, generate_series(1, 5) k;
