SET client_min_messages = warning;
SELECT rows_deleted, batches, status FROM dbopt.apply_data_retention_policies();
