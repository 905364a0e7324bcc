-- One statement at a time from the client, generic plans forced; the
-- loop's own statements are kept out of pg_stat_statements.
SET pg_stat_statements.track_utility = off;
SET plan_cache_mode = force_generic_plan;
SELECT s FROM anchor_loop ORDER BY n \gexec
