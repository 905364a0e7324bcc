SELECT count(*), count(*) FILTER (WHERE uses_index) FROM dbopt.simulate_drop_index('target_c1');
