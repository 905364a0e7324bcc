-- One statement at a time from the client, generic plans forced (PostgreSQL 15
-- has no EXPLAIN (GENERIC_PLAN)).  The loop's own EXPLAINs are kept out of
-- pg_stat_statements, so both sides see the same 500 statements.
SET pg_stat_statements.track_utility = off;
SET plan_cache_mode = force_generic_plan;
SELECT s FROM anchor_loop ORDER BY n \gexec
