-- src/dbopt.sql: schema privileges and the maintenance log shared by every capability (the SQL of src/dbopt.c)

-- Schema-wide privileges.  Nothing for PUBLIC but USAGE: the views that
-- create_masked_view() makes call dbopt.mask_*(), which PUBLIC may execute.
-- Every other function and every table is revoked from PUBLIC where it is
-- made; read-only reports are granted to pg_monitor.  The blanket revokes
-- also cover what CREATE EXTENSION ... CASCADE put into this schema.
GRANT USAGE ON SCHEMA dbopt TO PUBLIC;
GRANT USAGE ON SCHEMA dbopt TO pg_monitor;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA dbopt FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA dbopt FROM PUBLIC;

-- CREATE EXTENSION dbopt CASCADE may put pg_stat_statements into schema
-- dbopt, where the revokes above take away its own grants, and the reports
-- granted to pg_monitor that read it would fail for pg_monitor members.
-- pg_monitor gets back what pg_stat_statements grants.
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

-- What every function that changes things did, one row per action
-- (written by dbopt_log_action() in src/util.c).
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
