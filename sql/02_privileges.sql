-- No function in dbopt is executable by PUBLIC, except the three pure
-- masking functions: masked views call them with the reader's rights, and
-- they reveal nothing (documented under "Masking and encryption").
SELECT p.oid::regprocedure AS public_executable
  FROM pg_proc p
 WHERE p.pronamespace = 'dbopt'::regnamespace
   AND (p.proacl IS NULL
        OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                    WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))
 ORDER BY p.oid::regprocedure::text;

-- Read-only reports are granted to pg_monitor; functions that change things are not.
SELECT p.oid::regprocedure AS function,
       has_function_privilege('pg_monitor', p.oid, 'EXECUTE') AS pg_monitor_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'dbopt'::regnamespace
 ORDER BY p.oid::regprocedure::text;

CREATE ROLE regress_dbopt_nobody;
CREATE ROLE regress_dbopt_monitor IN ROLE pg_monitor;

-- A role with no grants is refused.
SET ROLE regress_dbopt_nobody;
SELECT count(*) FROM dbopt.status();
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.suppress('setting', NULL, 'no');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- A pg_monitor member may read reports, but not change suppressions.
SET ROLE regress_dbopt_monitor;
SELECT count(*) > 0 AS monitor_can_read FROM dbopt.status();
SELECT count(*) > 0 AS monitor_can_list_checks FROM dbopt.check_names();
SELECT dbopt.suppress('setting', NULL, 'no');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO dbopt.suppressions (check_name, reason) VALUES ('setting', 'no');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- Reading reports needs the suppression list: a clear error says so.
GRANT USAGE ON SCHEMA dbopt TO regress_dbopt_nobody;
GRANT EXECUTE ON FUNCTION dbopt.status(boolean, boolean) TO regress_dbopt_nobody;
SET ROLE regress_dbopt_nobody;
SELECT count(*) FROM dbopt.status();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE ALL ON FUNCTION dbopt.status(boolean, boolean) FROM regress_dbopt_nobody;
REVOKE ALL ON SCHEMA dbopt FROM regress_dbopt_nobody;

DROP ROLE regress_dbopt_nobody;
DROP ROLE regress_dbopt_monitor;
