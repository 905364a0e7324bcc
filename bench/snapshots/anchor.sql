-- The plain copy a DBA would write (texts included, as the view gives them).
INSERT INTO pgss_copy SELECT * FROM pg_stat_statements;
