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
                      'the dbopt worker schedules our jobs');
SELECT count(*) AS pg_cron_rows_now FROM dbopt.status()
 WHERE check_name = 'companion_extension' AND object_name = 'pg_cron';
SELECT check_name, object_name, reason FROM dbopt.suppressions;
