-- src/index_whatif.sql: what-if drop of an index (the SQL of src/index_whatif.c)

-- No SET search_path: the statements are parsed with the caller's, as
-- suggest_indexes does; dbopt's own statement pins it.
CREATE FUNCTION dbopt.simulate_drop_index(index regclass, min_calls bigint DEFAULT 1)
RETURNS TABLE (
    queryid bigint, query text, calls bigint, cost_with numeric, cost_without numeric,
    uses_index boolean)
AS 'MODULE_PATHNAME', 'dbopt_simulate_drop_index'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.simulate_drop_index(regclass,bigint) IS
    'The statements of pg_stat_statements on the index''s table, planned generically with the index and again with it hidden from the planner (and its partition indexes): no DDL, no lock beyond planning';
REVOKE ALL ON FUNCTION dbopt.simulate_drop_index(regclass,bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.simulate_drop_index(regclass,bigint) TO pg_monitor;
