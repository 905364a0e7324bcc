-- dbopt demo: the reports, in the order they were built.  Each later
-- capability appends its report here.
\pset footer off
\pset null '-'

\echo
\echo '== dbopt.status(): is dbopt itself set up right? =='
SELECT severity, check_name, object_name, value, detail
  FROM dbopt.status()
 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1
                        WHEN 'info' THEN 2 ELSE 3 END, check_name, object_name;

\echo
\echo '== A suppression: accept a finding and say why =='
SELECT dbopt.suppress('companion_extension', 'pg_cron',
                      'the dbopt worker schedules our jobs') \gset
SELECT count(*) AS pg_cron_rows_now FROM dbopt.status()
 WHERE check_name = 'companion_extension' AND object_name = 'pg_cron';
SELECT check_name, object_name, reason FROM dbopt.suppressions;

\echo
\echo '== dbopt.analyze_index_usage(): indexes that do not earn their keep =='
\echo '(the demo cluster is minutes old, so min_stats_age is 0 here; the default is 7 days,'
\echo ' and confidence says why a verdict is less than certain: see the recommendation column)'
SELECT * FROM dbopt.stats_epoch();
SELECT tablename, indexname, scans_observed AS scans, pg_size_pretty(index_size_bytes) AS size,
       findings, confidence, fix_sql
  FROM dbopt.analyze_index_usage('app', min_stats_age => '0 s')
 WHERE findings <> '{}'
 ORDER BY index_size_bytes DESC, indexname
 LIMIT 15;

\echo
\echo '== The most used indexes =='
SELECT tablename, indexname, scans, tuples_fetched
  FROM dbopt.analyze_index_usage('app')
 WHERE scans > 0 ORDER BY scans DESC LIMIT 5;

\echo
\echo '== dbopt.find_unindexed_foreign_keys() =='
SELECT severity, object_name, referencing_rows_estimate AS rows, fix_sql
  FROM dbopt.find_unindexed_foreign_keys('app');

\echo
\echo '== dbopt.check_data_integrity(): what in the data breaks the schema\'s rules? =='
SELECT severity, check_name, object_name, violating_rows, sample
  FROM dbopt.check_data_integrity(sample_limit => 3)
 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1
                        WHEN 'info' THEN 2 ELSE 3 END, check_name, object_name;

\echo
\echo '== ...with the SQL to fix each =='
SELECT check_name, object_name, fix_sql
  FROM dbopt.check_data_integrity()
 WHERE fix_sql IS NOT NULL
 ORDER BY check_name, object_name;

\echo
\echo '== dbopt.validate_constraints(dry_run => true): what a real run would validate =='
SELECT * FROM dbopt.validate_constraints(dry_run => true) ORDER BY table_name::text, constraint_name;

\echo
\echo '== dbopt.manage_partitions(): keep 24 months of app.events, 6 monthly partitions ready =='
SELECT parent, partition_interval, premake, retention, retention_mode, key_column
  FROM dbopt.manage_partitions('app.events', '1 month', 6, '24 months');

\echo
\echo '== dbopt.analyze_partition_distribution(app.events) =='
SELECT partition_name, range_from::date AS range_from, range_to::date AS range_to,
       row_estimate, pg_size_pretty(bytes) AS size, share_pct, flags
  FROM dbopt.analyze_partition_distribution('app.events')
 WHERE flags <> '{}' OR range_from IS NULL OR range_to::date > now() - interval '3 months';

\echo
\echo '== dbopt.create_future_partitions(dry_run => true): rows in the default partition block one =='
SELECT partition_name, range_from::date AS range_from, action, rows_moved, detail
  FROM dbopt.create_future_partitions('app.events', dry_run => true);

\echo
\echo '== dbopt.drop_old_partitions(24, dry_run => true): what the monthly cron line would drop =='
SELECT partition_name, range_from::date AS range_from, range_to::date AS range_to, action,
       rows_estimate, pg_size_pretty(bytes) AS size
  FROM dbopt.drop_old_partitions(24, dry_run => true);

