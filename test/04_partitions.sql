-- pgTAP: the partition functions' contract (signatures, row types,
-- privileges, the registry) and behaviour scripts rely on: nothing newer
-- than the cutoff is touched, and a run after a dry run does what it said.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(12);

CREATE FUNCTION pg_temp.row_columns(t regtype) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, NULL), ', ' ORDER BY a.attnum)
    FROM pg_attribute a JOIN pg_type ty ON ty.typrelid = a.attrelid
   WHERE ty.oid = t AND a.attnum > 0 AND NOT a.attisdropped $$;

SELECT is(pg_temp.row_columns('dbopt.partition_action'),
          'parent regclass, partition_name text, range_from text, range_to text, action text, rows_estimate bigint, bytes bigint, detail text',
          'drop_old_partitions returns the documented columns');
SELECT is(pg_temp.row_columns('dbopt.partition_distribution'),
          'parent regclass, partition_name text, range_from text, range_to text, is_default boolean, row_estimate bigint, bytes bigint, share_pct numeric, flags text[]',
          'analyze_partition_distribution returns the documented columns');
SELECT function_returns('dbopt', 'drop_old_partitions', ARRAY['regclass', 'text', 'text', 'boolean', 'boolean'],
                        'setof dbopt.partition_action');
SELECT function_returns('dbopt', 'drop_old_partitions', ARRAY['integer', 'boolean'],
                        'setof dbopt.partition_action');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.analyze_partition_distribution(regclass, boolean)', 'EXECUTE'),
          'pg_monitor may read the distribution report');
SELECT ok(NOT has_function_privilege('pg_monitor', 'dbopt.drop_old_partitions(regclass, text, text, boolean, boolean)', 'EXECUTE')
          AND NOT has_function_privilege('pg_monitor', 'dbopt.run_partition_maintenance(boolean)', 'EXECUTE'),
          'pg_monitor may not drop partitions');
SELECT ok((SELECT extconfig @> ARRAY['dbopt.partition_config'::regclass::oid]
             FROM pg_extension WHERE extname = 'dbopt'),
          'partition_config is dumped by pg_dump');

-- Daily partitions around now: 10 days back to 3 ahead, one row per day.
CREATE TABLE tap_daily (at timestamptz NOT NULL, n int) PARTITION BY RANGE (at);
DO $$
DECLARE d date;
BEGIN
  FOR d IN SELECT generate_series(current_date - 10, current_date + 3, '1 day')::date LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF tap_daily FOR VALUES FROM (%L) TO (%L)',
                   'tap_daily_' || to_char(d, 'MMDD'), d::timestamptz, (d + 1)::timestamptz);
  END LOOP;
END $$;
INSERT INTO tap_daily SELECT d, 1 FROM generate_series(current_date - 10, current_date + 3, '1 day') d;

CREATE TEMP TABLE planned AS
  SELECT partition_name, action FROM dbopt.drop_old_partitions('tap_daily', '5 days', dry_run => true);
SELECT is((SELECT count(*) FROM planned WHERE action = 'would drop'), 5::bigint,
          'the dry run plans the five partitions that end at or before now() - 5 days');
CREATE TEMP TABLE done AS
  SELECT partition_name, action FROM dbopt.drop_old_partitions('tap_daily', '5 days');
SELECT set_eq($$SELECT partition_name, replace(action, 'would drop', 'dropped') FROM planned$$,
              $$SELECT partition_name, action FROM done$$,
              'the real run does exactly what the dry run listed');
SELECT is((SELECT min(at) FROM tap_daily) >= now() - interval '6 days', true,
          'no row older than the oldest kept partition remains, and nothing newer was touched');
SELECT is((SELECT count(*) FROM tap_daily WHERE at >= now() - interval '5 days'),
          (SELECT count(*) FROM generate_series(current_date - 10, current_date + 3, '1 day') d
            WHERE d >= now() - interval '5 days'),
          'every row newer than the cutoff is still there');
SELECT is((SELECT count(*) FROM dbopt.maintenance_log WHERE operation = 'drop_old_partitions' AND action = 'dropped'),
          5::bigint, 'each drop is logged');

SELECT * FROM finish();
ROLLBACK;
