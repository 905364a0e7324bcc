-- dbopt demo: the index advisor.  Part 1: suggestions, verified with HypoPG,
-- and the top one created.  (scripts/demo then runs the workload again
-- between two snapshots, and demo/advisor-after.sql compares.)
\pset null '-'
CREATE EXTENSION IF NOT EXISTS hypopg;
\echo
\echo '== dbopt.suggest_indexes(): indexes the workload needs, checked by the planner with hypothetical indexes =='
SELECT relation, columns, improvement_pct,
       pg_size_pretty(index_bytes_estimate) AS size, write_overhead_pct,
       verified_by, calls, index_sql
  FROM dbopt.suggest_indexes(min_mean_ms => 0.1);
-- Kept for the comparison after the second run.
CREATE TABLE public.demo_advice AS
SELECT relation, columns, queryids, index_sql FROM dbopt.suggest_indexes(min_mean_ms => 0.1, max_suggestions => 1);
\echo
\echo '== creating the top suggestion =='
SELECT index_sql FROM public.demo_advice \gexec
