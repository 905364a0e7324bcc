-- Three identical tables of 1,006 daily partitions (1,000 days back to 5
-- days ahead) plus a default partition, one per side.  Retention of 500
-- days makes exactly the 500 oldest partitions qualify on each.
SET client_min_messages = warning;
-- One statement per table: a thousand partitions' locks each.
DROP TABLE IF EXISTS bench_dbopt;
DROP TABLE IF EXISTS bench_plain;
DROP TABLE IF EXISTS bench_pm;
DROP TABLE IF EXISTS partman.template_public_bench_pm;
DELETE FROM partman.part_config;
DELETE FROM dbopt.maintenance_log;

CREATE TABLE bench_dbopt (id bigint, at timestamptz NOT NULL, v text) PARTITION BY RANGE (at);
CREATE TABLE bench_plain (LIKE bench_dbopt) PARTITION BY RANGE (at);
CREATE TABLE bench_pm (LIKE bench_dbopt) PARTITION BY RANGE (at);
CREATE PROCEDURE pg_temp.make_daily(t text) LANGUAGE plpgsql AS $$
DECLARE d date;
BEGIN
    FOR d IN SELECT generate_series(current_date - 1000, current_date + 5, '1 day')::date LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       t || '_p' || to_char(d, 'YYYYMMDD'), t, d::timestamptz, (d + 1)::timestamptz);
    END LOOP;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t || '_default', t);
END $$;
CALL pg_temp.make_daily('bench_dbopt');
CALL pg_temp.make_daily('bench_plain');
SELECT partman.create_parent('public.bench_pm', 'at', 'native', 'daily',
                             p_premake := 5, p_jobmon := false,
                             p_start_partition := (current_date - 1000)::text);
UPDATE partman.part_config SET retention = '500 days', retention_keep_table = false
 WHERE parent_table = 'public.bench_pm';
-- One row per partition on each side, so every drop frees something.
INSERT INTO bench_dbopt SELECT g, d, 'x' FROM generate_series(current_date - 1000, current_date + 5, '1 day') WITH ORDINALITY AS s(d, g);
INSERT INTO bench_plain SELECT * FROM bench_dbopt;
INSERT INTO bench_pm SELECT * FROM bench_dbopt;
ANALYZE bench_dbopt, bench_plain, bench_pm;