\echo
\echo '== dbopt.add_retention_policy(): keep 90 days of app.api_request_log, older rows archived =='
SELECT relation, time_column, keep, mode, archive_table, batch_size
  FROM dbopt.add_retention_policy('app.api_request_log', 'requested_at', '90 days', 'archive', batch_size => 5000);

\echo
\echo '== dbopt.apply_data_retention_policies(dry_run => true): what would go, no write locks =='
SELECT relation, mode, cutoff::timestamp(0) AS cutoff, rows_deleted, rows_archived, batches, status, detail
  FROM dbopt.apply_data_retention_policies(dry_run => true);

\echo
\echo '== CALL dbopt.run_data_retention(): the same rows, one transaction per batch =='
CALL dbopt.run_data_retention();
SELECT (SELECT count(*) FROM app.api_request_log) AS rows_kept,
       (SELECT min(requested_at)::timestamp(0) FROM app.api_request_log) AS oldest_kept,
       (SELECT count(*) FROM app.api_request_log_archive) AS rows_archived,
       (SELECT max(requested_at)::timestamp(0) FROM app.api_request_log_archive) AS newest_archived;
SELECT object_name, action, rows, detail
  FROM dbopt.maintenance_log WHERE operation = 'run_data_retention';

\echo
\echo '== dbopt.refresh_materialized_views(): both revenue views, the summary after the view it reads =='
SELECT matview, method, duration_ms AS ms, status, detail
  FROM dbopt.refresh_materialized_views();
SELECT matview, last_refresh::timestamp(0) AS last_refresh, last_method, last_status
  FROM dbopt.matview_freshness ORDER BY matview::text;

\echo
\echo '== The background worker: jobs scheduled here run on their own from now on =='
SELECT dbopt.set_refresh_schedule('app.mv_monthly_revenue', '*/5 * * * *') \gset
SELECT dbopt.schedule_job('refresh every view', 'refresh_materialized_views', '1 minute') \gset
SELECT dbopt.schedule_job('nightly integrity', 'integrity_check', '0 3 * * *') \gset
SELECT dbopt.schedule_job('retention', 'retention', '@daily', max_runtime => '50 minutes') \gset
SELECT status, message FROM dbopt.run_job('refresh every view');
SELECT job_name, kind, schedule, enabled, next_run_at::timestamp(0) AS next_run, last_status, overdue
  FROM dbopt.job_status ORDER BY job_id;
-- The launcher starts this database's scheduler within dbopt.launcher_naptime.
DO $$
BEGIN
  FOR i IN 1..40 LOOP
    PERFORM pg_stat_clear_snapshot();
    EXIT WHEN EXISTS (SELECT FROM pg_stat_activity
                       WHERE backend_type = 'dbopt scheduler' AND datname = current_database());
    PERFORM pg_sleep(0.5);
  END LOOP;
END $$;
SELECT backend_type, datname, state FROM pg_stat_activity WHERE backend_type LIKE 'dbopt%' ORDER BY 1;
SELECT severity, check_name, value FROM dbopt.status() WHERE check_name = 'worker';

\echo
\echo '== dbopt.compare_snapshots(): what the workload ran, from the snapshots taken around it =='
\echo '(the workload runs its statements from DO loops; pg_stat_statements.track = all lists each'
\echo ' loop beside the statements it ran, so the loops and dbopt''s own calls are left out here)'
SELECT queryid, left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query, calls,
       total_ms, mean_ms, hit_ratio, share_of_total_pct AS share_pct, flags
  FROM dbopt.compare_snapshots((SELECT min(snap_id) FROM dbopt.snapshots), (SELECT max(snap_id) FROM dbopt.snapshots))
 WHERE query !~* '^\s*DO\M' AND query !~* 'dbopt\.'
 LIMIT 10;

\echo
\echo '== dbopt.health_check(): what is not ok on this server right now (every check appears once when it is) =='
SELECT severity, check_name, object_name, value, threshold,
       left(detail, 90) AS detail
  FROM dbopt.health_check()
 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 WHEN 'info' THEN 2 ELSE 3 END, check_name;
