-- run_checks() against the same seven reports called one by one with the
-- results thrown away (what a pg_cron job of the reports does today): the
-- price of keeping the history.  2,000 tables, each with a foreign key and
-- no index on it (2,000 findings of find_unindexed_foreign_keys), every
-- fourth with an unused secondary index, every tenth with a NOT VALID
-- CHECK; 24 monthly partitions of one table.
CREATE TABLE parent (id int PRIMARY KEY);
INSERT INTO parent SELECT g FROM generate_series(1, 100) g;
DO $$
BEGIN
  FOR i IN 1..2000 LOOP
    EXECUTE format('CREATE TABLE rc_%s (id int PRIMARY KEY, parent_id int REFERENCES parent, n int)', i);
    EXECUTE format('INSERT INTO rc_%s SELECT g, 1 + g %% 100, g FROM generate_series(1, 20) g', i);
    IF i % 4 = 0 THEN
      EXECUTE format('CREATE INDEX rc_%s_n ON rc_%s (n)', i, i);
    END IF;
    IF i % 10 = 0 THEN
      EXECUTE format('ALTER TABLE rc_%s ADD CONSTRAINT rc_%s_n_positive CHECK (n > 0) NOT VALID', i, i);
    END IF;
  END LOOP;
END $$;
CREATE TABLE events (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
DO $$
BEGIN
  FOR m IN 0..23 LOOP
    EXECUTE format('CREATE TABLE events_%s PARTITION OF events FOR VALUES FROM (%L) TO (%L)', m,
                   date_trunc('month', now()) - (m || ' months')::interval,
                   date_trunc('month', now()) - ((m - 1) || ' months')::interval);
  END LOOP;
END $$;
ANALYZE;
-- The first run records everything; the timed runs then find the same
-- findings again (the steady state of a daily job).
SELECT count(*) FROM dbopt.run_checks(notify => false);
