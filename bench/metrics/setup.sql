-- dbopt.metrics() against the SQL a DBA would put in a postgres_exporter
-- queries file for the same gauges: 3,000 sequences, 20 managed monthly
-- partitioned tables, 10 jobs, findings recorded by run_checks().
DO $$
BEGIN
  FOR i IN 1..3000 LOOP
    EXECUTE format('CREATE SEQUENCE s_%s', i);
    PERFORM setval(format('s_%s', i), i);
  END LOOP;
  FOR i IN 1..20 LOOP
    EXECUTE format('CREATE TABLE p_%s (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at)', i);
    PERFORM dbopt.manage_partitions(format('p_%s', i)::regclass, '1 month', 6);
  END LOOP;
  FOR i IN 1..10 LOOP
    PERFORM dbopt.schedule_job(format('job %s', i), 'sql', '1 hour', 'SELECT 1');
  END LOOP;
END $$;
SELECT dbopt.take_snapshot();
SELECT count(*) FROM dbopt.run_checks(notify => false);
