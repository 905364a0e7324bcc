/* dbopt--0.2--0.3.sql: data integrity, and the maintenance log */

\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.3'" to load this file. \quit

-- What every function that changes things did, one row per action.  The
-- partition and retention functions write here too.
CREATE TABLE dbopt.maintenance_log (
    logged_at   timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    role_name   name NOT NULL DEFAULT CURRENT_USER,
    operation   text NOT NULL,      -- the dbopt function
    object_name text NOT NULL,
    action      text NOT NULL,
    rows        bigint,
    bytes       bigint,
    detail      text
);
CREATE INDEX maintenance_log_logged_at_idx ON dbopt.maintenance_log (logged_at);
COMMENT ON TABLE dbopt.maintenance_log IS
    'One row per action taken by a dbopt function that changes things: when, by whom, on what, with row and byte counts';
SELECT pg_catalog.pg_extension_config_dump('dbopt.maintenance_log', '');
REVOKE ALL ON dbopt.maintenance_log FROM PUBLIC;
GRANT SELECT ON dbopt.maintenance_log TO pg_monitor;

CREATE FUNCTION dbopt.check_data_integrity(
    target regclass DEFAULT NULL,
    deep boolean DEFAULT false,
    sample_limit integer DEFAULT 5,
    include_suppressed boolean DEFAULT false,
    OUT severity text, OUT check_name text, OUT object_name text,
    OUT detail text, OUT remediation text, OUT fix_sql text,
    OUT violating_rows bigint, OUT sample jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_check_data_integrity'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION dbopt.check_data_integrity(regclass, boolean, integer, boolean) IS
    'Rows that break what the schema claims (orphans, CHECK violations, duplicate keys under invalid unique indexes), disabled constraint triggers, sequence headroom, wraparound age, collation versions and, with deep, amcheck; one table or all, under AccessShareLock only';

CREATE FUNCTION dbopt.validate_constraints(
    target regclass DEFAULT NULL,
    dry_run boolean DEFAULT false,
    OUT constraint_name text, OUT table_name regclass,
    OUT action text, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_validate_constraints'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION dbopt.validate_constraints(regclass, boolean) IS
    'VALIDATE CONSTRAINT, under dbopt.lock_timeout, every NOT VALID constraint that no row violates; the rest are skipped with the reason; the caller must own the table';

REVOKE ALL ON FUNCTION dbopt.check_data_integrity(regclass, boolean, integer, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION dbopt.validate_constraints(regclass, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.check_data_integrity(regclass, boolean, integer, boolean) TO pg_monitor;
