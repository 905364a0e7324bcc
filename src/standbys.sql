-- src/standbys.sql: registered hot standbys and their index scans (the SQL of src/standbys.c)

-- Hot standbys whose index scans count in analyze_index_usage(): an index
-- used only by reports on a standby is not unused.  conninfo may hold a
-- password, so the table is read only by its owner; pg_monitor sees the
-- names through dbopt.registered_standbys.
CREATE TABLE dbopt.standbys (
    name      text PRIMARY KEY
              CHECK (name OPERATOR(pg_catalog.<>) '' AND pg_catalog.octet_length(name) OPERATOR(pg_catalog.<) 64),
    conninfo  text NOT NULL CHECK (conninfo OPERATOR(pg_catalog.<>) ''),
    added_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    added_by  name NOT NULL
);
COMMENT ON TABLE dbopt.standbys IS
    'Hot standbys registered with dbopt.add_standby(): name (its application_name in pg_stat_replication) and libpq connection string or foreign server name for dblink';
SELECT pg_catalog.pg_extension_config_dump('dbopt.standbys', '');
REVOKE ALL ON dbopt.standbys FROM PUBLIC;

CREATE VIEW dbopt.registered_standbys AS
    SELECT s.name, s.added_at, s.added_by FROM dbopt.standbys s;
COMMENT ON VIEW dbopt.registered_standbys IS
    'The registered standbys without their connection strings';
REVOKE ALL ON dbopt.registered_standbys FROM PUBLIC;
GRANT SELECT ON dbopt.registered_standbys TO pg_monitor;

CREATE FUNCTION dbopt.add_standby(name text, conninfo text)
RETURNS void
AS 'MODULE_PATHNAME', 'dbopt_add_standby'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.add_standby(text,text) IS
    'Register a hot standby of this server: name is its application_name (as in pg_stat_replication), conninfo a libpq connection string to the same database on it, or the name of a postgres_fdw foreign server; its idx_scan then counts in analyze_index_usage()';
REVOKE ALL ON FUNCTION dbopt.add_standby(text,text) FROM PUBLIC;

CREATE FUNCTION dbopt.remove_standby(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'dbopt_remove_standby'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.remove_standby(text) IS
    'Unregister a standby registered with dbopt.add_standby()';
REVOKE ALL ON FUNCTION dbopt.remove_standby(text) FROM PUBLIC;

CREATE FUNCTION dbopt.standby_index_usage()
RETURNS TABLE (
    standby text, indexrelid oid, schemaname name, indexname name, idx_scan bigint,
    stats_epoch timestamp with time zone, problem text)
AS 'MODULE_PATHNAME', 'dbopt_standby_index_usage'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.standby_index_usage() IS
    'idx_scan of every user index on each registered standby (through dblink, as the caller), with the standby''s statistics epoch; a standby that cannot be read, and a walsender that is not registered, give a row with the problem';
REVOKE ALL ON FUNCTION dbopt.standby_index_usage() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.standby_index_usage() TO pg_monitor;
