-- pgTAP: index evidence: stats_epoch() (since when counters run),
-- the observation windows take_snapshot() keeps in dbopt.index_observations,
-- and the evidence columns of analyze_index_usage() built on them.
BEGIN;
CREATE EXTENSION IF NOT EXISTS dbopt CASCADE;
SELECT plan(12);

SELECT function_returns('dbopt', 'stats_epoch', ARRAY[]::text[], 'record');
SELECT is((SELECT string_agg(n || ' ' || format_type(t, NULL), ', ' ORDER BY o)
             FROM pg_proc p, unnest(p.proargnames, p.proallargtypes, p.proargmodes) WITH ORDINALITY AS x(n, t, m, o)
            WHERE p.oid = 'dbopt.stats_epoch()'::regprocedure AND m = 'o'),
          'stats_since timestamp with time zone, source text', 'stats_epoch returns stats_since and source');
SELECT ok(has_function_privilege('pg_monitor', 'dbopt.stats_epoch()', 'EXECUTE')
      AND NOT has_function_privilege('public', 'dbopt.stats_epoch()', 'EXECUTE')
      AND NOT has_table_privilege('public', 'dbopt.index_observations', 'SELECT'),
          'pg_monitor may read the epoch; PUBLIC neither it nor the observations');
SELECT ok((SELECT stats_since <= now() AND stats_since >= pg_postmaster_start_time() - interval '1 year'
                  AND source <> '' FROM dbopt.stats_epoch()),
          'the epoch is in the past and says where it comes from');
SELECT ok((SELECT stats_since >= coalesce((SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()), '-infinity')
                  AND stats_since >= (SELECT stats_reset FROM pg_stat_bgwriter)
             FROM dbopt.stats_epoch()),
          'it is the latest of the database''s and the shared statistics'' resets');

CREATE SCHEMA tap_ev;
CREATE TABLE tap_ev.t (id int PRIMARY KEY, a int);
CREATE INDEX t_a ON tap_ev.t (a);
SELECT dbopt.take_snapshot() AS s1 \gset
SELECT results_eq(
    $$ SELECT index_name, scans, resets, first_seen = last_seen FROM dbopt.index_observations
        WHERE index_name LIKE 'tap_ev.%' ORDER BY 1 $$,
    $$ VALUES ('tap_ev.t_a', 0::bigint, 0, true), ('tap_ev.t_pkey', 0::bigint, 0, true) $$,
    'a snapshot starts an observation of each new index');
SELECT pg_sleep(0.01);
SELECT dbopt.take_snapshot() AS s2 \gset
SELECT ok((SELECT bool_and(last_seen > first_seen) FROM dbopt.index_observations WHERE index_name LIKE 'tap_ev.%'),
          'the next snapshot carries the observation on');
SELECT ok((SELECT bool_and(stats_since = (SELECT stats_since FROM dbopt.stats_epoch()))
             FROM dbopt.analyze_index_usage('tap_ev', interval '0 s')),
          'analyze_index_usage''s stats_since is the epoch');
SELECT results_eq(
    $$ SELECT indexname::text COLLATE "default", scans_observed, findings::text, confidence IS NOT NULL
         FROM dbopt.analyze_index_usage('tap_ev', interval '0 s') ORDER BY 1 $$,
    $$ VALUES ('t_a', 0::bigint, '{unused}', true), ('t_pkey', 0::bigint, '{}', false) $$,
    'an index observed without a scan is unused, graded; a primary key never is');
SELECT is((SELECT findings FROM dbopt.analyze_index_usage('tap_ev', interval '100 years') WHERE indexname = 't_a'),
          ARRAY['unused_recent_stats'], 'observed for less than min_stats_age it is not yet unused');
SELECT throws_ok($$ SELECT * FROM dbopt.analyze_index_usage('tap_ev', '7') $$, '22023', NULL,
                 'min_stats_age as text needs its unit');
SELECT is(dbopt.purge_snapshots('0 s', dry_run => true), 0::bigint,
          'snapshots taken in this transaction are not older than now()');

SELECT * FROM finish();
ROLLBACK;
