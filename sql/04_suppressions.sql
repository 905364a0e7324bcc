-- Suppressions hide a finding; include_suppressed shows it, annotated.
SELECT severity, object_name, value
  FROM dbopt.status() WHERE check_name = 'companion_extension' AND object_name = 'amcheck';
SELECT dbopt.suppress('companion_extension', 'amcheck', 'integrity checks run on the replica');
SELECT count(*) AS visible
  FROM dbopt.status() WHERE check_name = 'companion_extension' AND object_name = 'amcheck';
SELECT object_name, detail LIKE '%[suppressed: integrity checks run on the replica]' AS annotated
  FROM dbopt.status(include_suppressed => true)
 WHERE check_name = 'companion_extension' AND object_name = 'amcheck';
-- Other objects of the same check are unaffected.
SELECT count(*) > 0 AS others_visible
  FROM dbopt.status() WHERE check_name = 'companion_extension';

-- Suppressing again replaces the reason instead of failing.
SELECT dbopt.suppress('companion_extension', 'amcheck', 'second reason');
SELECT check_name, object_name, reason FROM dbopt.suppressions ORDER BY 1, 2;

-- object_name NULL suppresses every object of the check.
SELECT dbopt.suppress('companion_extension', NULL, 'companions are managed elsewhere');
SELECT count(*) AS visible_companions
  FROM dbopt.status() WHERE check_name = 'companion_extension';
SELECT count(*) > 1 AS shown_with_include_suppressed
  FROM dbopt.status(true) WHERE check_name = 'companion_extension';

-- A suppression that has expired hides nothing; a future one does.
INSERT INTO dbopt.suppressions (check_name, object_name, reason, until)
VALUES ('setting', 'dbopt.lock_timeout', 'expired', now() - interval '1 day');
SELECT count(*) AS visible_after_expiry
  FROM dbopt.status() WHERE check_name = 'setting';
SELECT dbopt.suppress('setting', 'dbopt.lock_timeout', 'reviewed', now() + interval '1 day');
SELECT count(*) AS visible_before_expiry
  FROM dbopt.status() WHERE check_name = 'setting';

-- unsuppress removes exactly one (check, object) pair.
SELECT dbopt.unsuppress('companion_extension', NULL) AS removed_wildcard;
SELECT dbopt.unsuppress('companion_extension', NULL) AS removed_again;
SELECT dbopt.unsuppress('companion_extension', 'amcheck') AS removed_amcheck;
SELECT dbopt.unsuppress('setting', 'dbopt.lock_timeout') AS removed_setting;
SELECT count(*) AS suppressions_left FROM dbopt.suppressions;

-- Bad input: clear errors with SQLSTATEs, and nothing is written.
SELECT dbopt.suppress('companion_extensoin', 'amcheck', 'typo');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.suppress('no_such_check_at_all', NULL, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.suppress('setting', NULL, '   ');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.suppress('setting', NULL, 'old', now() - interval '1 minute');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.suppress(NULL, NULL, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS suppressions_after_errors FROM dbopt.suppressions;
