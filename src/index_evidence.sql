-- src/index_evidence.sql: statistics epoch and per-index observation windows (the SQL of src/index_evidence.c)

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

CREATE FUNCTION dbopt.stats_epoch(OUT stats_since timestamp with time zone, OUT source text)
RETURNS record
AS 'MODULE_PATHNAME', 'dbopt_stats_epoch_sql'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.stats_epoch() IS
    'Since when the usage counters of this database run: the latest reset the server shows (pg_stat_database, or the shared statistics, which crash recovery resets all at once), and which one it was';
REVOKE ALL ON FUNCTION dbopt.stats_epoch() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.stats_epoch() TO pg_monitor;
