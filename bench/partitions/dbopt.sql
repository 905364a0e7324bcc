-- dbopt: bounds from the catalog, one lock-limited unit per partition, a log row each.
SELECT count(*) FILTER (WHERE action = 'dropped') FROM dbopt.drop_old_partitions('bench_dbopt', '500 days');
