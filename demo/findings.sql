-- dbopt demo: findings history and metrics.  run_checks() runs every
-- read-only report and remembers what it found; a fix, a second run, and
-- what changed between them; then the Prometheus text of the same state.
\pset null '-'
\echo
\echo '== dbopt.run_checks(): every read-only report at once, recorded in dbopt.findings_history =='
SELECT report, count(*) FILTER (WHERE severity = 'critical') AS critical,
       count(*) FILTER (WHERE severity = 'warning') AS warning,
       count(*) FILTER (WHERE severity = 'info') AS info
  FROM dbopt.run_checks(notify => false) GROUP BY report ORDER BY report;
SELECT severity, report, check_name, object_name
  FROM dbopt.findings WHERE severity = 'critical'
 ORDER BY report, check_name, object_name;
\echo
\echo '== the unindexed foreign key fixed with its fix_sql, then a second run =='
SELECT clock_timestamp() AS before_fix \gset
SELECT fix_sql FROM dbopt.findings WHERE check_name = 'fk_without_index' \gexec
SELECT count(*) AS open_findings, count(*) FILTER (WHERE new) AS new_in_this_run
  FROM dbopt.run_checks(notify => false);
SELECT change, severity, report, check_name, object_name
  FROM dbopt.findings_changes(:'before_fix')
 ORDER BY change, report, object_name;
\echo
\echo '== dbopt.metrics(): the same state for Prometheus (non-zero finding counts and the job gauges) =='
SELECT line
  FROM regexp_split_to_table(dbopt.metrics(), E'\n') AS line
 WHERE (line LIKE 'dbopt\_findings\_open%' AND line NOT LIKE '% 0')
    OR line LIKE 'dbopt\_job\_consecutive\_failures%'
    OR line LIKE 'dbopt\_partition\_runway\_seconds%';
