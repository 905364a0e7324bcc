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
