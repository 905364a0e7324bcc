SELECT count(*) FROM dbopt.run_checks(notify => false);
