/* dbopt--0.6--0.7.sql: performance snapshots */

\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.7'" to load this file. \quit

-- One row per dbopt.take_snapshot(): when, whether pg_stat_statements was
-- readable (and its eviction count and reset time, so comparisons can tell
-- untrustworthy windows), and server-wide state as jsonb.
CREATE TABLE dbopt.snapshots (
    snap_id          bigserial PRIMARY KEY,
    taken_at         timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    pgss_available   boolean NOT NULL,
    pgss_dealloc     bigint,
    pgss_stats_reset timestamptz,
    server           jsonb NOT NULL
);
CREATE INDEX ON dbopt.snapshots (taken_at);
COMMENT ON TABLE dbopt.snapshots IS
    'Snapshots taken by dbopt.take_snapshot(); server holds bgwriter, archiver, replication, activity and connection figures';

-- Cumulative pg_stat_statements counters per snapshot; texts are kept once
-- per (dbid, queryid) in dbopt.query_texts.
CREATE TABLE dbopt.snapshot_statements (
    snap_id             bigint NOT NULL REFERENCES dbopt.snapshots ON DELETE CASCADE,
    userid              oid NOT NULL,
    dbid                oid NOT NULL,
    queryid             bigint NOT NULL,
    toplevel            boolean NOT NULL,
    calls               bigint NOT NULL,
    total_exec_time     double precision NOT NULL,
    mean_exec_time      double precision NOT NULL,
    stddev_exec_time    double precision NOT NULL,
    plans               bigint NOT NULL,
    total_plan_time     double precision NOT NULL,
    rows                bigint NOT NULL,
    shared_blks_hit     bigint NOT NULL,
    shared_blks_read    bigint NOT NULL,
    shared_blks_dirtied bigint NOT NULL,
    shared_blks_written bigint NOT NULL,
    temp_blks_read      bigint NOT NULL,
    temp_blks_written   bigint NOT NULL,
    wal_bytes           numeric NOT NULL,
    PRIMARY KEY (snap_id, userid, dbid, queryid, toplevel)
);
CREATE TABLE dbopt.query_texts (
    dbid       oid NOT NULL,
    queryid    bigint NOT NULL,
    query      text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (dbid, queryid)
);
CREATE TABLE dbopt.snapshot_databases (
    snap_id bigint NOT NULL REFERENCES dbopt.snapshots ON DELETE CASCADE,
    datid oid NOT NULL, datname name, numbackends integer,
    xact_commit bigint, xact_rollback bigint, blks_read bigint, blks_hit bigint,
    tup_returned bigint, tup_fetched bigint, tup_inserted bigint, tup_updated bigint, tup_deleted bigint,
    conflicts bigint, temp_files bigint, temp_bytes bigint, deadlocks bigint,
    blk_read_time double precision, blk_write_time double precision, stats_reset timestamptz,
    PRIMARY KEY (snap_id, datid)
);
CREATE TABLE dbopt.snapshot_tables (
    snap_id bigint NOT NULL REFERENCES dbopt.snapshots ON DELETE CASCADE,
    relid oid NOT NULL, relation text NOT NULL,
    seq_scan bigint, seq_tup_read bigint, idx_scan bigint, idx_tup_fetch bigint,
    n_tup_ins bigint, n_tup_upd bigint, n_tup_del bigint, n_tup_hot_upd bigint,
    n_live_tup bigint, n_dead_tup bigint,
    vacuum_count bigint, autovacuum_count bigint, analyze_count bigint, autoanalyze_count bigint,
    last_vacuum timestamptz, last_autovacuum timestamptz, last_analyze timestamptz, last_autoanalyze timestamptz,
    bytes bigint,
    PRIMARY KEY (snap_id, relid)
);
CREATE TABLE dbopt.snapshot_indexes (
    snap_id bigint NOT NULL REFERENCES dbopt.snapshots ON DELETE CASCADE,
    indexrelid oid NOT NULL, relid oid NOT NULL, index_name text NOT NULL,
    idx_scan bigint, idx_tup_read bigint, idx_tup_fetch bigint, bytes bigint,
    PRIMARY KEY (snap_id, indexrelid)
);
CREATE INDEX ON dbopt.snapshot_statements (dbid, queryid);
COMMENT ON TABLE dbopt.snapshot_statements IS
    'pg_stat_statements counters per snapshot and (userid, dbid, queryid, toplevel); cumulative, as read';
COMMENT ON TABLE dbopt.query_texts IS
    'Statement texts, kept once per (dbid, queryid) from the first snapshot that saw them';
COMMENT ON TABLE dbopt.snapshot_databases IS 'pg_stat_database per snapshot';
COMMENT ON TABLE dbopt.snapshot_tables IS 'pg_stat_user_tables per snapshot, with the size from pg_class';
COMMENT ON TABLE dbopt.snapshot_indexes IS 'pg_stat_user_indexes per snapshot, with the size from pg_class';
REVOKE ALL ON dbopt.snapshots, dbopt.snapshot_statements, dbopt.query_texts, dbopt.snapshot_databases,
    dbopt.snapshot_tables, dbopt.snapshot_indexes FROM PUBLIC;
GRANT SELECT ON dbopt.snapshots, dbopt.snapshot_statements, dbopt.query_texts, dbopt.snapshot_databases,
    dbopt.snapshot_tables, dbopt.snapshot_indexes TO pg_monitor;

CREATE FUNCTION dbopt.take_snapshot()
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_take_snapshot'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.take_snapshot() IS
    'Record pg_stat_statements (never reset), pg_stat_database, user tables and indexes, activity, connections, bgwriter, archiver and replication into dbopt.snapshot_*; returns the snapshot id';

CREATE FUNCTION dbopt.purge_snapshots(keep interval DEFAULT '14 days')
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_snapshots'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION dbopt.purge_snapshots(interval) IS
    'Delete snapshots older than keep, and query texts no snapshot refers to any more; returns the number of snapshots deleted';

REVOKE ALL ON FUNCTION dbopt.take_snapshot() FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.purge_snapshots(interval) FROM PUBLIC;

-- The default snapshot job now has its function: switch it on.
UPDATE dbopt.jobs SET enabled = true, next_run_at = pg_catalog.now() + interval '15 minutes'
 WHERE is_default AND kind = 'snapshot';
