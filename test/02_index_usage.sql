-- pgTAP: analyze_index_usage() finding codes and find_unindexed_foreign_keys(),
-- each code asserted, plus the privileges of both reports.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(16);

CREATE SCHEMA tap_ix;
CREATE TABLE tap_ix.t (id int PRIMARY KEY, a int, b int, r int);
INSERT INTO tap_ix.t SELECT g, g % 50, g % 3, g FROM generate_series(1, 5000) g;
CREATE INDEX t_a ON tap_ix.t (a);
CREATE INDEX t_a_copy ON tap_ix.t (a);
CREATE INDEX t_b ON tap_ix.t (b);
CREATE INDEX t_b_a ON tap_ix.t (b, a);
CREATE INDEX t_b_hash ON tap_ix.t USING hash (b);
CREATE INDEX t_gone ON tap_ix.t (r);
-- Random insertion order leaves btree pages partly empty: measurable bloat.
CREATE TABLE tap_ix.rnd (v int);
CREATE INDEX rnd_v ON tap_ix.rnd (v);
INSERT INTO tap_ix.rnd SELECT g FROM generate_series(1, 150000) g ORDER BY md5(g::text);
ANALYZE tap_ix.t, tap_ix.rnd;
-- Rolled back with the test: the catalog flag a failed CREATE INDEX CONCURRENTLY leaves.
UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'tap_ix.t_gone'::regclass;

CREATE FUNCTION pg_temp.codes(idx text, age interval DEFAULT '0 s') RETURNS text[]
LANGUAGE sql AS $$
  SELECT findings FROM dbopt.analyze_index_usage('tap_ix', age) WHERE indexname = idx
$$;

SELECT ok('unused' = ANY (pg_temp.codes('t_a')), 'never scanned: unused');
SELECT ok('unused_recent_stats' = ANY (pg_temp.codes('t_a', '7 days')),
          'young statistics: unused_recent_stats, not unused');
SELECT ok(NOT 'unused' = ANY (pg_temp.codes('t_pkey')), 'a primary key is never unused');
SELECT ok('duplicate' = ANY (pg_temp.codes('t_a_copy')), 'the newer twin is the duplicate');
SELECT ok(NOT 'duplicate' = ANY (pg_temp.codes('t_a')), 'the older twin is kept');
SELECT ok('redundant' = ANY (pg_temp.codes('t_b')), 'a leading prefix is redundant');
SELECT ok(NOT 'redundant' = ANY (pg_temp.codes('t_b_hash')), 'a hash index is never redundant to a btree');
SELECT ok('invalid' = ANY (pg_temp.codes('t_gone')), 'an invalid index is reported');
SELECT is((SELECT fix_sql FROM dbopt.analyze_index_usage('tap_ix', '0 s') WHERE indexname = 't_gone'),
          'REINDEX INDEX CONCURRENTLY tap_ix.t_gone;', 'invalid index fix is a concurrent reindex');
SET LOCAL dbopt.index_bloat_threshold = 10;
SELECT ok('bloated' = ANY (pg_temp.codes('rnd_v')), 'half-empty btree pages: bloated at 10%');
SET LOCAL dbopt.index_bloat_threshold = 90;
SELECT ok(NOT 'bloated' = ANY (pg_temp.codes('rnd_v')), 'but not at 90%');

CREATE TABLE tap_ix.kid (id int, t_id int REFERENCES tap_ix.t);
SELECT results_eq($$ SELECT check_name, columns FROM dbopt.find_unindexed_foreign_keys('tap_ix') $$,
                  $$ VALUES ('fk_without_index', ARRAY['t_id']) $$, 'unindexed foreign key found');
CREATE INDEX ON tap_ix.kid (t_id);
SELECT is_empty($$ SELECT 1 FROM dbopt.find_unindexed_foreign_keys('tap_ix') $$,
                'indexed foreign key is fine');

SELECT ok(has_function_privilege('pg_monitor', 'dbopt.analyze_index_usage(text,interval,boolean,boolean)', 'EXECUTE')
      AND has_function_privilege('pg_monitor', 'dbopt.find_unindexed_foreign_keys(text,boolean)', 'EXECUTE'),
          'pg_monitor may run both reports');
CREATE ROLE tap_ix_nobody;
SET LOCAL ROLE tap_ix_nobody;
SELECT throws_ok($$ SELECT * FROM dbopt.analyze_index_usage() $$, '42501', NULL,
                 'a role without grants may not run analyze_index_usage');
SELECT throws_ok($$ SELECT * FROM dbopt.find_unindexed_foreign_keys() $$, '42501', NULL,
                 'nor find_unindexed_foreign_keys');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
