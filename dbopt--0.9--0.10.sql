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

-- Rows that a foreign key with ON DELETE NO ACTION or RESTRICT references
-- cannot be deleted: 'skip' keeps them (counted in detail), 'error' stops
-- the policy before any row goes.  Both runs find them first, so a dry
-- run's promise holds.
ALTER TABLE dbopt.retention_policies
    ADD COLUMN on_referenced text NOT NULL DEFAULT 'skip' CHECK (on_referenced IN ('skip', 'error'));

DROP FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean);
CREATE FUNCTION dbopt.add_retention_policy(
    relation regclass,
    time_column name,
    keep interval,
    mode text DEFAULT 'delete',
    archive_table regclass DEFAULT NULL,
    batch_size integer DEFAULT 10000,
    max_rows_per_run bigint DEFAULT NULL,
    enabled boolean DEFAULT true,
    on_referenced text DEFAULT 'skip')
RETURNS dbopt.retention_policies
AS 'MODULE_PATHNAME', 'dbopt_add_retention_policy'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean, text) IS
    'Register (or replace) the retention policy of a table: keep rows newer than now() - keep by a timestamptz, timestamp or date column; rows referenced under NO ACTION/RESTRICT are kept (on_referenced => ''skip'') or stop the policy (''error''); archive mode creates <table>_archive when no archive_table is given; the caller must own both tables';
-- The same with keep as text: a literal such as '90' (which PostgreSQL
-- would read as 90 seconds) is refused; the unit is required.
CREATE FUNCTION dbopt.add_retention_policy(
    relation regclass,
    time_column name,
    keep text,
    mode text DEFAULT 'delete',
    archive_table regclass DEFAULT NULL,
    batch_size integer DEFAULT 10000,
    max_rows_per_run bigint DEFAULT NULL,
    enabled boolean DEFAULT true,
    on_referenced text DEFAULT 'skip')
RETURNS dbopt.retention_policies
AS 'MODULE_PATHNAME', 'dbopt_add_retention_policy'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.add_retention_policy(regclass, name, text, text, regclass, integer, bigint, boolean, text) IS
    'add_retention_policy() with keep written as text, such as ''90 days'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.add_retention_policy(regclass, name, text, text, regclass, integer, bigint, boolean, text) FROM PUBLIC;

CREATE FUNCTION dbopt.purge_audit_log(older_than text, dry_run boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dbopt_purge_audit_log'
LANGUAGE C VOLATILE CALLED ON NULL INPUT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.purge_audit_log(text, boolean) IS
    'purge_audit_log() with older_than written as text, such as ''1 year'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.purge_audit_log(text, boolean) FROM PUBLIC;

-- ==== health, snapshots, regressions ====

-- ==== integrity, status, fix_sql ====

-- ==== compliance ====
