-- 1,000 tables: 100 of them over 1 MB (so table_bloat estimates them),
-- every tenth with a quarter of its rows deleted (dead tuples), all
-- analyzed; plus an idle session's worth of nothing else.  Both sides
-- answer the same sixteen questions over this database.
DO $$
BEGIN
  FOR i IN 1..1000 LOOP
    EXECUTE format('CREATE TABLE h_%s (id int PRIMARY KEY, note text, at timestamptz) WITH (autovacuum_enabled = off)', i);
    EXECUTE format('INSERT INTO h_%s SELECT g, md5(g::text), now() FROM generate_series(1, %s) g',
                   i, CASE WHEN i % 10 = 0 THEN 12000 ELSE 200 END);
    IF i % 10 = 0 THEN
      EXECUTE format('DELETE FROM h_%s WHERE id %% 4 = 0', i);
    END IF;
  END LOOP;
END $$;
ANALYZE;
SELECT pg_stat_force_next_flush();
SELECT dbopt.take_snapshot();
