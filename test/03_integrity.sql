-- pgTAP: check_data_integrity() and validate_constraints(): signatures,
-- privileges, the check-name registry, and behaviour a reader relies on
-- (samples, MATCH semantics on composite keys, dry run = real run).
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(16);

CREATE FUNCTION pg_temp.out_columns(f regprocedure) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(u.n || ' ' || format_type(u.t, NULL), ', ' ORDER BY u.o)
    FROM pg_proc p,
         unnest(p.proargnames, p.proallargtypes, p.proargmodes) WITH ORDINALITY AS u(n, t, m, o)
   WHERE p.oid = f AND u.m = 'o' $$;

SELECT has_function('dbopt', 'check_data_integrity',
                    ARRAY['regclass', 'boolean', 'integer', 'boolean']);
SELECT function_returns('dbopt', 'check_data_integrity',
                        ARRAY['regclass', 'boolean', 'integer', 'boolean'], 'setof record');
SELECT has_function('dbopt', 'validate_constraints', ARRAY['regclass', 'boolean']);
SELECT is(pg_temp.out_columns('dbopt.check_data_integrity(regclass, boolean, integer, boolean)'),
          'severity text, check_name text, object_name text, detail text, remediation text, fix_sql text, violating_rows bigint, sample jsonb',
          'check_data_integrity returns the findings shape plus violating_rows and sample');
SELECT is(pg_temp.out_columns('dbopt.validate_constraints(regclass, boolean)'),
          'constraint_name text, table_name regclass, action text, detail text',
          'validate_constraints returns the documented columns');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.check_data_integrity(regclass, boolean, integer, boolean)', 'EXECUTE'),
          'pg_monitor may run the integrity report');
SELECT ok(NOT has_function_privilege('pg_monitor', 'dbopt.validate_constraints(regclass, boolean)', 'EXECUTE'),
          'pg_monitor may not validate constraints');
SELECT set_eq(
  $$SELECT check_name FROM dbopt.check_names() WHERE report = 'check_data_integrity'$$,
  ARRAY['fk_orphan_rows', 'check_violation', 'not_valid_constraint',
        'disabled_constraint_trigger', 'invalid_unique_index', 'sequence_exhaustion',
        'xid_wraparound', 'index_corruption', 'heap_corruption',
        'collation_version_mismatch', 'check_failed'],
  'every integrity check name is registered');

CREATE SCHEMA tap_int;
CREATE TABLE tap_int.org (a int, b int, PRIMARY KEY (a, b));
INSERT INTO tap_int.org SELECT g, g FROM generate_series(1, 100) g;
CREATE TABLE tap_int.doc (id int PRIMARY KEY, a int, b int);
-- 40 orphans, 5 partly NULL keys, 5 all-NULL keys, 50 good rows.
INSERT INTO tap_int.doc SELECT g, 1000 + g, 1000 + g FROM generate_series(1, 40) g;
INSERT INTO tap_int.doc SELECT g, g, NULL FROM generate_series(41, 45) g;
INSERT INTO tap_int.doc SELECT g, NULL, NULL FROM generate_series(46, 50) g;
INSERT INTO tap_int.doc SELECT g, g - 50, g - 50 FROM generate_series(51, 100) g;
ALTER TABLE tap_int.doc ADD CONSTRAINT doc_simple FOREIGN KEY (a, b) REFERENCES tap_int.org NOT VALID;
ALTER TABLE tap_int.doc ADD CONSTRAINT doc_full FOREIGN KEY (a, b) REFERENCES tap_int.org MATCH FULL NOT VALID;

SELECT is((SELECT violating_rows FROM dbopt.check_data_integrity('tap_int.doc')
            WHERE object_name = 'tap_int.doc.doc_simple'), 40::bigint,
          'MATCH SIMPLE: keys with a NULL are not checked');
SELECT is((SELECT violating_rows FROM dbopt.check_data_integrity('tap_int.doc')
            WHERE object_name = 'tap_int.doc.doc_full'), 45::bigint,
          'MATCH FULL: partly NULL keys violate, all-NULL keys do not');
SELECT is((SELECT jsonb_array_length(sample) FROM dbopt.check_data_integrity('tap_int.doc', sample_limit => 7)
            WHERE object_name = 'tap_int.doc.doc_simple'), 7,
          'sample_limit caps the sample');
SELECT is((SELECT sample FROM dbopt.check_data_integrity('tap_int.doc', sample_limit => 0)
            WHERE object_name = 'tap_int.doc.doc_simple'), NULL,
          'sample_limit 0 counts without sampling');
SELECT ok((SELECT bool_and(s ? 'a' AND s ? 'b')
             FROM dbopt.check_data_integrity('tap_int.doc') d, jsonb_array_elements(d.sample) s
            WHERE d.object_name = 'tap_int.doc.doc_simple'),
          'each sample holds every key column');

-- Remove the orphans with the suggested fix; the dry run then predicts the
-- real run exactly.
DO $$ BEGIN
  EXECUTE (SELECT fix_sql FROM dbopt.check_data_integrity('tap_int.doc')
            WHERE object_name = 'tap_int.doc.doc_full');
END $$;
CREATE TEMP TABLE dry AS
  SELECT constraint_name, replace(action, 'would validate', 'validated') AS action
    FROM dbopt.validate_constraints('tap_int.doc', dry_run => true);
SELECT set_eq($$SELECT constraint_name, action FROM dry$$,
              $$VALUES ('doc_simple', 'validated'), ('doc_full', 'validated')$$,
              'after the fix, the dry run would validate both');
SELECT set_eq($$SELECT constraint_name, action FROM dbopt.validate_constraints('tap_int.doc')$$,
              $$SELECT constraint_name, action FROM dry$$,
              'the real run does what the dry run said');
SELECT is((SELECT count(*) FROM pg_constraint
            WHERE conrelid = 'tap_int.doc'::regclass AND NOT convalidated), 0::bigint,
          'no NOT VALID constraint is left');

SELECT * FROM finish();
ROLLBACK;
