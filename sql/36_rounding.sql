-- Figures rounded to what a reader needs (README "Order, figures and ok
-- rows"): milliseconds to 3 decimals (means) or 1 (totals and durations),
-- percentages to 1, ratios in [0,1] to 4, ratios of two means to 2, costs
-- to 2, p-values to 4 significant digits (a small one is never 0).  Every
-- report with a double precision or numeric column is called for real,
-- with data whose exact figures have more decimals than that; the
-- judgements (thresholds, order) are made on the exact figures.
\set VERBOSITY terse
CREATE SCHEMA "round ""s""";
SET search_path = "round ""s""", public;

-- Each report column with its rule: decimals, or significant digits.
CREATE TABLE rules (report text, col text, digits int, significant boolean);
INSERT INTO rules VALUES
    ('compare_snapshots', 'total_ms', 1, false), ('compare_snapshots', 'mean_ms', 3, false),
    ('compare_snapshots', 'hit_ratio', 4, false), ('compare_snapshots', 'share_of_total_pct', 1, false),
    ('slow_queries', 'mean_ms', 3, false), ('slow_queries', 'total_ms', 1, false),
    ('slow_queries', 'share_of_total_pct', 1, false),
    ('detect_regressions', 'baseline_mean_ms', 3, false), ('detect_regressions', 'current_mean_ms', 3, false),
    ('detect_regressions', 'ratio', 2, false), ('detect_regressions', 'p_value', 4, true),
    ('detect_regressions', 'added_ms_per_call', 3, false), ('detect_regressions', 'added_ms_per_s', 3, false),
    ('detect_regressions', 'current_share_pct', 1, false),
    ('suggest_indexes', 'cost_before', 2, false), ('suggest_indexes', 'cost_after', 2, false),
    ('suggest_indexes', 'improvement_pct', 1, false), ('suggest_indexes', 'write_overhead_pct', 1, false),
    ('simulate_drop_index', 'cost_with', 2, false), ('simulate_drop_index', 'cost_without', 2, false),
    ('refresh_materialized_views', 'duration_ms', 1, false), ('matview_freshness', 'last_duration_ms', 1, false),
    ('apply_data_retention_policies', 'duration_ms', 1, false),
    ('analyze_partition_distribution', 'share_pct', 1, false);
-- The values each report returned, one row per value.
CREATE TABLE seen (report text, col text, v double precision);
CREATE FUNCTION keep(report text, rows jsonb) RETURNS boolean LANGUAGE sql AS $$
    WITH k AS (
        INSERT INTO "round ""s""".seen
        SELECT keep.report, r.col, (x ->> r.col)::double precision
          FROM jsonb_array_elements(rows) x, "round ""s""".rules r
         WHERE r.report = keep.report AND x ->> r.col IS NOT NULL
        RETURNING 1)
    SELECT count(*) > 0 FROM k $$;

-- Snapshots with exact counters, one minute apart: -1 goes from 40 calls
-- of 1.2345678 ms (sd 0.1) to 40 of 1.5 ms (sd 0.25); -2 is steady.  The
-- p-value of -1 is small: to 4 decimals it would read 0.
SELECT dbopt.take_snapshot() AS real_last \gset
INSERT INTO dbopt.snapshots (snap_id, taken_at, pgss_available, pgss_dealloc, pgss_stats_reset, pgss_entries, server)
SELECT :real_last + i, now() - interval '3 minutes' + i * interval '1 minute', true, 0,
       '2026-01-01 00:00:00+00', 5, '{}'
  FROM generate_series(1, 3) i;
SELECT setval('dbopt.snapshots_snap_id_seq', :real_last + 3) > 0 AS moved_on;
WITH w (queryid, i, n, mean, sd, hit, rd) AS (VALUES
    (-1, 1, 10, 1.2345678, 0.1, 7, 3), (-1, 2, 40, 1.2345678, 0.1, 7, 3), (-1, 3, 40, 1.5, 0.25, 7, 3),
    (-2, 1, 10, 7.7777777, 0.5, 2, 1), (-2, 2, 40, 7.7777777, 0.5, 2, 1), (-2, 3, 40, 7.7777777, 0.5, 2, 1)),
c AS (SELECT queryid, i, sum(n) OVER u AS calls, sum(n * mean) OVER u AS total,
             sum(n * (sd ^ 2 + mean ^ 2)) OVER u AS sumsq, sum(hit) OVER u AS hit, sum(rd) OVER u AS rd
        FROM w WINDOW u AS (PARTITION BY queryid ORDER BY i))
INSERT INTO dbopt.snapshot_statements
SELECT :real_last + i, 10, (SELECT oid FROM pg_database WHERE datname = current_database()), queryid, true,
       calls, total, total / calls, sqrt(greatest(sumsq / calls - (total / calls) ^ 2, 0)), 0, 0, calls, hit, rd,
       0, 0, 0, 0, 0
  FROM c;
SELECT :real_last + 1 AS s1, :real_last + 2 AS s2, :real_last + 3 AS s3 \gset
-- The figures as shown: the exact ones (the deltas) have more decimals.
SELECT queryid, calls, total_ms, mean_ms, hit_ratio, share_of_total_pct
  FROM dbopt.compare_snapshots(:s2, :s3) ORDER BY queryid;
SELECT queryid, total_ms AS exact_total_ms FROM dbopt.snapshot_deltas(:s2, :s3) ORDER BY queryid;
-- -1 is 1.215 times slower: found with min_ratio 1.2, judged on the exact ratio.
SELECT queryid, baseline_mean_ms, current_mean_ms, ratio, p_value, p_value > 0 AS p_positive,
       added_ms_per_call, added_ms_per_s, current_share_pct
  FROM dbopt.detect_regressions(:s1, :s2, :s2, :s3, min_ratio => 1.2, max_p_value => 0.01,
                                min_added_ms => 0, min_share_pct => 0);
-- A threshold between the rounded ratio (1.22) and the exact one (1.215...):
-- the exact one decides.
SELECT count(*) AS above_exact_ratio
  FROM dbopt.detect_regressions(:s1, :s2, :s2, :s3, min_ratio => 1.219, min_added_ms => 0, min_share_pct => 0);
SELECT keep('compare_snapshots', jsonb_agg(to_jsonb(c))) AS kept FROM dbopt.compare_snapshots(:s1, :s3) c;
SELECT keep('detect_regressions', jsonb_agg(to_jsonb(d))) AS kept
  FROM dbopt.detect_regressions(:s1, :s2, :s2, :s3, min_ratio => 1.2, min_added_ms => 0, min_share_pct => 0) d;
SELECT dbopt.purge_snapshots('0') > 0 AS purged;

-- Real statements: a workload between two snapshots, and the live
-- pg_stat_statements.  Index advice and a what-if drop on the same table.
CREATE EXTENSION hypopg SCHEMA "round ""s""";
CREATE TABLE "t;" (id int, k int, note text) WITH (autovacuum_enabled = off);
-- 50,001 rows and odd call counts: plan costs with more than 2 decimals
INSERT INTO "t;" SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 50001) g;
CREATE INDEX t_id ON "t;" (id);
ANALYZE "t;";
SELECT dbopt.take_snapshot() AS w1 \gset
\set ECHO none
\o /dev/null
SELECT format('SELECT count(*) FROM "t;" WHERE k = %s', g) FROM generate_series(1, 57) g \gexec
SELECT format('SELECT note FROM "t;" WHERE id = %s', g) FROM generate_series(1, 60) g \gexec
-- a second statement for an index on k, with other calls: a weighted cost
SELECT format('SELECT id FROM "t;" WHERE k = %s ORDER BY id', g) FROM generate_series(1, 53) g \gexec
SELECT 'SELECT pg_sleep(0.0011)' FROM generate_series(1, 3) \gexec
\o
\set ECHO all
-- The 50,001 rows written count in write_overhead_pct once flushed.
SELECT pg_stat_force_next_flush();
SELECT dbopt.take_snapshot() AS w2 \gset
SELECT keep('compare_snapshots', jsonb_agg(to_jsonb(c))) AS kept FROM dbopt.compare_snapshots(:w1, :w2) c;
SELECT keep('slow_queries', jsonb_agg(to_jsonb(s))) AS kept FROM dbopt.slow_queries(min_mean_ms => 0) s;
SELECT keep('suggest_indexes', jsonb_agg(to_jsonb(s))) AS kept FROM dbopt.suggest_indexes(min_mean_ms => 0) s;
-- HypoPG's costs come from EXPLAIN, to 2 decimals already; the heuristic's
-- from the plan itself.
DROP EXTENSION hypopg;
SELECT keep('suggest_indexes', jsonb_agg(to_jsonb(s))) AS kept FROM dbopt.suggest_indexes(min_mean_ms => 0) s;
SELECT keep('simulate_drop_index', jsonb_agg(to_jsonb(s))) AS kept FROM dbopt.simulate_drop_index('t_id') s;
SELECT dbopt.purge_snapshots('0') > 0 AS purged;

