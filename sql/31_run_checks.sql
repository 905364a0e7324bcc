-- run_checks(): the findings history over runs.  A finding appears (new),
-- persists (same episode), is fixed (resolved), comes back (a new episode);
-- a severity change; a suppression; a report failing on its own; the
-- arguments; the sort order; pruning; the default job.
CREATE SCHEMA rc;
CREATE TABLE rc.parent (id int PRIMARY KEY);
CREATE TABLE rc.child (id int PRIMARY KEY, parent_id int REFERENCES rc.parent);   -- fk_without_index
CREATE SEQUENCE rc.seq AS smallint;                                               -- sequence_exhaustion
SELECT setval('rc.seq', 25000) IS NOT NULL AS at_76_percent;                     -- warning (75%)

CREATE FUNCTION pg_temp.ours(r text[])
RETURNS TABLE (severity text, report text, check_name text, object_name text, new boolean,
               first_seen timestamptz)
LANGUAGE sql AS $$
    SELECT severity, report, check_name, object_name, new, first_seen
      FROM dbopt.run_checks(r) WHERE object_name LIKE 'rc.%'
$$;
\set two 'ARRAY[''find_unindexed_foreign_keys'', ''check_data_integrity'']'

-- Run 1: both findings are new.
CREATE TEMP TABLE run1 AS SELECT * FROM pg_temp.ours(:two);
SELECT severity, report, check_name, object_name, new FROM run1 ORDER BY object_name;
SELECT reports, findings > 0 AS counted, errors, finished_at >= started_at AS finished
  FROM dbopt.check_runs ORDER BY run_id DESC LIMIT 1;

-- Run 2: still there, the same episodes.
CREATE TEMP TABLE run2 AS SELECT * FROM pg_temp.ours(:two);
SELECT r2.object_name, r2.new, r2.first_seen = r1.first_seen AS same_first_seen
  FROM run2 r2 JOIN run1 r1 USING (object_name) ORDER BY 1;
SELECT count(*) AS open_episodes FROM dbopt.findings WHERE object_name LIKE 'rc.%';

-- The sequence gets worse (critical from 90%) and the foreign key is indexed.
SELECT setval('rc.seq', 31000) IS NOT NULL AS at_95_percent;
CREATE INDEX child_parent_id ON rc.child (parent_id);
SELECT clock_timestamp() AS before_run3 \gset
SELECT severity, report, check_name, object_name, new FROM pg_temp.ours(:two) ORDER BY object_name;
SELECT count(*) AS fk_open FROM dbopt.findings WHERE check_name = 'fk_without_index' AND object_name LIKE 'rc.%';
SELECT change, report, check_name, object_name, severity, previous_severity
  FROM dbopt.findings_changes(:'before_run3') WHERE object_name LIKE 'rc.%';
SELECT severity, previous_severity, severity_changed_at IS NOT NULL AS changed
  FROM dbopt.findings WHERE object_name = 'rc.seq';

-- The index is dropped: the finding comes back as a new episode.
DROP INDEX rc.child_parent_id;
SELECT severity, check_name, object_name, new FROM pg_temp.ours(:two)
 WHERE check_name = 'fk_without_index';
SELECT count(*) AS episodes, count(resolved_at) AS resolved
  FROM dbopt.findings_history WHERE check_name = 'fk_without_index' AND object_name LIKE 'rc.%';
SELECT change FROM dbopt.findings_changes(:'before_run3')
 WHERE check_name = 'fk_without_index' AND object_name LIKE 'rc.%';

-- Sort order: most severe first, then report, check name, object.
SELECT count(DISTINCT severity) >= 2 AS several_severities,
       array_agg(n ORDER BY n) = array_agg(n ORDER BY array_position(ARRAY['critical', 'warning', 'info'], severity),
                                            report, check_name, object_name) AS sorted
  FROM dbopt.run_checks(:two) WITH ORDINALITY AS r(severity, check_name, object_name, detail, remediation,
                                                   fix_sql, report, first_seen, new, n);

-- A suppression resolves the open finding and keeps it out.
SELECT dbopt.suppress('fk_without_index', 'rc.child.child_parent_id_fkey', 'run_checks test');
SELECT count(*) AS fk_rows FROM pg_temp.ours(:two) WHERE check_name = 'fk_without_index';
SELECT count(*) AS fk_open FROM dbopt.findings WHERE check_name = 'fk_without_index' AND object_name LIKE 'rc.%';
SELECT dbopt.unsuppress('fk_without_index', 'rc.child.child_parent_id_fkey');
SELECT new FROM pg_temp.ours(:two) WHERE check_name = 'fk_without_index';

-- A report that fails (here: its caller may not execute it) is recorded;
-- the others still record their findings, and its own open findings are
-- not resolved.
CREATE ROLE regress_rc_limited;
GRANT USAGE ON SCHEMA dbopt, rc TO regress_rc_limited;
GRANT SELECT ON ALL TABLES IN SCHEMA rc TO regress_rc_limited;
GRANT SELECT ON dbopt.suppressions TO regress_rc_limited;
GRANT EXECUTE ON FUNCTION dbopt.run_checks(text[],boolean) TO regress_rc_limited;
GRANT EXECUTE ON FUNCTION dbopt.find_unindexed_foreign_keys(text,boolean) TO regress_rc_limited;
SET ROLE regress_rc_limited;
SELECT severity, report, check_name, object_name, new FROM dbopt.run_checks(:two)
 WHERE object_name LIKE 'rc.%' ORDER BY object_name;
