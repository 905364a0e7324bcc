-- The same gauges in plain SQL, as exporter query-file entries would read
-- them (a text rendering is not counted).
SELECT f.check_name, s.severity, count(h.*)
  FROM (SELECT check_name FROM dbopt.check_names() UNION SELECT check_name FROM dbopt.findings) f
 CROSS JOIN (VALUES ('critical'), ('warning'), ('info')) s(severity)
  LEFT JOIN dbopt.findings h ON h.check_name = f.check_name AND h.severity = s.severity
 GROUP BY 1, 2;
SELECT extract(epoch FROM now() - max(finished_at)), (array_agg(cardinality(errors) ORDER BY finished_at DESC))[1]
  FROM dbopt.check_runs;
SELECT job_name, kind, extract(epoch FROM now() - last_success_at), consecutive_failures, overdue::int, enabled::int
  FROM dbopt.job_status;
SELECT extract(epoch FROM now() - max(taken_at)) FROM dbopt.snapshots;
SELECT matview, extract(epoch FROM now() - last_refresh) FROM dbopt.matview_freshness;
-- Runway: the upper bound of each parent's last partition, minus now.
SELECT c.parent, extract(epoch FROM max((regexp_match(pg_get_expr(k.relpartbound, k.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz) - now())
  FROM dbopt.partition_config c JOIN pg_inherits i ON i.inhparent = c.parent JOIN pg_class k ON k.oid = i.inhrelid
 GROUP BY 1;
-- Headroom: last value over the largest value of each sequence.
SELECT schemaname, sequencename, coalesce(last_value, start_value)::float8 / max_value FROM pg_sequences;
