-- src/partitions.sql: range-partition management (the SQL of src/partitions.c)

-- One row per partitioned table whose partitions dbopt keeps: how wide a
-- partition is, how many to keep ready, and what to do with old ones.
-- Bounds are never stored here: they are read from the catalog each time.
-- backfill: also fill the gaps below the newest partition (by default only
-- the stretch from the newest partition forward is filled, as pg_partman
-- does).  force: manage the table although pg_partman or TimescaleDB
-- manages it too.
CREATE TABLE dbopt.partition_config (
    parent              regclass PRIMARY KEY,
    partition_interval  text NOT NULL,   -- interval literal (time keys) or integer literal
    premake             integer NOT NULL DEFAULT 4 CHECK (premake BETWEEN 0 AND 1000),
    retention           text,            -- NULL: keep forever
    retention_mode      text NOT NULL DEFAULT 'drop' CHECK (retention_mode IN ('drop', 'detach')),
    key_column          name NOT NULL,
    key_type            regtype NOT NULL,
    registered_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    registered_by       name NOT NULL DEFAULT CURRENT_USER,
    last_maintenance_at timestamptz,
    backfill            boolean NOT NULL DEFAULT false,
    force               boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE dbopt.partition_config IS
    'Range-partitioned tables registered with dbopt.manage_partitions(): partition width, premake, retention and retention mode';
SELECT pg_catalog.pg_extension_config_dump('dbopt.partition_config', '');
REVOKE ALL ON dbopt.partition_config FROM PUBLIC;
GRANT SELECT ON dbopt.partition_config TO pg_monitor;

-- Row types of the functions whose argument and first column are both
-- named parent (a function cannot declare the same name as IN and OUT).
CREATE TYPE dbopt.partition_action AS (
    parent regclass, partition_name text, range_from text, range_to text,
    action text, rows_estimate bigint, bytes bigint, detail text);
COMMENT ON TYPE dbopt.partition_action IS
    'One partition considered by drop_old_partitions(): action is dropped, detached, would drop, would detach or skipped';
CREATE TYPE dbopt.partition_created AS (
    parent regclass, partition_name text, range_from text, range_to text,
    action text, rows_moved bigint, detail text, fix_sql text);
COMMENT ON TYPE dbopt.partition_created IS
    'One partition planned by create_future_partitions(): action is created, would create, default_has_rows or skipped';
CREATE TYPE dbopt.partition_distribution AS (
    parent regclass, partition_name text, range_from text, range_to text,
    is_default boolean, row_estimate bigint, bytes bigint, share_pct numeric,
    flags text[]);
COMMENT ON TYPE dbopt.partition_distribution IS
    'One partition in analyze_partition_distribution()';

CREATE FUNCTION dbopt.unmanage_partitions(parent regclass)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dbopt_unmanage_partitions'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.unmanage_partitions(regclass) IS
    'Remove a table from dbopt.partition_config; its partitions are left as they are; true if it was registered';
REVOKE ALL ON FUNCTION dbopt.unmanage_partitions(regclass) FROM PUBLIC;

CREATE FUNCTION dbopt.create_future_partitions(
    parent regclass DEFAULT NULL, move_default_rows boolean DEFAULT false,
    dry_run boolean DEFAULT false)
RETURNS SETOF dbopt.partition_created
AS 'MODULE_PATHNAME', 'dbopt_create_future_partitions'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.create_future_partitions(regclass,boolean,boolean) IS
    'Create the partitions a registered table needs up to premake intervals ahead, from its newest partition forward (every gap with backfill), never below its retention cutoff, named like its existing partitions; rows in the default partition that block one are reported (default_has_rows) or moved in one transaction';
REVOKE ALL ON FUNCTION dbopt.create_future_partitions(regclass,boolean,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.drop_old_partitions(retention_months integer, dry_run boolean DEFAULT false)
RETURNS SETOF dbopt.partition_action
AS 'MODULE_PATHNAME', 'dbopt_drop_old_partitions_months'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.drop_old_partitions(integer,boolean) IS
    'Keep retention_months months in every registered time-partitioned table: older partitions are dropped or detached (per registration) under dbopt.lock_timeout';
REVOKE ALL ON FUNCTION dbopt.drop_old_partitions(integer,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.run_partition_maintenance(
    dry_run boolean DEFAULT false, OUT parent regclass, OUT partitions_created integer,
    OUT partitions_dropped integer, OUT partitions_detached integer, OUT partitions_skipped integer,
    OUT status text, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_run_partition_maintenance'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.run_partition_maintenance(boolean) IS
    'For every registered table: one plan (future partitions, then retention over the table as it will be), described in a dry run and carried out otherwise; one summary row per table';
REVOKE ALL ON FUNCTION dbopt.run_partition_maintenance(boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.analyze_partition_distribution(
    parent regclass DEFAULT NULL, exact boolean DEFAULT false)
RETURNS SETOF dbopt.partition_distribution
AS 'MODULE_PATHNAME', 'dbopt_analyze_partition_distribution'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.analyze_partition_distribution(regclass,boolean) IS
    'One row per partition with bounds from the catalog, rows, bytes and share, flagged empty, oversized, default_has_rows, gap_before, missing_future or straddles_retention';
REVOKE ALL ON FUNCTION dbopt.analyze_partition_distribution(regclass,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.analyze_partition_distribution(regclass,boolean) TO pg_monitor;

CREATE FUNCTION dbopt.manage_partitions(
    parent regclass, partition_interval text, premake integer DEFAULT 4,
    retention text DEFAULT NULL, retention_mode text DEFAULT 'drop'::text,
    backfill boolean DEFAULT false, force boolean DEFAULT false)
RETURNS dbopt.partition_config
AS 'MODULE_PATHNAME', 'dbopt_manage_partitions'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.manage_partitions(regclass,text,integer,text,text,boolean,boolean) IS
    'Register (or re-register) a table partitioned by range on one time or integer column; interval and retention need their unit and are checked against the key type; refuses a table pg_partman or TimescaleDB manages unless force; the caller must own the table';
REVOKE ALL ON FUNCTION dbopt.manage_partitions(regclass,text,integer,text,text,boolean,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.drop_old_partitions(
    parent regclass, older_than text, mode text DEFAULT 'drop'::text, dry_run boolean DEFAULT false,
    force boolean DEFAULT false)
RETURNS SETOF dbopt.partition_action
AS 'MODULE_PATHNAME', 'dbopt_drop_old_partitions'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.drop_old_partitions(regclass,text,text,boolean,boolean) IS
    'Drop or detach the partitions of any range-partitioned table whose whole range is older than older_than (with its unit), under dbopt.lock_timeout, skipping busy ones; refuses a table another tool manages unless force; the caller must own the table';
REVOKE ALL ON FUNCTION dbopt.drop_old_partitions(regclass,text,text,boolean,boolean) FROM PUBLIC;
