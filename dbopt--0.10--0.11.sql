-- dbopt 0.10 -> 0.11: index verdicts a DBA can act on (issue #20): evidence
-- that survives crashes and resets, confidence, a what-if drop, standbys,
-- partition-level duplicates and an advisor that reads real workloads.
\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.11'" to load this file. \quit

-- ==== what-if drop (issue #20, item 3) ====
-- No SET search_path: the statements are parsed with the caller's, as
-- suggest_indexes does; dbopt's own statement pins it.
CREATE FUNCTION dbopt.simulate_drop_index(index regclass, min_calls bigint DEFAULT 1)
RETURNS TABLE (queryid bigint, query text, calls bigint, cost_with numeric, cost_without numeric,
               uses_index boolean)
AS 'MODULE_PATHNAME', 'dbopt_simulate_drop_index'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.simulate_drop_index(regclass, bigint) IS
    'The statements of pg_stat_statements on the index''s table, planned generically with the index and again with it hidden from the planner (and its partition indexes): no DDL, no lock beyond planning';
REVOKE ALL ON FUNCTION dbopt.simulate_drop_index(regclass, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.simulate_drop_index(regclass, bigint) TO pg_monitor;
