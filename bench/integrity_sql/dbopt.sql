-- The orphan count (with samples) for the NOT VALID foreign key.
SELECT check_name, violating_rows FROM dbopt.check_data_integrity('bench_child');
