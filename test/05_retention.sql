-- pgTAP: the retention functions' contract (signatures, columns,
-- privileges, the registry) and what scripts rely on: nothing at or after
-- now() - keep is touched, archive mode loses no row, and a real run does
-- what its dry run said.  One transaction, so now() is one instant.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(16);

SELECT is((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, NULL), ', ' ORDER BY a.attnum)
             FROM pg_attribute a WHERE a.attrelid = 'dbopt.retention_policies'::regclass
              AND a.attnum > 0 AND NOT a.attisdropped AND a.attnum <= 10),
          'relation regclass, time_column name, keep interval, mode text, archive_table regclass, batch_size integer, max_rows_per_run bigint, enabled boolean, last_run_at timestamp with time zone, last_rows bigint',
          'retention_policies has the documented columns');
SELECT is((SELECT string_agg(n || ' ' || format_type(t, NULL), ', ' ORDER BY o)
             FROM pg_proc p, unnest(p.proargnames, p.proargtypes::oid[] || p.proallargtypes[2:], p.proargmodes)
                  WITH ORDINALITY AS x(n, t, m, o)
            WHERE p.oid = 'dbopt.apply_data_retention_policies(boolean)'::regprocedure AND m = 't'),
          'relation regclass, mode text, cutoff timestamp with time zone, rows_deleted bigint, rows_archived bigint, partitions_dropped integer, batches integer, duration_ms double precision, status text, detail text',
          'apply_data_retention_policies returns the documented columns');
SELECT has_function('dbopt', 'add_retention_policy',
                    ARRAY['regclass', 'name', 'interval', 'text', 'regclass', 'integer', 'bigint', 'boolean', 'text']);
SELECT ok((SELECT prokind = 'p' FROM pg_proc WHERE oid = 'dbopt.run_data_retention(interval)'::regprocedure),
          'run_data_retention is a procedure');
SELECT ok(NOT has_function_privilege('public', 'dbopt.apply_data_retention_policies(boolean)', 'EXECUTE')
          AND NOT has_function_privilege('pg_monitor', 'dbopt.apply_data_retention_policies(boolean)', 'EXECUTE')
          AND NOT has_function_privilege('pg_monitor', 'dbopt.run_data_retention(interval)', 'EXECUTE'),
          'neither PUBLIC nor pg_monitor may delete rows');
SELECT ok(has_table_privilege('pg_monitor', 'dbopt.retention_policies', 'SELECT'),
          'pg_monitor may read the policies');
SELECT ok((SELECT extconfig @> ARRAY['dbopt.retention_policies'::regclass::oid]
             FROM pg_extension WHERE extname = 'dbopt'),
          'retention_policies is dumped by pg_dump');

-- A plain table with one row every 20 minutes over 120 days up to now.
CREATE TABLE tap_ret (id serial PRIMARY KEY, at timestamptz NOT NULL, v text);
INSERT INTO tap_ret (at, v) SELECT now() - g * interval '20 minutes', 'v' || g FROM generate_series(0, 8640) g;
CREATE INDEX ON tap_ret (at);
SELECT count(*) AS newer FROM tap_ret WHERE at >= now() - interval '30 days' \gset
SELECT count(*) AS older FROM tap_ret WHERE at < now() - interval '30 days' \gset
SELECT lives_ok($$SELECT dbopt.add_retention_policy('tap_ret', 'at', '30 days', batch_size => 1000)$$,
                'a policy is registered');
CREATE TEMP TABLE dry AS SELECT * FROM dbopt.apply_data_retention_policies(true);
SELECT is((SELECT rows_deleted FROM dry WHERE relation = 'tap_ret'::regclass), :'older'::bigint,
          'the dry run counts exactly the rows older than now() - keep');
CREATE TEMP TABLE real AS SELECT * FROM dbopt.apply_data_retention_policies();
SELECT is((SELECT (rows_deleted, batches) FROM real WHERE relation = 'tap_ret'::regclass),
          (SELECT (rows_deleted, batches) FROM dry WHERE relation = 'tap_ret'::regclass),
          'the real run deletes what the dry run said, in as many batches');
SELECT is((SELECT count(*) FROM tap_ret), :'newer'::bigint, 'every row at or after the cutoff is still there');
SELECT is((SELECT count(*) FROM tap_ret WHERE at < now() - interval '30 days'), 0::bigint,
          'no row before the cutoff is left');

-- Archive mode on a daily-partitioned table: whole days are emptied into the
-- archive and dropped; kept plus archived rows are the original rows.
CREATE TABLE tap_part (id int, at timestamptz NOT NULL, v text) PARTITION BY RANGE (at);
DO $$
DECLARE d date;
BEGIN
  FOR d IN SELECT generate_series(current_date - 12, current_date + 1, '1 day')::date LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF tap_part FOR VALUES FROM (%L) TO (%L)',
                   'tap_part_' || to_char(d, 'MMDD'), d::timestamptz, (d + 1)::timestamptz);
  END LOOP;
END $$;
INSERT INTO tap_part SELECT g, now() - g * interval '7 minutes', md5(g::text) FROM generate_series(0, 2400) g;
SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS before FROM tap_part t \gset
SELECT count(*) AS partitions_before FROM pg_inherits WHERE inhparent = 'tap_part'::regclass \gset
SELECT lives_ok($$SELECT dbopt.add_retention_policy('tap_part', 'at', '5 days', 'archive', batch_size => 100)$$,
                'an archive policy creates its archive table');
CREATE TEMP TABLE arch AS SELECT * FROM dbopt.apply_data_retention_policies() WHERE relation = 'tap_part'::regclass;
SELECT ok((SELECT rows_archived = rows_deleted AND rows_deleted > 0 AND partitions_dropped >= 6 AND status = 'ok' FROM arch),
          'rows are archived as they are deleted, then the emptied partitions are dropped');
SELECT is((SELECT md5(string_agg(t::text, ',' ORDER BY id))
             FROM (SELECT * FROM tap_part UNION ALL SELECT * FROM tap_part_archive) t),
          :'before', 'kept plus archived rows are exactly the original rows');

SELECT throws_ok('CALL dbopt.run_data_retention()', '2D000', NULL,
                 'the committing procedure refuses to run inside a transaction block');

SELECT * FROM finish();
ROLLBACK;
