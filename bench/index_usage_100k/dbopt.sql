SELECT count(*), sum(index_size_bytes) FROM dbopt.analyze_index_usage();
