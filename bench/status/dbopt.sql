SELECT count(*) FROM dbopt.status();
