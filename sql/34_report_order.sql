-- Every check-style report (a dbopt function whose result has a severity
-- column) returns its rows worst first without an ORDER BY: severity
-- (critical, warning, info, ok), then object_name and check_name in byte
-- order, NULL last.  Values are rounded for a reader, and ok rows follow
-- one rule: a report that runs a fixed list of checks takes include_passed
-- (default true) and shows an ok row per passed check; a report that lists
-- objects shows only its findings.
CREATE SCHEMA report_order;
SET search_path = report_order, public;

-- Findings of several severities.
-- check_data_integrity: critical (sequence at 95% of its column's limit),
-- warning (orphan rows under a NOT VALID foreign key), info (a NOT VALID
-- CHECK no row breaks).
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int, n int);
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (1, 1, 1), (2, 99999, 1);
ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent NOT VALID;
ALTER TABLE child ADD CONSTRAINT child_n_check CHECK (n > 0) NOT VALID;
CREATE TABLE small_ids (id smallserial PRIMARY KEY);
SELECT setval('small_ids_id_seq', 31200) > 0 AS near_limit;
-- find_unindexed_foreign_keys: warning (1000 rows or more) and info.
CREATE TABLE big_child (id int, parent_id int REFERENCES parent);
INSERT INTO parent SELECT g FROM generate_series(2, 3000) g;
INSERT INTO big_child SELECT g, g FROM generate_series(1, 3000) g;
ANALYZE big_child;
-- health_check: a warning among ok and info rows.
SET dbopt.health_connection_utilization = 0;

-- The reports, from the catalog: a new one is checked without being named.
CREATE FUNCTION check_reports()
RETURNS TABLE (report text, takes_include_passed boolean)
LANGUAGE sql STABLE AS $$
SELECT DISTINCT p.proname::text, 'include_passed' = ANY (p.proargnames)
  FROM pg_proc p, unnest(p.proargnames, p.proargmodes) AS a(name, mode)
 WHERE p.pronamespace = 'dbopt'::regnamespace
   AND a.name = 'severity' AND a.mode IN ('o', 't', 'b')
   -- a change log, in the order things happened
   AND p.proname <> 'findings_changes'
$$;
SELECT * FROM check_reports() ORDER BY 1;

-- Each report called with its defaults: the rows, numbered in the order
-- they came.
CREATE TEMP TABLE report_rows (report text, n bigint, severity text, object_name text,
                               check_name text, value text);
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM report_order.check_reports() ORDER BY 1 LOOP
        EXECUTE format($q$INSERT INTO report_rows
                          SELECT %L, ordinality, severity, object_name, check_name,
                                 to_jsonb(t) ->> 'value'
                            FROM dbopt.%I() WITH ORDINALITY AS t(severity, check_name, object_name) $q$,
                       r.report, r.report);
    END LOOP;
END $$;

-- Several severities in every report, so that its order means something.
SELECT report, count(DISTINCT severity) >= 2 AS several_severities
  FROM report_rows GROUP BY 1 ORDER BY 1;

-- The order: each row sorts at or after the one before it.  No rows.
SELECT report, n, severity, object_name, check_name
  FROM (SELECT *, array_position(ARRAY['critical', 'warning', 'info', 'ok'], severity) AS rank,
               lag(array_position(ARRAY['critical', 'warning', 'info', 'ok'], severity))
                 OVER w AS prev_rank,
               lag(object_name) OVER w AS prev_object, lag(check_name) OVER w AS prev_check,
               lag(n) OVER w AS prev_n
          FROM report_rows
        WINDOW w AS (PARTITION BY report ORDER BY n)) x
 WHERE prev_n IS NOT NULL
   AND (rank, object_name IS NULL, coalesce(object_name, '') COLLATE "C", check_name COLLATE "C")
       < (prev_rank, prev_object IS NULL, coalesce(prev_object, '') COLLATE "C", prev_check COLLATE "C")
 ORDER BY 1, 2;

-- health_check: values to one decimal (percent, seconds, bytes, counts).
SELECT count(*) FILTER (WHERE value IS NOT NULL) > 5 AS values_seen,
       count(*) FILTER (WHERE value::float8 <> round(value::numeric, 1)::float8) AS with_more_decimals
  FROM report_rows WHERE report = 'health_check';

-- ok rows: a report with include_passed shows them by default and hides
-- them with include_passed => false; the others never show any.
DO $$
DECLARE
    r record;
    n bigint;
BEGIN
    FOR r IN SELECT * FROM report_order.check_reports() WHERE takes_include_passed ORDER BY 1 LOOP
        EXECUTE format('SELECT count(*) FROM dbopt.%I(include_passed => false) WHERE severity = %L',
                       r.report, 'ok') INTO n;
        RAISE NOTICE '%: % ok rows with include_passed => false', r.report, n;
    END LOOP;
END $$;
SELECT c.report, c.takes_include_passed, count(*) FILTER (WHERE r.severity = 'ok') > 0 AS ok_rows
  FROM check_reports() c LEFT JOIN report_rows r USING (report)
 GROUP BY 1, 2 ORDER BY 1;

-- The compliance report lists security findings worst first, without ok rows.
SELECT count(*) > 0 AS findings_listed,
       count(*) FILTER (WHERE rank IS NULL OR rank < prev_rank) AS out_of_order
  FROM (SELECT array_position(ARRAY['critical', 'warning', 'info'], f ->> 'severity') AS rank,
               lag(array_position(ARRAY['critical', 'warning', 'info'], f ->> 'severity'))
                 OVER (ORDER BY o) AS prev_rank
          FROM jsonb_array_elements(dbopt.generate_compliance_report() -> 'security' -> 'findings')
               WITH ORDINALITY AS a(f, o)) x;

RESET dbopt.health_connection_utilization;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA report_order CASCADE;
RESET client_min_messages;
