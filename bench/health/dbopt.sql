SELECT count(*) FROM dbopt.health_check();