-- A materialized view refreshed, and its last duration.
CREATE MATERIALIZED VIEW mv AS SELECT k, count(*) AS n FROM "t;" GROUP BY k;
SELECT keep('refresh_materialized_views', jsonb_agg(to_jsonb(r))) AS kept
  FROM dbopt.refresh_materialized_views(ARRAY['mv'::regclass]) r;
SELECT keep('matview_freshness', jsonb_agg(to_jsonb(f))) AS kept FROM dbopt.matview_freshness f WHERE matview = 'mv'::regclass;

-- A retention policy applied.
CREATE TABLE events (id int, at timestamptz);
CREATE INDEX ON events (at);
INSERT INTO events SELECT g, now() - g * interval '1 hour' FROM generate_series(1, 1000) g;
SELECT relation FROM dbopt.add_retention_policy('events', 'at', '10 days');
SELECT keep('apply_data_retention_policies', jsonb_agg(to_jsonb(a))) AS kept
  FROM dbopt.apply_data_retention_policies() a WHERE relation = 'events'::regclass;
SELECT dbopt.remove_retention_policy('events');

-- Three partitions with a third of the rows each: 33.3 percent.
CREATE TABLE thirds (id int) PARTITION BY RANGE (id);
CREATE TABLE thirds_1 PARTITION OF thirds FOR VALUES FROM (0) TO (100);
CREATE TABLE thirds_2 PARTITION OF thirds FOR VALUES FROM (100) TO (200);
CREATE TABLE thirds_3 PARTITION OF thirds FOR VALUES FROM (200) TO (300);
INSERT INTO thirds SELECT g FROM generate_series(0, 299) g;
ANALYZE thirds;
SELECT partition_name, share_pct FROM dbopt.analyze_partition_distribution('thirds');
SELECT keep('analyze_partition_distribution', jsonb_agg(to_jsonb(d))) AS kept
  FROM dbopt.analyze_partition_distribution('thirds') d;

