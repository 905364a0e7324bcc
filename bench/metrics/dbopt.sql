SELECT length(dbopt.metrics());
