-- pgTAP: simulate_drop_index(): the statements of pg_stat_statements on the
-- index's table planned with and without it, nothing dropped; bad
-- arguments refused.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(11);

SELECT function_returns('dbopt', 'simulate_drop_index', ARRAY['regclass', 'bigint'], 'setof record');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.simulate_drop_index(regclass,bigint)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.simulate_drop_index(regclass,bigint)', 'EXECUTE'),
          'pg_monitor may simulate, PUBLIC may not');

CREATE TABLE tap_wi (id int PRIMARY KEY, k int, note text);
INSERT INTO tap_wi SELECT g, g % 5000, md5(g::text) FROM generate_series(1, 30000) g;
CREATE INDEX tap_wi_k ON tap_wi (k);
CREATE INDEX tap_wi_note ON tap_wi (note);
ANALYZE tap_wi;
\o /dev/null
SELECT format('SELECT id FROM tap_wi WHERE k = %s', g) FROM generate_series(1, 5) g \gexec
\o
SET LOCAL client_min_messages = warning;

SELECT results_eq(
    $$ SELECT calls, uses_index, cost_without > 10 * cost_with
         FROM dbopt.simulate_drop_index('tap_wi_k') WHERE query LIKE '%FROM tap_wi WHERE k =%' $$,
    $$ VALUES (5::bigint, true, true) $$,
    'the lookup uses its only index and is over 10 times costlier without it');
SELECT is_empty($$ SELECT 1 FROM dbopt.simulate_drop_index('tap_wi_note') WHERE uses_index $$,
                'no statement uses the index on note');
SELECT ok((SELECT bool_and(cost_with = cost_without) FROM dbopt.simulate_drop_index('tap_wi_note')
            WHERE query LIKE '%FROM tap_wi WHERE k =%'),
          'and dropping it changes no plan of the lookup');
SELECT is_empty($$ SELECT 1 FROM dbopt.simulate_drop_index('tap_wi_k', min_calls => 6) $$,
                'min_calls leaves out statements with fewer calls');
SELECT is((SELECT count(*)::int FROM pg_index WHERE indexrelid = 'tap_wi_k'::regclass AND indisvalid), 1,
          'the index is still there, valid');

SELECT throws_ok($$ SELECT * FROM dbopt.simulate_drop_index(NULL) $$, '22004', NULL,
                 'a NULL index is refused');
SELECT throws_ok($$ SELECT * FROM dbopt.simulate_drop_index('tap_wi') $$, '42809', NULL,
                 'a table is not an index');
SELECT throws_ok($$ SELECT * FROM dbopt.simulate_drop_index('tap_wi_k', -1) $$, '22023', NULL,
                 'a negative min_calls is refused');
SELECT throws_ok($$ SELECT * FROM dbopt.simulate_drop_index('tap_wi_k', NULL) $$, '22004', NULL,
                 'so is a NULL one');

SELECT * FROM finish();
ROLLBACK;
