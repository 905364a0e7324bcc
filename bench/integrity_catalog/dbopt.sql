SELECT count(*) FROM dbopt.check_data_integrity();
