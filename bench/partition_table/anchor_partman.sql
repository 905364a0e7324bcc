-- pg_partman 4.7's documented offline migration: rename the old table,
-- create the partitioned parent and its partitions with create_parent(),
-- move the rows with partition_data_proc() from the old table (one month a
-- committed batch, no pause), then the primary key and indexes.
ALTER TABLE bench_pm RENAME TO bench_pm_old;
CREATE TABLE bench_pm (LIKE bench_pm_old INCLUDING DEFAULTS) PARTITION BY RANGE (at);
SELECT partman.create_parent('public.bench_pm', 'at', 'native', 'monthly', p_premake := 2,
                             p_start_partition := '2023-01-01', p_jobmon := false);
CALL partman.partition_data_proc('public.bench_pm', p_wait := 0, p_source_table := 'public.bench_pm_old', p_quiet := true);
ALTER TABLE bench_pm ADD PRIMARY KEY (id, at);
CREATE INDEX ON bench_pm (at);
CREATE INDEX ON bench_pm (v);
