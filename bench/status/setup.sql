-- dbopt.status() against the catalog queries a DBA would run by hand for
-- the same answers.  A few hundred statements fill pg_stat_statements.
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('SELECT %s AS c%s', i, i);
  END LOOP;
END $$;
