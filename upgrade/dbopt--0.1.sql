/* dbopt--0.1.sql: foundation: findings shape, suppressions, status() */

\echo Use "CREATE EXTENSION dbopt CASCADE" to load this file. \quit

-- Accepted findings.  Every report hides the findings matched here unless
-- called with include_suppressed => true.
CREATE TABLE dbopt.suppressions (
    check_name  text NOT NULL CHECK (check_name <> ''),
    object_name text,          -- NULL: every object of this check
    reason      text NOT NULL CHECK (btrim(reason) <> ''),
    until       timestamptz,   -- NULL: no end
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL DEFAULT CURRENT_USER,
    CONSTRAINT suppressions_check_object_key
        UNIQUE NULLS NOT DISTINCT (check_name, object_name)
);
COMMENT ON TABLE dbopt.suppressions IS
    'Accepted findings that dbopt reports hide unless include_suppressed => true; object_name NULL matches every object of the check';
SELECT pg_catalog.pg_extension_config_dump('dbopt.suppressions', '');

CREATE FUNCTION dbopt.status(
    include_suppressed boolean DEFAULT false,
    OUT severity text, OUT check_name text, OUT object_name text,
    OUT detail text, OUT remediation text, OUT fix_sql text,
    OUT value text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_status'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION dbopt.status(boolean) IS
    'Versions, preloading, pg_stat_statements fill and evictions, companion extensions and dbopt.* settings, as findings';

CREATE FUNCTION dbopt.check_names(
    OUT check_name text, OUT report text, OUT description text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_check_names'
LANGUAGE C STRICT IMMUTABLE;
COMMENT ON FUNCTION dbopt.check_names() IS
    'Every check_name a dbopt report can emit, with its report and meaning';

CREATE FUNCTION dbopt.suppress(
    check_name text, object_name text DEFAULT NULL,
    reason text DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'dbopt_suppress'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.suppress(text, text, text, timestamptz) IS
    'Hide a finding (one object, or all objects when object_name is NULL) until a time or for good; the check name is validated and a reason is required';

CREATE FUNCTION dbopt.unsuppress(check_name text, object_name text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dbopt_unsuppress'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION dbopt.unsuppress(text, text) IS
    'Remove the suppression for exactly (check_name, object_name); true when one existed';

-- Privileges: nothing for PUBLIC; read-only reports for pg_monitor.
-- Functions that change things stay with the extension owner until granted.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA dbopt FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA dbopt FROM PUBLIC;
GRANT USAGE ON SCHEMA dbopt TO pg_monitor;
GRANT SELECT ON dbopt.suppressions TO pg_monitor;
GRANT EXECUTE ON FUNCTION dbopt.status(boolean) TO pg_monitor;
GRANT EXECUTE ON FUNCTION dbopt.check_names() TO pg_monitor;
