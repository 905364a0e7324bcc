-- dbopt.metrics() and dbopt.metric_values(): the text shape (a HELP and a
-- TYPE line before the samples of every family, no duplicate series, label
-- values escaped, # EOF last), and the values of a job, a snapshot, a
-- materialized view, managed partitioned tables, sequences and findings
-- made here.  Other tests leave objects behind: only this test's are named.
CREATE SCHEMA mx;
CREATE FUNCTION mx.lines() RETURNS TABLE (n bigint, line text)
LANGUAGE sql AS $$
  SELECT l.n, l.line FROM regexp_split_to_table(dbopt.metrics(), E'\n') WITH ORDINALITY AS l(line, n)
$$;
-- A sample line: name, labels, value.
CREATE FUNCTION mx.samples() RETURNS TABLE (n bigint, name text, labels text, value text)
LANGUAGE sql AS $$
  SELECT l.n, m[1], coalesce(m[2], ''), m[3]
    FROM mx.lines() l, regexp_match(l.line, '^([a-z_]+)(\{.*\})? (\S+)$') m
   WHERE l.line NOT LIKE '#%' AND l.line <> ''
$$;

-- Objects with awkward names: a quote, a backslash, spaces and semicolons.
CREATE TABLE mx."ev ""q""; x\y" (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
SELECT count(*) FROM dbopt.manage_partitions('mx."ev ""q""; x\y"', '1 day', premake => 3);
SELECT count(*) > 0 AS created FROM dbopt.create_future_partitions('mx."ev ""q""; x\y"');
-- A managed table whose partitions all lie in the past: no runway.
CREATE TABLE mx.old (ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
CREATE TABLE mx.old_2000 PARTITION OF mx.old FOR VALUES FROM ('2000-01-01') TO ('2000-01-02');
SELECT count(*) FROM dbopt.manage_partitions('mx.old', '1 day', premake => 0);
-- One that runs to MAXVALUE.
CREATE TABLE mx.open (ts date NOT NULL) PARTITION BY RANGE (ts);
CREATE TABLE mx.open_all PARTITION OF mx.open FOR VALUES FROM ('2000-01-01') TO (MAXVALUE);
SELECT count(*) FROM dbopt.manage_partitions('mx.open', '1 day', premake => 0);

CREATE SEQUENCE mx."seq ""a""; b" MAXVALUE 200;
SELECT setval('mx."seq ""a""; b"', 50);
-- A bigint sequence feeding an integer column: the column's limit counts.
CREATE SEQUENCE mx.big;
CREATE TABLE mx.fed (id integer DEFAULT nextval('mx.big'));
SELECT setval('mx.big', 1073741824);
CREATE SEQUENCE mx.unused;

CREATE TABLE mx.base (a int);
INSERT INTO mx.base VALUES (1);
CREATE MATERIALIZED VIEW mx."mv \ ""x""" AS SELECT a FROM mx.base;

SELECT dbopt.schedule_job('mx job "q"; \ x', 'sql', '1 hour', 'SELECT 1') > 0 AS scheduled;
SELECT dbopt.schedule_job('mx idle', 'sql', '1 hour', 'SELECT 1', enabled => false) > 0 AS scheduled;
SELECT status FROM dbopt.run_job('mx job "q"; \ x');
SELECT dbopt.take_snapshot() > 0 AS snapshot;

-- Findings as run_checks() records them, one with a check name that needs
-- escaping (a quote, a backslash and a newline).
-- The history earlier tests left would hold the latest run: start empty.
DELETE FROM dbopt.check_runs;
INSERT INTO dbopt.check_runs (run_id, started_at, finished_at, reports, findings, errors)
VALUES (-1, now() - interval '1 hour', now() - interval '1 hour', '{integrity}', 3, '{"x: failed"}');
INSERT INTO dbopt.findings_history (run_id, report, check_name, object_name, severity, first_seen, last_seen, resolved_at)
VALUES (-1, 'integrity', 'mx_check', 'mx.a', 'warning', now(), now(), NULL),
       (-1, 'integrity', 'mx_check', 'mx.b', 'warning', now(), now(), NULL),
       (-1, 'integrity', 'mx_check', 'mx.c', 'critical', now(), now(), NULL),
       (-1, 'integrity', 'mx_check', 'mx.d', 'critical', now(), now(), now()),
       (-1, 'integrity', E'odd "check" \\ \nname', 'mx.e', 'info', now(), now(), NULL);

-- Shape: # EOF is the last line (then the final newline), nothing follows.
SELECT line, n = (SELECT max(n) FROM mx.lines()) - 1 AS second_last
  FROM mx.lines() WHERE line LIKE '# EOF%';
SELECT line FROM mx.lines() WHERE n = (SELECT max(n) FROM mx.lines());
-- Every family: one HELP, then one TYPE gauge on the next line, then its
-- samples only, all dbopt_*.
SELECT count(*) AS families,
       count(*) FILTER (WHERE t.line = '# TYPE ' || h.name || ' gauge') AS typed
  FROM (SELECT n, split_part(line, ' ', 3) AS name FROM mx.lines() WHERE line LIKE '# HELP %') h
  LEFT JOIN mx.lines() t ON t.n = h.n + 1;
SELECT split_part(line, ' ', 3) AS family, count(*) FROM mx.lines()
 WHERE line LIKE '# HELP %' OR line LIKE '# TYPE %' GROUP BY 1 HAVING count(*) <> 2;
SELECT line AS other_line FROM mx.lines()
 WHERE line <> '' AND line NOT LIKE '# HELP dbopt\_% %' AND line NOT LIKE '# TYPE dbopt\_% gauge'
   AND line <> '# EOF' AND line !~ '^dbopt_[a-z_]+(\{.*\})? (NaN|[+-]Inf|-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?)$';
-- Each sample follows the HELP of its own family, with no other HELP between.
SELECT s.name, s.labels FROM mx.samples() s
 WHERE (SELECT split_part(h.line, ' ', 3) FROM mx.lines() h
         WHERE h.n < s.n AND h.line LIKE '# HELP %' ORDER BY h.n DESC LIMIT 1) <> s.name;
-- No series twice.
SELECT name, labels, count(*) FROM mx.samples() GROUP BY 1, 2 HAVING count(*) > 1;
-- The text and the table agree: same series, same values (one statement,
-- so one now() for the ages).  Labels compared in key order.
CREATE FUNCTION mx.sorted_labels(text) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(m[1] || '=' || m[2], ',' ORDER BY m[1])
    FROM regexp_matches($1, '([a-z_]+)="((?:[^"\\]|\\.)*)"', 'g') m
$$;
WITH t AS (
  SELECT metric AS name,
         (SELECT string_agg(key || '=' || replace(replace(replace(v, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n'),
                            ',' ORDER BY key) FROM jsonb_each_text(labels) AS e(key, v)) AS labels,
         CASE WHEN value = 'NaN' THEN 'NaN' WHEN value = 'Infinity' THEN '+Inf' ELSE value::text END AS value
    FROM dbopt.metric_values()),
s AS (SELECT name, mx.sorted_labels(labels) AS labels, value FROM mx.samples())
SELECT (SELECT count(*) FROM s) = (SELECT count(*) FROM t) AS same_count,
       (SELECT count(*) FROM t WHERE NOT EXISTS (
          SELECT FROM s WHERE s.name = t.name AND s.labels IS NOT DISTINCT FROM t.labels AND s.value = t.value))
         AS table_rows_not_in_text;

-- Findings: every check of the registry, and every check with an open
-- finding, has one series for each severity; a resolved finding is not
-- counted.
SELECT k.check_name, count(v.*) FROM (SELECT check_name FROM dbopt.check_names()
                                       UNION SELECT check_name FROM dbopt.findings) k
  LEFT JOIN dbopt.metric_values() v ON v.metric = 'dbopt_findings_open' AND v.labels->>'check' = k.check_name
 GROUP BY 1 HAVING count(v.*) <> 3;
SELECT count(DISTINCT labels->>'severity') AS severities, count(*) = 3 * count(DISTINCT labels->>'check') AS three_each
  FROM dbopt.metric_values() WHERE metric = 'dbopt_findings_open';
SELECT name, labels, value FROM mx.samples()
 WHERE name = 'dbopt_findings_open' AND (labels LIKE '%mx\_check%' OR labels LIKE '%odd%')
 ORDER BY n;
-- The run finished an hour before this transaction began: at least 3600 s.
SELECT name, CASE WHEN name = 'dbopt_check_run_errors' THEN value
                  ELSE (value::float8 >= 3600)::text END AS value
  FROM mx.samples() WHERE name LIKE 'dbopt\_check\_run\_%' ORDER BY n;

-- Jobs: the labels escaped; a success just now, no failure, enabled.
SELECT name, labels, value FROM mx.samples()
 WHERE name LIKE 'dbopt\_job\_%' AND labels LIKE '%mx %' AND name <> 'dbopt_job_seconds_since_success'
 ORDER BY n;
SELECT labels, value = 'NaN' AS never, value::float8 >= 0 AS seconds FROM mx.samples()
 WHERE name = 'dbopt_job_seconds_since_success' AND labels LIKE '%mx %' ORDER BY n;

-- A snapshot was just taken: a number, not NaN.
SELECT value <> 'NaN' AND value::float8 >= 0 AS snapshot_age FROM mx.samples()
 WHERE name = 'dbopt_snapshot_age_seconds';

-- The materialized view: never refreshed by dbopt, then refreshed.
SELECT name, labels, value FROM mx.samples() WHERE name LIKE 'dbopt\_matview\_%' AND labels LIKE '%mx.%' ORDER BY n;
SELECT status FROM dbopt.refresh_materialized_views(ARRAY['mx."mv \ ""x"""'::regclass]);
SELECT value <> 'NaN' AND value::float8 >= 0 AS refreshed FROM mx.samples()
 WHERE name = 'dbopt_matview_refresh_age_seconds' AND labels LIKE '%mx.%';

-- Partition runway: premake 3 days of daily partitions from today reach
-- more than 3 days ahead and at most 4; none for the old table; +Inf to MAXVALUE.
SELECT labels,
       CASE WHEN value IN ('0', '+Inf') THEN value
            ELSE (value::float8 > 3 * 86400 AND value::float8 <= 4 * 86400)::text END AS runway
  FROM mx.samples() WHERE name = 'dbopt_partition_runway_seconds' AND labels LIKE '%mx.%' ORDER BY n;

-- Sequence headroom: 50 of 200; 2^30 of the integer column's 2^31 - 1;
-- none handed out.
SELECT labels, round(value::numeric, 6) AS used FROM mx.samples()
 WHERE name = 'dbopt_sequence_used_ratio' AND labels LIKE '%mx.%' ORDER BY n;

-- A pg_monitor member sees the same, sequences included (read as their owner).
CREATE ROLE mx_monitor IN ROLE pg_monitor;
SET ROLE mx_monitor;
SELECT count(*) AS sequences FROM dbopt.metric_values()
 WHERE metric = 'dbopt_sequence_used_ratio' AND labels->>'sequence' LIKE 'mx.%';
SELECT strpos(dbopt.metrics(), E'\ndbopt_job_enabled{job="mx job \\"q\\"; \\\\ x",kind="sql"} 1\n') > 0 AS job_seen;
RESET ROLE;
-- Not for PUBLIC.
SELECT has_function_privilege('public', 'dbopt.metrics()', 'EXECUTE') AS public_metrics,
       has_function_privilege('public', 'dbopt.metric_values()', 'EXECUTE') AS public_values;

DROP ROLE mx_monitor;
SELECT dbopt.unschedule_job('mx job "q"; \ x');
SELECT dbopt.unschedule_job('mx idle');
DELETE FROM dbopt.check_runs WHERE run_id = -1;
SELECT dbopt.unmanage_partitions(p) FROM unnest(ARRAY['mx."ev ""q""; x\y"', 'mx.old', 'mx.open']::regclass[]) p;
DROP SCHEMA mx CASCADE;
