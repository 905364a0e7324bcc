-- src/findings.sql: suppressions of findings (the SQL of src/findings.c)

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
REVOKE ALL ON dbopt.suppressions FROM PUBLIC;
GRANT SELECT ON dbopt.suppressions TO pg_monitor;

CREATE FUNCTION dbopt.suppress(
    check_name text, object_name text DEFAULT NULL, reason text DEFAULT NULL,
    until timestamp with time zone DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'dbopt_suppress'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.suppress(text,text,text,timestamp with time zone) IS
    'Hide a finding (one object, or all objects when object_name is NULL) until a time or for good; the check name is validated and a reason is required';
REVOKE ALL ON FUNCTION dbopt.suppress(text,text,text,timestamp with time zone) FROM PUBLIC;

CREATE FUNCTION dbopt.unsuppress(check_name text, object_name text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dbopt_unsuppress'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.unsuppress(text,text) IS
    'Remove the suppression for exactly (check_name, object_name); true when one existed';
REVOKE ALL ON FUNCTION dbopt.unsuppress(text,text) FROM PUBLIC;
