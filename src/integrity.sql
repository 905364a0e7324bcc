-- src/integrity.sql: data-integrity checks and constraint validation (the SQL of src/integrity.c)

CREATE FUNCTION dbopt.check_data_integrity(
    target regclass DEFAULT NULL, deep boolean DEFAULT false, sample_limit integer DEFAULT 5,
    include_suppressed boolean DEFAULT false, OUT severity text, OUT check_name text,
    OUT object_name text, OUT detail text, OUT remediation text, OUT fix_sql text,
    OUT violating_rows bigint, OUT sample jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_check_data_integrity'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.check_data_integrity(regclass,boolean,integer,boolean) IS
    'Rows that break what the schema claims (orphans, CHECK violations, duplicate keys under invalid unique indexes), disabled constraint triggers, sequence headroom, wraparound age, collation versions and, with deep, amcheck; one table or all, under AccessShareLock only';
REVOKE ALL ON FUNCTION dbopt.check_data_integrity(regclass,boolean,integer,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dbopt.check_data_integrity(regclass,boolean,integer,boolean) TO pg_monitor;

CREATE FUNCTION dbopt.validate_constraints(
    target regclass DEFAULT NULL, dry_run boolean DEFAULT false, OUT constraint_name text,
    OUT table_name regclass, OUT action text, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dbopt_validate_constraints'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.validate_constraints(regclass,boolean) IS
    'VALIDATE CONSTRAINT, under dbopt.lock_timeout, every NOT VALID constraint that no row violates; the rest are skipped with the reason; the caller must own the table';
REVOKE ALL ON FUNCTION dbopt.validate_constraints(regclass,boolean) FROM PUBLIC;
