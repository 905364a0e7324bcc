-- Audit: the C trigger's rows for INSERT, UPDATE (changed columns only),
-- DELETE and TRUNCATE; no row for an UPDATE that changes nothing; column
-- exclusion; the tenant; an append-only log; enable/disable/purge.
CREATE SCHEMA "aud ""s"";";
SET search_path = "aud ""s"";", public;
CREATE TABLE "inv ""q"";" (id int, line int, organization_id int, amount numeric, note text, card text,
                          meta jsonb, paid boolean, at timestamptz, PRIMARY KEY (id, line));
-- Dry run first: nothing is installed.
SELECT dbopt.enable_audit('"inv ""q"";"', ARRAY['card'], dry_run => true);
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = '"inv ""q"";"'::regclass;
SELECT dbopt.enable_audit('"inv ""q"";"', ARRAY['card']);
SELECT tgname, tgtype FROM pg_trigger WHERE tgrelid = '"inv ""q"";"'::regclass ORDER BY tgname;
SELECT relation, enabled, excluded_columns FROM dbopt.audited_tables;
SET TimeZone = 'UTC';
INSERT INTO "inv ""q"";" VALUES (1, 1, 7, 10.50, 'first', '4111-1111', '{"k": [1, 2]}', false, '2001-01-01');
UPDATE "inv ""q"";" SET amount = 11, paid = true WHERE id = 1;
UPDATE "inv ""q"";" SET amount = 11 WHERE id = 1;             -- changes nothing: no row
UPDATE "inv ""q"";" SET card = '5500-0000' WHERE id = 1;      -- only an excluded column: no row
UPDATE "inv ""q"";" SET note = NULL WHERE id = 1;
DELETE FROM "inv ""q"";" WHERE id = 1;
INSERT INTO "inv ""q"";" VALUES (2, 1, NULL, 1, 'x', 'c', NULL, NULL, NULL);
TRUNCATE "inv ""q"";";
SELECT operation, relation_name, relation = '"inv ""q"";"'::regclass AS relation_oid, row_key, old_data, new_data,
       changed_columns, db_user = current_user AS by_me, application_name, tenant,
       txid > 0 AS has_txid, logged_at <= clock_timestamp() AS logged
  FROM dbopt.audit_log ORDER BY id;
-- Each statement ran in its own transaction: one txid each.
SELECT count(DISTINCT txid) AS txids FROM dbopt.audit_log;

-- Another role that may write the table is audited too, and may not touch the log.
CREATE ROLE regress_audit_writer;
GRANT USAGE ON SCHEMA dbopt, "aud ""s"";" TO regress_audit_writer;
GRANT INSERT, UPDATE ON "inv ""q"";" TO regress_audit_writer;
SET ROLE regress_audit_writer;
INSERT INTO "inv ""q"";" VALUES (3, 1, 9, 5, 'by writer', NULL, NULL, NULL, NULL);
INSERT INTO dbopt.audit_log (logged_at, txid, relation_name, relation, operation, db_user)
VALUES (now(), 1, 'fake', 0, 'INSERT', 'someone');
DELETE FROM dbopt.audit_log;
UPDATE dbopt.audit_log SET db_user = 'someone';
SELECT dbopt.enable_audit('"inv ""q"";"');
SELECT dbopt.purge_audit_log('1 second');
RESET ROLE;
SELECT operation, db_user, tenant, new_data->>'note' AS note FROM dbopt.audit_log WHERE row_key = '{"id": 3, "line": 1}';
-- Even its owner cannot change or empty the log directly.
UPDATE dbopt.audit_log SET tenant = 'x';
DELETE FROM dbopt.audit_log;
TRUNCATE dbopt.audit_log;

-- Refusals.
SELECT dbopt.enable_audit('"inv ""q"";"', ARRAY['no such']);
CREATE VIEW v AS SELECT * FROM "inv ""q"";";
SELECT dbopt.enable_audit('v');
SELECT dbopt.enable_audit('dbopt.audit_log');
SELECT dbopt.enable_audit(NULL);
CREATE TABLE not_mine (id int);
ALTER TABLE not_mine OWNER TO regress_audit_writer;
CREATE ROLE regress_audit_other;
GRANT USAGE ON SCHEMA dbopt, "aud ""s"";" TO regress_audit_other;
GRANT EXECUTE ON FUNCTION dbopt.enable_audit(regclass, text[], boolean) TO regress_audit_other;
SET ROLE regress_audit_other;
SELECT dbopt.enable_audit('not_mine');
RESET ROLE;

-- Changing the exclusions replaces the triggers; disabling stops the log.
SELECT dbopt.enable_audit('"inv ""q"";"');
SELECT excluded_columns FROM dbopt.audited_tables;
SELECT dbopt.disable_audit('"inv ""q"";"', dry_run => true);
SELECT count(*) AS still_installed FROM dbopt.audited_tables;
SELECT dbopt.disable_audit('"inv ""q"";"');
SELECT count(*) AS installed FROM dbopt.audited_tables;
SELECT count(*) AS before_purge FROM dbopt.audit_log;
INSERT INTO "inv ""q"";" VALUES (4, 1, 1, 1, 'not audited', NULL, NULL, NULL, NULL);
SELECT count(*) AS after_disable FROM dbopt.audit_log;
SELECT operation, object_name, action, rows FROM dbopt.maintenance_log
 WHERE operation IN ('enable_audit', 'disable_audit') ORDER BY logged_at;

-- Purge: only what is older than the interval, counted first by a dry run.
SELECT pg_sleep(0.2);
SELECT dbopt.purge_audit_log('0.1 seconds', dry_run => true) AS would_purge;
SELECT dbopt.purge_audit_log('0.1 seconds') AS purged;
SELECT count(*) AS left_after FROM dbopt.audit_log;
SELECT dbopt.purge_audit_log('0');
SELECT operation, action, rows FROM dbopt.maintenance_log WHERE operation = 'purge_audit_log' ORDER BY logged_at;

DROP SCHEMA "aud ""s"";" CASCADE;
REVOKE ALL ON SCHEMA dbopt FROM regress_audit_other, regress_audit_writer;
REVOKE ALL ON FUNCTION dbopt.enable_audit(regclass, text[], boolean) FROM regress_audit_other;
DROP ROLE regress_audit_writer, regress_audit_other;
DELETE FROM dbopt.maintenance_log WHERE operation IN ('enable_audit', 'disable_audit', 'purge_audit_log');
