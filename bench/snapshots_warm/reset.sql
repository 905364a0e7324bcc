TRUNCATE pgss_copy;
