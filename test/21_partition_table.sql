-- pgTAP: partition_table()'s contract (signatures, privileges, the plan's
-- columns) and what a DBA relies on before running it: the dry run plans
-- partitions from the data's own range, changes nothing, records nothing,
-- and refuses what cannot be carried over with its SQLSTATE.  The run
-- itself commits, so it is tested in sql/35, specs/ and t/018.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(14);

SELECT has_function('dbopt', 'partition_table',
                    ARRAY['regclass', 'name', 'text', 'integer', 'integer', 'boolean']);
SELECT is((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, NULL), ', ' ORDER BY a.attnum)
             FROM pg_proc p JOIN pg_type t ON t.oid = p.prorettype
             JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE p.oid = 'dbopt.partition_table(regclass,name,text,integer,integer,boolean)'::regprocedure),
          'step integer, action text, object text, detail text, sql text',
          'partition_table returns the documented columns');
SELECT ok((SELECT prokind = 'p' FROM pg_proc WHERE oid = 'dbopt.run_partition_migration(regclass)'::regprocedure),
          'run_partition_migration is a procedure');
SELECT ok(NOT has_function_privilege('public', 'dbopt.partition_table(regclass,name,text,integer,integer,boolean)', 'EXECUTE')
          AND NOT has_function_privilege('pg_monitor', 'dbopt.partition_table(regclass,name,text,integer,integer,boolean)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'dbopt.run_partition_migration(regclass)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'dbopt.undo_partition_migration(regclass,boolean)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'dbopt.finish_partition_migration(regclass,boolean,boolean)', 'EXECUTE'),
          'neither PUBLIC nor pg_monitor may plan or run a migration');
SELECT ok(has_table_privilege('pg_monitor', 'dbopt.partition_migrations', 'SELECT')
          AND NOT has_table_privilege('pg_monitor', 'dbopt.partition_migration_changes', 'SELECT'),
          'pg_monitor reads the progress, not the captured keys');

-- Two years of rows, one a day, from 2024-01-01.
CREATE TABLE tap_pt ("the id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at date NOT NULL, v text);
INSERT INTO tap_pt (at, v) SELECT date '2024-01-01' + g, 'v' || g FROM generate_series(0, 730) g;
CREATE INDEX tap_pt_at ON tap_pt (at);

CREATE TEMP TABLE plan AS
SELECT * FROM dbopt.partition_table('tap_pt', 'at', '1 month', premake => 2);
SELECT is((SELECT object FROM plan WHERE action = 'create_partition' ORDER BY step LIMIT 1), 'public.tap_pt_p20240101',
          'the first partition starts at the month of the oldest row, not now');
SELECT ok((SELECT count(*) FROM plan WHERE action = 'create_partition') >= 27,
          'a partition for each month of the data, then the default');
SELECT is((SELECT detail FROM plan WHERE action = 'primary_key'),
          'becomes ("the id", at): PostgreSQL requires the partition column in every unique key of a partitioned table, so uniqueness is enforced per partition range only',
          'the plan says how the primary key changes');
SELECT ok((SELECT bool_and(sql IS NOT NULL) FROM plan WHERE action IN ('create_table', 'copy', 'verify', 'rename')),
          'the steps that run carry their statements');
SELECT is((SELECT count(*) FROM dbopt.partition_migrations), 0::bigint, 'the dry run records nothing');
SELECT is(to_regclass('tap_pt_migrating'), NULL, 'and creates nothing');

SELECT throws_ok($$SELECT * FROM dbopt.partition_table('tap_pt', 'at', '1 month', dry_run => NULL)$$,
                 '22004', NULL, 'a NULL dry_run is refused');
CREATE TABLE tap_nopk (at date NOT NULL);
SELECT throws_ok($$SELECT * FROM dbopt.partition_table('tap_nopk', 'at', '1 month')$$,
                 '0A000', NULL, 'a table without a primary key is refused at planning');
CREATE TABLE tap_float (id float8 PRIMARY KEY, at date NOT NULL);
SELECT throws_ok($$SELECT * FROM dbopt.partition_table('tap_float', 'at', '1 month')$$,
                 '0A000', NULL, 'a key whose text depends on session settings is refused');

SELECT * FROM finish();
ROLLBACK;
