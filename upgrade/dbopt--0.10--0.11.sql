-- dbopt 0.10 -> 0.11: index verdicts a DBA can act on (issue #20): evidence
-- that survives crashes and resets, confidence, a what-if drop, standbys,
-- partition-level duplicates and an advisor that reads real workloads.
\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.11'" to load this file. \quit

-- ==== index evidence: the statistics epoch and observation windows ====

CREATE FUNCTION dbopt.stats_epoch(OUT stats_since timestamptz, OUT source text)
RETURNS record
AS 'MODULE_PATHNAME', 'dbopt_stats_epoch_sql'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.stats_epoch() IS
    'Since when the usage counters of this database run: the latest reset the server shows (pg_stat_database, or the shared statistics, which crash recovery resets all at once), and which one it was';
REVOKE ALL ON FUNCTION dbopt.stats_epoch() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.stats_epoch() TO pg_monitor;

-- Fed by take_snapshot(): per index, the scans seen and the time observed
-- without a scan, summed over the windows between snapshots, so that a
-- crash or a reset loses only the window it cut short.  Not dumped: the
-- OIDs and the counters belong to this cluster.
CREATE TABLE dbopt.index_observations (
    indexrelid    oid PRIMARY KEY,
    index_name    text NOT NULL,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    last_idx_scan bigint NOT NULL,
    last_epoch    timestamptz NOT NULL,
    scans         bigint NOT NULL,
    idle          interval NOT NULL,
    last_used     timestamptz,
    resets        integer NOT NULL DEFAULT 0
);
COMMENT ON TABLE dbopt.index_observations IS
    'Per index, from the snapshots: scans seen (scans), time observed without a scan since the last one (idle), windows cut short by a reset or crash (resets)';
REVOKE ALL ON dbopt.index_observations FROM PUBLIC;
GRANT SELECT ON dbopt.index_observations TO pg_monitor;

-- analyze_index_usage(): evidence columns.  stats_since is the epoch above;
-- scans_observed and unused_for add what snapshots saw before it;
-- standby_scans comes from the registered standbys; confidence grades the
-- unused, duplicate and redundant verdicts, with the reasons in
-- recommendation.
DROP FUNCTION dbopt.analyze_index_usage(text, interval, boolean, boolean);
DROP FUNCTION dbopt.analyze_index_usage(text, text, boolean, boolean);
CREATE FUNCTION dbopt.analyze_index_usage(
    schema_name text DEFAULT NULL,
    min_stats_age interval DEFAULT '7 days',
    include_suppressed boolean DEFAULT false,
    include_extension_objects boolean DEFAULT false,
    OUT schemaname name, OUT tablename name, OUT indexname name,
    OUT index regclass, OUT index_size_bytes bigint, OUT table_size_bytes bigint,
    OUT scans bigint, OUT tuples_read bigint, OUT tuples_fetched bigint,
    OUT is_unique boolean, OUT is_primary boolean, OUT backs_constraint boolean,
    OUT is_valid boolean, OUT stats_since timestamptz,
    OUT bloat_bytes_estimate bigint, OUT findings text[],
    OUT recommendation text, OUT fix_sql text,
    OUT stats_source text, OUT scans_observed bigint, OUT unused_for interval,
    OUT standby_scans bigint, OUT confidence text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_analyze_index_usage'
LANGUAGE C CALLED ON NULL INPUT STABLE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.analyze_index_usage(text, interval, boolean, boolean) IS
    'One row per index on user tables: size, scans, constraint role, bloat estimate, finding codes (unused, unused_recent_stats, duplicate, redundant, invalid, bloated) and the SQL to fix them, with the evidence behind them (statistics epoch, scans and idle time over snapshot windows, standby scans) and a confidence for unused, duplicate and redundant; indexes of extension member tables only with include_extension_objects, and never with a fix';
REVOKE ALL ON FUNCTION dbopt.analyze_index_usage(text, interval, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.analyze_index_usage(text, interval, boolean, boolean) TO pg_monitor;

CREATE FUNCTION dbopt.analyze_index_usage(
    schema_name text,
    min_stats_age text,
    include_suppressed boolean DEFAULT false,
    include_extension_objects boolean DEFAULT false,
    OUT schemaname name, OUT tablename name, OUT indexname name,
    OUT index regclass, OUT index_size_bytes bigint, OUT table_size_bytes bigint,
    OUT scans bigint, OUT tuples_read bigint, OUT tuples_fetched bigint,
    OUT is_unique boolean, OUT is_primary boolean, OUT backs_constraint boolean,
    OUT is_valid boolean, OUT stats_since timestamptz,
    OUT bloat_bytes_estimate bigint, OUT findings text[],
    OUT recommendation text, OUT fix_sql text,
    OUT stats_source text, OUT scans_observed bigint, OUT unused_for interval,
    OUT standby_scans bigint, OUT confidence text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_analyze_index_usage'
LANGUAGE C CALLED ON NULL INPUT STABLE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.analyze_index_usage(text, text, boolean, boolean) IS
    'analyze_index_usage() with min_stats_age written as text, such as ''7 days'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.analyze_index_usage(text, text, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.analyze_index_usage(text, text, boolean, boolean) TO pg_monitor;

-- ==== standbys ====
-- Hot standbys whose index scans count in analyze_index_usage(): an index
-- used only by reports on a standby is not unused.  conninfo may hold a
-- password, so the table is read only by its owner; pg_monitor sees the
-- names through dbopt.registered_standbys.
CREATE TABLE dbopt.standbys (
    name      text PRIMARY KEY
              CHECK (name OPERATOR(pg_catalog.<>) '' AND pg_catalog.octet_length(name) OPERATOR(pg_catalog.<) 64),
    conninfo  text NOT NULL CHECK (conninfo OPERATOR(pg_catalog.<>) ''),
    added_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    added_by  name NOT NULL
);
COMMENT ON TABLE dbopt.standbys IS
    'Hot standbys registered with dbopt.add_standby(): name (its application_name in pg_stat_replication) and libpq connection string or foreign server name for dblink';
SELECT pg_catalog.pg_extension_config_dump('dbopt.standbys', '');
REVOKE ALL ON dbopt.standbys FROM PUBLIC;

CREATE VIEW dbopt.registered_standbys AS
    SELECT s.name, s.added_at, s.added_by FROM dbopt.standbys s;
COMMENT ON VIEW dbopt.registered_standbys IS
    'The registered standbys without their connection strings';
REVOKE ALL ON dbopt.registered_standbys FROM PUBLIC;
GRANT SELECT ON dbopt.registered_standbys TO pg_monitor;

CREATE FUNCTION dbopt.add_standby(name text, conninfo text)
RETURNS void
AS 'MODULE_PATHNAME', 'dbopt_add_standby'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.add_standby(text, text) IS
    'Register a hot standby of this server: name is its application_name (as in pg_stat_replication), conninfo a libpq connection string to the same database on it, or the name of a postgres_fdw foreign server; its idx_scan then counts in analyze_index_usage()';
REVOKE ALL ON FUNCTION dbopt.add_standby(text, text) FROM PUBLIC;

CREATE FUNCTION dbopt.remove_standby(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'dbopt_remove_standby'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.remove_standby(text) IS
    'Unregister a standby registered with dbopt.add_standby()';
REVOKE ALL ON FUNCTION dbopt.remove_standby(text) FROM PUBLIC;

CREATE FUNCTION dbopt.standby_index_usage()
RETURNS TABLE (standby text, indexrelid oid, schemaname name, indexname name,
               idx_scan bigint, stats_epoch timestamptz, problem text)
AS 'MODULE_PATHNAME', 'dbopt_standby_index_usage'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.standby_index_usage() IS
    'idx_scan of every user index on each registered standby (through dblink, as the caller), with the standby''s statistics epoch; a standby that cannot be read, and a walsender that is not registered, give a row with the problem';
REVOKE ALL ON FUNCTION dbopt.standby_index_usage() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.standby_index_usage() TO pg_monitor;

-- CREATE EXTENSION dbopt CASCADE puts pg_stat_statements into schema dbopt,
-- where 0.1's REVOKE ... IN SCHEMA dbopt FROM PUBLIC took away its own
-- grants: the reports granted to pg_monitor that read it failed for
-- pg_monitor members.  pg_monitor gets back what pg_stat_statements grants.
DO $$
BEGIN
    IF (SELECT e.extnamespace FROM pg_catalog.pg_extension e
         WHERE e.extname OPERATOR(pg_catalog.=) 'pg_stat_statements')
       OPERATOR(pg_catalog.=) 'dbopt'::pg_catalog.regnamespace THEN
        GRANT SELECT ON dbopt.pg_stat_statements, dbopt.pg_stat_statements_info TO pg_monitor;
        GRANT EXECUTE ON FUNCTION dbopt.pg_stat_statements(boolean), dbopt.pg_stat_statements_info()
            TO pg_monitor;
    END IF;
END $$;

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
