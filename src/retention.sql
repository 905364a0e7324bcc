-- src/retention.sql: row-retention policies (the SQL of src/retention.c)

-- One policy per table: rows whose time_column is older than now() - keep
-- are deleted, or moved to archive_table, in batches.  Rows that a foreign
-- key with ON DELETE NO ACTION or RESTRICT references cannot be deleted:
-- on_referenced 'skip' keeps them (counted in detail), 'error' stops the
-- policy before any row goes.
CREATE TABLE dbopt.retention_policies (
    relation          regclass PRIMARY KEY,
    time_column       name NOT NULL,
    keep              interval NOT NULL CHECK (keep > '0'::interval),
    mode              text NOT NULL DEFAULT 'delete' CHECK (mode IN ('delete', 'archive')),
    archive_table     regclass,
    batch_size        integer NOT NULL DEFAULT 10000 CHECK (batch_size BETWEEN 1 AND 1000000),
    max_rows_per_run  bigint CHECK (max_rows_per_run > 0),
    enabled           boolean NOT NULL DEFAULT true,
    last_run_at       timestamptz,
    last_rows         bigint,
    last_status       text,
    registered_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    registered_by     name NOT NULL DEFAULT CURRENT_USER,
    on_referenced     text NOT NULL DEFAULT 'skip' CHECK (on_referenced IN ('skip', 'error')),
    CHECK ((mode = 'archive') = (archive_table IS NOT NULL))
);
COMMENT ON TABLE dbopt.retention_policies IS
    'Row-retention policies registered with dbopt.add_retention_policy(): what to keep, how old rows go, and the last run';
SELECT pg_catalog.pg_extension_config_dump('dbopt.retention_policies', '');
REVOKE ALL ON dbopt.retention_policies FROM PUBLIC;
GRANT SELECT ON dbopt.retention_policies TO pg_monitor;

CREATE FUNCTION dbopt.remove_retention_policy(relation regclass)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dbopt_remove_retention_policy'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.remove_retention_policy(regclass) IS
    'Remove a table''s retention policy; its rows and any archive table are left as they are; true if there was one';
REVOKE ALL ON FUNCTION dbopt.remove_retention_policy(regclass) FROM PUBLIC;

CREATE FUNCTION dbopt.apply_data_retention_policies(dry_run boolean DEFAULT false)
RETURNS TABLE (
    relation regclass, mode text, cutoff timestamp with time zone, rows_deleted bigint,
    rows_archived bigint, partitions_dropped integer, batches integer, duration_ms double precision,
    status text, detail text)
AS 'MODULE_PATHNAME', 'dbopt_apply_data_retention_policies'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.apply_data_retention_policies(boolean) IS
    'Apply every retention policy in one transaction: whole partitions first, then batched deletes (or archive moves) below now() - keep; a failing policy is reported as error and the others still run';
REVOKE ALL ON FUNCTION dbopt.apply_data_retention_policies(boolean) FROM PUBLIC;

CREATE PROCEDURE dbopt.run_data_retention(IN max_duration interval DEFAULT NULL)
AS 'MODULE_PATHNAME', 'dbopt_run_data_retention'
LANGUAGE C;
COMMENT ON PROCEDURE dbopt.run_data_retention(interval) IS
    'Apply every retention policy, committing after each batch and pausing dbopt.retention_batch_delay between batches; stops cleanly at max_duration and the next call resumes';
REVOKE ALL ON PROCEDURE dbopt.run_data_retention(interval) FROM PUBLIC;

-- The same with keep as text: a literal such as '90' (which PostgreSQL
-- would read as 90 seconds) is refused; the unit is required.
CREATE FUNCTION dbopt.add_retention_policy(
    relation regclass, time_column name, keep interval, mode text DEFAULT 'delete'::text,
    archive_table regclass DEFAULT NULL, batch_size integer DEFAULT 10000,
    max_rows_per_run bigint DEFAULT NULL, enabled boolean DEFAULT true,
    on_referenced text DEFAULT 'skip'::text)
RETURNS dbopt.retention_policies
AS 'MODULE_PATHNAME', 'dbopt_add_retention_policy'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.add_retention_policy(regclass,name,interval,text,regclass,integer,bigint,boolean,text) IS
    'Register (or replace) the retention policy of a table: keep rows newer than now() - keep by a timestamptz, timestamp or date column; rows referenced under NO ACTION/RESTRICT are kept (on_referenced => ''skip'') or stop the policy (''error''); archive mode creates <table>_archive when no archive_table is given; the caller must own both tables';
REVOKE ALL ON FUNCTION dbopt.add_retention_policy(regclass,name,interval,text,regclass,integer,bigint,boolean,text) FROM PUBLIC;

CREATE FUNCTION dbopt.add_retention_policy(
    relation regclass, time_column name, keep text, mode text DEFAULT 'delete'::text,
    archive_table regclass DEFAULT NULL, batch_size integer DEFAULT 10000,
    max_rows_per_run bigint DEFAULT NULL, enabled boolean DEFAULT true,
    on_referenced text DEFAULT 'skip'::text)
RETURNS dbopt.retention_policies
AS 'MODULE_PATHNAME', 'dbopt_add_retention_policy'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.add_retention_policy(regclass,name,text,text,regclass,integer,bigint,boolean,text) IS
    'add_retention_policy() with keep written as text, such as ''90 days'': a bare number is refused, since it would mean seconds';
REVOKE ALL ON FUNCTION dbopt.add_retention_policy(regclass,name,text,text,regclass,integer,bigint,boolean,text) FROM PUBLIC;