SELECT count(*) FROM dbopt.findings_history;   -- the history itself stays closed to this role
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT reports, errors FROM dbopt.check_runs ORDER BY run_id DESC LIMIT 1;
SELECT severity, resolved_at IS NULL AS still_open FROM dbopt.findings_history
 WHERE object_name = 'rc.seq' ORDER BY finding_id;

-- Who may call it: not PUBLIC, not pg_monitor (it writes); pg_monitor
-- reads the history.
CREATE ROLE regress_rc_nobody;
CREATE ROLE regress_rc_monitor IN ROLE pg_monitor;
SET ROLE regress_rc_nobody;
SELECT count(*) FROM dbopt.run_checks();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_rc_monitor;
SELECT count(*) FROM dbopt.run_checks();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) > 0 AS monitor_reads_changes FROM dbopt.findings_changes('-infinity');
SELECT count(*) > 0 AS monitor_reads_findings FROM dbopt.findings WHERE object_name LIKE 'rc.%';
RESET ROLE;
SELECT has_function_privilege('pg_monitor', 'dbopt.run_checks(text[],boolean)', 'EXECUTE') AS monitor_runs,
       has_function_privilege('pg_monitor', 'dbopt.findings_changes(timestamptz)', 'EXECUTE') AS monitor_changes;

-- Arguments.
SELECT count(*) FROM dbopt.run_checks(ARRAY[NULL]::text[]);
SELECT count(*) FROM dbopt.run_checks(ARRAY['']);
SELECT count(*) FROM dbopt.run_checks(ARRAY[' 	']);
SELECT count(*) FROM dbopt.run_checks(ARRAY['statuz']);
SELECT count(*) FROM dbopt.run_checks(ARRAY[repeat('x', 1000000)]);
SELECT count(*) FROM dbopt.run_checks('{}');
SELECT count(*) FROM dbopt.run_checks(ARRAY['find_unindexed_foreign_keys'], notify => NULL);
SELECT count(*) FROM dbopt.findings_changes(NULL);
-- A huge array of one name runs that report once.
SELECT count(*) > 0 AS ran FROM dbopt.run_checks(array_fill('find_unindexed_foreign_keys'::text, ARRAY[100000]))
 WHERE object_name LIKE 'rc.%';
SELECT reports FROM dbopt.check_runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS future_changes FROM dbopt.findings_changes('infinity');

-- Pruning: resolved episodes older than dbopt.findings_history_retention
-- go, and so do old runs nothing refers to; open episodes stay.
SET dbopt.findings_history_retention = '1h';
UPDATE dbopt.findings_history
   SET first_seen = first_seen - interval '2 days', last_seen = last_seen - interval '2 days',
       resolved_at = resolved_at - interval '2 days'
 WHERE object_name LIKE 'rc.%' AND resolved_at IS NOT NULL;
SELECT count(*) AS old_resolved FROM dbopt.findings_history
 WHERE object_name LIKE 'rc.%' AND resolved_at < now() - interval '1 day';
SELECT min(run_id) AS first_run FROM dbopt.check_runs \gset
UPDATE dbopt.check_runs SET started_at = started_at - interval '2 days', finished_at = finished_at - interval '2 days'
 WHERE run_id = :first_run;
SELECT count(*) > 0 AS ran FROM pg_temp.ours(ARRAY['find_unindexed_foreign_keys']);
SELECT count(*) AS old_resolved FROM dbopt.findings_history
 WHERE object_name LIKE 'rc.%' AND resolved_at < now() - interval '1 day';
SELECT count(*) AS first_run_left FROM dbopt.check_runs WHERE run_id = :first_run;
SELECT count(*) AS rc_open FROM dbopt.findings WHERE object_name LIKE 'rc.%';
RESET dbopt.findings_history_retention;
SET ROLE regress_rc_monitor;
SET dbopt.findings_history_retention = '1h';   -- only a superuser shortens the history
RESET ROLE;

-- The default job runs it daily.
SELECT job_name, kind, schedule, command, enabled, is_default, run_as::text = current_user AS as_owner
  FROM dbopt.jobs WHERE job_name = 'dbopt run_checks';
SELECT status FROM dbopt.run_job('dbopt run_checks');
SELECT reports = ARRAY['status', 'analyze_index_usage', 'find_unindexed_foreign_keys', 'check_data_integrity',
                       'health_check', 'validate_security_configuration', 'analyze_partition_distribution'] AS all_reports
  FROM dbopt.check_runs ORDER BY run_id DESC LIMIT 1;

DROP SCHEMA rc CASCADE;
SELECT count(*) AS rc_rows FROM pg_temp.ours(:two);
SELECT count(*) AS rc_open FROM dbopt.findings WHERE object_name LIKE 'rc.%';
DELETE FROM dbopt.suppressions WHERE reason = 'run_checks test';
REVOKE ALL ON SCHEMA dbopt FROM regress_rc_limited;
REVOKE ALL ON dbopt.suppressions FROM regress_rc_limited;
REVOKE ALL ON FUNCTION dbopt.run_checks(text[],boolean) FROM regress_rc_limited;
REVOKE ALL ON FUNCTION dbopt.find_unindexed_foreign_keys(text,boolean) FROM regress_rc_limited;
DROP ROLE regress_rc_limited;
DROP ROLE regress_rc_nobody;
DROP ROLE regress_rc_monitor;
