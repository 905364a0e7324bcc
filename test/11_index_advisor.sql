-- pgTAP: suggest_indexes(): on a workload run in this session, a lookup by
-- an unindexed column gets a btree on it, verified with HypoPG (scripts/test
-- installs it) and then by the heuristic without it; nothing is suggested
-- for an indexed column or a small table; no hypothetical index is left;
-- bad arguments are refused.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(13);

SELECT function_returns('dbopt', 'suggest_indexes',
                        ARRAY['bigint', 'double precision', 'double precision', 'integer'], 'setof record');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.suggest_indexes(bigint,double precision,double precision,integer)', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.suggest_indexes(bigint,double precision,double precision,integer)', 'EXECUTE'),
          'pg_monitor may ask for suggestions, PUBLIC may not');

CREATE SCHEMA tap_adv;
CREATE EXTENSION hypopg SCHEMA tap_adv;
CREATE TABLE tap_adv.orders (id bigint PRIMARY KEY, customer_id int, note text);
INSERT INTO tap_adv.orders SELECT g, g % 3000, md5(g::text) FROM generate_series(1, 40000) g;
CREATE TABLE tap_adv.small (id int, k int);
INSERT INTO tap_adv.small SELECT g, g FROM generate_series(1, 300) g;
ANALYZE tap_adv.orders, tap_adv.small;
\o /dev/null
SELECT format('SELECT note FROM tap_adv.orders WHERE customer_id = %s', g) FROM generate_series(1, 12) g \gexec
SELECT format('SELECT note FROM tap_adv.orders WHERE id = %s', g) FROM generate_series(1, 12) g \gexec
SELECT format('SELECT * FROM tap_adv.small WHERE k = %s', g) FROM generate_series(1, 12) g \gexec
\o
SET LOCAL client_min_messages = warning;  -- the closing NOTICE counts other sessions' statements too

CREATE TEMP TABLE adv AS
  SELECT * FROM dbopt.suggest_indexes(min_calls => 10, min_mean_ms => 0)
   WHERE relation::text LIKE 'tap_adv.%';
SELECT results_eq($$ SELECT relation::text, columns, verified_by FROM adv $$,
                  $$ VALUES ('tap_adv.orders', ARRAY['customer_id'], 'hypopg') $$,
                  'one suggestion: (customer_id), verified by HypoPG; none for the key or the small table');
SELECT ok((SELECT cost_after < cost_before AND improvement_pct >= 50 AND calls >= 12
                  AND index_bytes_estimate > 0 FROM adv),
          'it makes the statement at least 50% cheaper, with its size estimated');
SELECT is((SELECT index_sql FROM adv), 'CREATE INDEX CONCURRENTLY ON tap_adv.orders (customer_id)',
          'index_sql is a concurrent CREATE INDEX on the column');
SELECT is((SELECT count(*)::int FROM tap_adv.hypopg_list_indexes), 0, 'no hypothetical index is left behind');
SELECT is_empty($$ SELECT 1 FROM pg_prepared_statements $$, 'no prepared statement is left behind');

-- The suggestion created: not suggested again.
SELECT index_sql FROM adv \gset
SAVEPOINT before_index;
SELECT lives_ok(replace(:'index_sql', 'CONCURRENTLY ', ''), 'the suggested index can be built');
SELECT is_empty($$ SELECT 1 FROM dbopt.suggest_indexes(min_calls => 10, min_mean_ms => 0)
                    WHERE relation = 'tap_adv.orders'::regclass $$,
                'an index that exists is not suggested again');

-- Without HypoPG the pg_stats heuristic answers, and says so.
ROLLBACK TO SAVEPOINT before_index;
DROP EXTENSION hypopg;
SELECT results_eq($$ SELECT columns, verified_by, detail LIKE '%planner%' FROM dbopt.suggest_indexes(min_calls => 10, min_mean_ms => 0)
                      WHERE relation = 'tap_adv.orders'::regclass $$,
                  $$ VALUES (ARRAY['customer_id'], 'heuristic', true) $$,
                  'without HypoPG the heuristic suggests (customer_id) and says the planner did not check it');

SELECT throws_ok($$ SELECT * FROM dbopt.suggest_indexes(min_calls => -1) $$, '22023', NULL,
                 'a negative min_calls is refused');
SELECT throws_ok($$ SELECT * FROM dbopt.suggest_indexes(max_suggestions => 0) $$, '22023', NULL,
                 'so is max_suggestions 0');
SELECT throws_ok($$ SELECT * FROM dbopt.suggest_indexes(min_improvement_pct => 101) $$, '22023', NULL,
                 'and an improvement over 100%');
SELECT * FROM finish();
ROLLBACK;
