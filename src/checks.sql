-- src/checks.sql: the registry of check names (the SQL of src/checks.c)

CREATE FUNCTION dbopt.check_names(OUT check_name text, OUT report text, OUT description text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_check_names'
LANGUAGE C IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.check_names() IS
    'Every check_name a dbopt report can emit, with its report and meaning';
REVOKE ALL ON FUNCTION dbopt.check_names() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.check_names() TO pg_monitor;
