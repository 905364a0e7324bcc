-- Leftovers of the last run dropped, then a fresh table for the side about
-- to run (psql variable side, set by bench/run; all three without it),
-- loaded from bench_src, with its primary key and two indexes, vacuumed
-- and analyzed.
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_dbopt, bench_dbopt_premigration, bench_dbopt_migrating,
                     bench_plain, bench_plain_old, bench_pm, bench_pm_old CASCADE;
DROP TABLE IF EXISTS partman.template_public_bench_pm;
DELETE FROM partman.part_config;
DELETE FROM dbopt.partition_config;
DELETE FROM dbopt.partition_migrations;
DELETE FROM dbopt.maintenance_log;
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT oid FROM pg_proc WHERE pronamespace = 'dbopt'::regnamespace AND proname LIKE 'partition\_capture\_%' LOOP
        EXECUTE format('DROP FUNCTION %s', f);
    END LOOP;
END $$;
\if :{?side}
\else
\set side all
\endif
SELECT :'side' IN ('dbopt', 'all') AS load_dbopt, :'side' IN ('anchor', 'all') AS load_plain,
       :'side' IN ('anchor_partman', 'all') AS load_pm \gset
CREATE TABLE bench_dbopt (id bigint PRIMARY KEY, at timestamptz NOT NULL, v int NOT NULL, note text);
\if :load_dbopt
INSERT INTO bench_dbopt SELECT * FROM bench_src;
\endif
CREATE INDEX bench_dbopt_at ON bench_dbopt (at);
CREATE INDEX bench_dbopt_v ON bench_dbopt (v);
CREATE TABLE bench_plain (LIKE bench_dbopt INCLUDING ALL);
CREATE TABLE bench_pm (LIKE bench_dbopt INCLUDING ALL);
\if :load_plain
INSERT INTO bench_plain SELECT * FROM bench_src;
\endif
\if :load_pm
INSERT INTO bench_pm SELECT * FROM bench_src;
\endif
VACUUM ANALYZE bench_dbopt, bench_plain, bench_pm;
CHECKPOINT;
