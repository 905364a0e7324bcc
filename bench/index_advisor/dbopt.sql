SELECT count(*) FROM dbopt.suggest_indexes(min_calls => 1, min_mean_ms => 0, max_suggestions => 1000);