-- The catalog's report columns of type double precision or numeric that
-- no rule above covers: health_check() (its value checked in
-- 34_report_order, its threshold the setting as given), the metrics (exact
-- for Prometheus) and the building blocks the reports compute from, which
-- stay exact.  A new figure shows up here.
SELECT p.proname AS report, c.col
  FROM pg_proc p,
       LATERAL (SELECT a.name AS col, a.t
                  FROM unnest(p.proallargtypes, p.proargmodes, p.proargnames) a(t, mode, name)
                 WHERE a.mode IN ('o', 't', 'b')
                UNION ALL
                SELECT at.attname, at.atttypid
                  FROM pg_type ty JOIN pg_attribute at ON at.attrelid = ty.typrelid
                 WHERE ty.oid = p.prorettype AND ty.typrelid <> 0 AND at.attnum > 0) c
 WHERE p.pronamespace = 'dbopt'::regnamespace
   AND c.t IN ('double precision'::regtype, 'numeric'::regtype)
   AND NOT EXISTS (SELECT FROM rules r WHERE r.report = p.proname AND r.col = c.col)
 GROUP BY 1, 2 ORDER BY 1, 2;

-- Every column of the rules has values, and none has more decimals (or
-- significant digits) than its rule allows.
SELECT r.report, r.col, count(s.v) > 0 AS values_seen,
       count(*) FILTER (WHERE CASE WHEN r.significant
                                   THEN s.v > 0 AND s.v <> round(s.v::numeric, r.digits - 1 - floor(log(s.v::numeric))::int)::float8
                                   ELSE s.v <> round(s.v::numeric, r.digits)::float8 END) AS too_precise
  FROM rules r LEFT JOIN seen s USING (report, col)
 GROUP BY 1, 2 ORDER BY 1, 2;

RESET search_path;
DELETE FROM dbopt.maintenance_log;
SET client_min_messages = warning;
DROP SCHEMA "round ""s""" CASCADE;
RESET client_min_messages;
