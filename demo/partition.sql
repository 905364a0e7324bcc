-- dbopt demo: an existing table partitioned online.  app.api_request_log
-- (90 days kept by the retention policy above) becomes weekly partitions:
-- the plan, the run, and finish, which keeps the original for a rollback.
\pset null '-'
\echo
\echo '== dbopt.partition_table(app.api_request_log, requested_at, 1 week): the plan, a dry run (excerpt) =='
SELECT step, action, object, left(detail, 100) AS detail
  FROM dbopt.partition_table('app.api_request_log', 'requested_at', '1 week', premake => 2)
 WHERE action NOT IN ('create_partition', 'rename_index', 'rename_constraint', 'ownership');
\echo
\echo '== recorded (dry_run => false), then CALL dbopt.run_partition_migration(): copy, replay, verify, swap =='
SELECT count(*) AS steps_recorded
  FROM dbopt.partition_table('app.api_request_log', 'requested_at', '1 week', premake => 2, dry_run => false) \gset
CALL dbopt.run_partition_migration('app.api_request_log');
SELECT state, rows_copied, batches, changes_replayed, errors
  FROM dbopt.partition_migrations WHERE table_name = 'api_request_log';
SELECT c.relkind, count(i.inhrelid) AS partitions,
       (SELECT count(*) FROM app.api_request_log) AS rows,
       (SELECT count(*) FROM app.api_request_log_premigration) AS original_rows
  FROM pg_class c LEFT JOIN pg_inherits i ON i.inhparent = c.oid
 WHERE c.oid = 'app.api_request_log'::regclass GROUP BY c.relkind;
\echo
\echo '== dbopt.finish_partition_migration(): capture triggers dropped, the original kept (drop_original => true drops it) =='
SELECT step, action, object FROM dbopt.finish_partition_migration('app.api_request_log');
