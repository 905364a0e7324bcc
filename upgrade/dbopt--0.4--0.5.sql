/* dbopt--0.4--0.5.sql: row-retention policies */

\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.5'" to load this file. \quit

-- One policy per table: rows whose time_column is older than now() - keep
-- are deleted, or moved to archive_table, in batches.
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
    CHECK ((mode = 'archive') = (archive_table IS NOT NULL))
);
COMMENT ON TABLE dbopt.retention_policies IS
    'Row-retention policies registered with dbopt.add_retention_policy(): what to keep, how old rows go, and the last run';
SELECT pg_catalog.pg_extension_config_dump('dbopt.retention_policies', '');
REVOKE ALL ON dbopt.retention_policies FROM PUBLIC;
GRANT SELECT ON dbopt.retention_policies TO pg_monitor;

CREATE FUNCTION dbopt.add_retention_policy(
    relation regclass,
    time_column name,
    keep interval,
    mode text DEFAULT 'delete',
    archive_table regclass DEFAULT NULL,
    batch_size integer DEFAULT 10000,
    max_rows_per_run bigint DEFAULT NULL,
    enabled boolean DEFAULT true)
RETURNS dbopt.retention_policies
AS 'MODULE_PATHNAME', 'dbopt_add_retention_policy'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean) IS
    'Register (or replace) the retention policy of a table: keep rows newer than now() - keep by a timestamptz, timestamp or date column; archive mode creates <table>_archive when no archive_table is given; the caller must own both tables';

CREATE FUNCTION dbopt.remove_retention_policy(relation regclass)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dbopt_remove_retention_policy'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION dbopt.remove_retention_policy(regclass) IS
    'Remove a table''s retention policy; its rows and any archive table are left as they are; true if there was one';

CREATE FUNCTION dbopt.apply_data_retention_policies(
    dry_run boolean DEFAULT false)
RETURNS TABLE (
    relation regclass, mode text, cutoff timestamptz,
    rows_deleted bigint, rows_archived bigint, partitions_dropped integer,
    batches integer, duration_ms double precision, status text, detail text)
AS 'MODULE_PATHNAME', 'dbopt_apply_data_retention_policies'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION dbopt.apply_data_retention_policies(boolean) IS
    'Apply every retention policy in one transaction: whole partitions first, then batched deletes (or archive moves) below now() - keep; a failing policy is reported as error and the others still run';

CREATE PROCEDURE dbopt.run_data_retention(max_duration interval DEFAULT NULL)
AS 'MODULE_PATHNAME', 'dbopt_run_data_retention'
LANGUAGE C;
COMMENT ON PROCEDURE dbopt.run_data_retention(interval) IS
    'Apply every retention policy, committing after each batch and pausing dbopt.retention_batch_delay between batches; stops cleanly at max_duration and the next call resumes';

REVOKE ALL ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.remove_retention_policy(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.apply_data_retention_policies(boolean) FROM PUBLIC;
REVOKE ALL ON PROCEDURE dbopt.run_data_retention(interval) FROM PUBLIC;
