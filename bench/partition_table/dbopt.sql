-- The whole online migration with the default batch size (10,000 rows a
-- committed batch): plan, capture, copy, indexes, replay, verification by
-- counts and checksums, swap, registration, then finish (the original is
-- kept, as in the anchors).
SELECT count(*) FROM dbopt.partition_table('bench_dbopt', 'at', '1 month', premake => 2, dry_run => false);
CALL dbopt.run_partition_migration('bench_dbopt');
SELECT count(*) FROM dbopt.finish_partition_migration('bench_dbopt');
