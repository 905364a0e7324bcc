-- dbopt 0.9 -> 0.10: truth (issue #19): every dry run predicts its real run,
-- and no advice does harm.
\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.10'" to load this file. \quit

-- ==== partitions: one plan for dry and real runs; coexistence ====

-- backfill: also fill the gaps below the newest partition (by default only
-- the stretch from the newest partition forward is filled, as pg_partman
-- does).  force: manage the table although pg_partman or TimescaleDB
-- manages it too.
ALTER TABLE dbopt.partition_config
    ADD COLUMN backfill boolean NOT NULL DEFAULT false,
    ADD COLUMN force boolean NOT NULL DEFAULT false;

DROP FUNCTION dbopt.manage_partitions(regclass, text, integer, text, text);
CREATE FUNCTION dbopt.manage_partitions(
    parent regclass,
    partition_interval text,
    premake integer DEFAULT 4,
    retention text DEFAULT NULL,
    retention_mode text DEFAULT 'drop',
    backfill boolean DEFAULT false,
    force boolean DEFAULT false)
RETURNS dbopt.partition_config
AS 'MODULE_PATHNAME', 'dbopt_manage_partitions'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.manage_partitions(regclass, text, integer, text, text, boolean, boolean) IS
    'Register (or re-register) a table partitioned by range on one time or integer column; interval and retention need their unit and are checked against the key type; refuses a table pg_partman or TimescaleDB manages unless force; the caller must own the table';
REVOKE ALL ON FUNCTION dbopt.manage_partitions(regclass, text, integer, text, text, boolean, boolean) FROM PUBLIC;

DROP FUNCTION dbopt.drop_old_partitions(regclass, text, text, boolean);
CREATE FUNCTION dbopt.drop_old_partitions(
    parent regclass,
    older_than text,
    mode text DEFAULT 'drop',
    dry_run boolean DEFAULT false,
    force boolean DEFAULT false)
RETURNS SETOF dbopt.partition_action
AS 'MODULE_PATHNAME', 'dbopt_drop_old_partitions'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.drop_old_partitions(regclass, text, text, boolean, boolean) IS
    'Drop or detach the partitions of any range-partitioned table whose whole range is older than older_than (with its unit), under dbopt.lock_timeout, skipping busy ones; refuses a table another tool manages unless force; the caller must own the table';
REVOKE ALL ON FUNCTION dbopt.drop_old_partitions(regclass, text, text, boolean, boolean) FROM PUBLIC;

COMMENT ON FUNCTION dbopt.create_future_partitions(regclass, boolean, boolean) IS
    'Create the partitions a registered table needs up to premake intervals ahead, from its newest partition forward (every gap with backfill), never below its retention cutoff, named like its existing partitions; rows in the default partition that block one are reported (default_has_rows) or moved in one transaction';
COMMENT ON FUNCTION dbopt.run_partition_maintenance(boolean) IS
    'For every registered table: one plan (future partitions, then retention over the table as it will be), described in a dry run and carried out otherwise; one summary row per table';

-- ==== retention: referenced rows ====

-- ==== health, snapshots, regressions ====

-- ==== integrity, status, fix_sql ====

-- ==== compliance ====
