-- pgTAP: refresh_materialized_views()' contract (columns, privileges, the
-- freshness view) and the order scripts rely on: a view is refreshed after
-- every materialized view it reads, however many plain views lie between.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(7);

SELECT is((SELECT string_agg(n || ' ' || format_type(t, NULL), ', ' ORDER BY o)
             FROM pg_proc p, unnest(p.proargnames, p.proallargtypes, p.proargmodes)
                  WITH ORDINALITY AS x(n, t, m, o)
            WHERE p.oid = 'dbopt.refresh_materialized_views(regclass[], boolean, boolean)'::regprocedure
              AND m = 't'),
          'matview regclass, method text, duration_ms double precision, status text, detail text',
          'refresh_materialized_views returns the documented columns');
SELECT ok(NOT has_function_privilege('pg_monitor', 'dbopt.refresh_materialized_views(regclass[], boolean, boolean)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'dbopt.refresh_materialized_views(regclass[], boolean, boolean)', 'EXECUTE'),
          'neither PUBLIC nor pg_monitor may refresh');
SELECT ok(has_table_privilege('pg_monitor', 'dbopt.matview_freshness', 'SELECT'),
          'pg_monitor may read matview_freshness');

-- A chain of 6 views, each reading the previous one through a plain view,
-- named so that alphabetical order is the reverse of the right one.
CREATE TABLE tap_src (n int);
INSERT INTO tap_src SELECT generate_series(1, 10);
CREATE MATERIALIZED VIEW tap_mv_6 AS SELECT n FROM tap_src;
DO $$
BEGIN
  FOR i IN REVERSE 5..1 LOOP
    EXECUTE format('CREATE VIEW tap_v_%s AS SELECT n FROM tap_mv_%s', i, i + 1);
    EXECUTE format('CREATE MATERIALIZED VIEW tap_mv_%s AS SELECT n FROM tap_v_%s', i, i);
  END LOOP;
END $$;
CREATE TEMP TABLE run AS
SELECT row_number() OVER () AS pos, matview::text AS name, status
  FROM dbopt.refresh_materialized_views(
         ARRAY['tap_mv_1', 'tap_mv_3', 'tap_mv_6', 'tap_mv_2', 'tap_mv_5', 'tap_mv_4']::regclass[]);
SELECT is((SELECT string_agg(name, ' ' ORDER BY pos) FROM run),
          'tap_mv_6 tap_mv_5 tap_mv_4 tap_mv_3 tap_mv_2 tap_mv_1',
          'each view comes after the one it reads through a plain view');
SELECT is((SELECT count(*) FROM run WHERE status = 'ok'), 6::bigint, 'all six refreshed');
SELECT is((SELECT count(*) FROM dbopt.matview_freshness WHERE matview::text LIKE 'tap_mv_%' AND last_status = 'ok'),
          6::bigint, 'matview_freshness shows each refresh');
SELECT throws_ok($$SELECT * FROM dbopt.refresh_materialized_views(ARRAY['tap_v_1']::regclass[])$$,
                 '42809', NULL, 'a plain view is refused');

SELECT * FROM finish();
ROLLBACK;
