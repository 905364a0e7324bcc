-- The security model (README, "Security model"): pinned search_path, NULL
-- refused for options that steer destruction, blast-radius limits, audit
-- that cannot be silenced unseen, and the smaller holes of issue #17.
CREATE SCHEMA "sm ""s"";";
SET search_path = "sm ""s"";", public;
CREATE FUNCTION pg_temp.sqlstate_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

CREATE FUNCTION pg_temp.plan_lines(sql text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || sql;
END $$;

-- Every function pins search_path, but for the documented exceptions.
SELECT p.proname
  FROM pg_proc p
 WHERE p.pronamespace = 'dbopt'::regnamespace
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
 ORDER BY 1;

-- A role with pg_monitor and TEMP only: a temporary type named oid and a
-- cast to it are never used by dbopt's statements.
CREATE ROLE regress_sm_mon IN ROLE pg_monitor;
CREATE TABLE sm_pwned (who name, super boolean);
GRANT INSERT ON sm_pwned TO PUBLIC;
GRANT USAGE ON SCHEMA "sm ""s"";" TO PUBLIC;
CREATE TABLE "sm ""p""" (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT parent FROM dbopt.manage_partitions('"sm ""p"""', '1 month', 2);
SET ROLE regress_sm_mon;
CREATE TYPE pg_temp.oid AS ENUM ('hijacked');
CREATE FUNCTION pg_temp.to_oid(regclass) RETURNS pg_temp.oid LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "sm ""s"";".sm_pwned SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
    RETURN 'hijacked';
END $$;
CREATE CAST (regclass AS pg_temp.oid) WITH FUNCTION pg_temp.to_oid(regclass);
SELECT count(*) >= 0 AS ran FROM dbopt.analyze_partition_distribution();
RESET ROLE;
SELECT count(*) AS payload_runs FROM sm_pwned;
DROP CAST (regclass AS pg_temp.oid);
DROP FUNCTION pg_temp.to_oid(regclass);
DROP TYPE pg_temp.oid;

-- suggest_indexes() plans others' statements: a pg_monitor member's
-- function, put before pg_catalog on its search_path, never runs with the
-- rights of the role that ran the statement (here a superuser).
CREATE TABLE sm_times (at timestamptz);
SELECT count(*) FROM sm_times WHERE at < now();
SELECT count(*) FROM sm_times WHERE at < now();
CREATE ROLE regress_sm_mon2 IN ROLE pg_monitor;
CREATE SCHEMA sm_evil AUTHORIZATION regress_sm_mon2;
SET ROLE regress_sm_mon2;
CREATE FUNCTION sm_evil.pwn() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "sm ""s"";".sm_pwned SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
END $$;
CREATE FUNCTION sm_evil.now() RETURNS timestamptz LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM sm_evil.pwn();
    RETURN '2000-01-01';
END $$;
SET search_path = sm_evil, pg_catalog, public;
SET client_min_messages = warning;  -- its closing NOTICE counts every statement the suite ran
SELECT count(*) >= 0 AS advised FROM dbopt.suggest_indexes(0, 0, 0, 20);
RESET client_min_messages;
RESET search_path;
RESET ROLE;
SET search_path = "sm ""s"";", public;
SELECT count(*) FILTER (WHERE super) AS payload_runs_as_superuser FROM sm_pwned;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_sm_mon2';
DROP SCHEMA sm_evil CASCADE;
DROP TABLE sm_times;

-- NULL never decides a destructive run.
SELECT f, pg_temp.sqlstate_of(f) AS sqlstate FROM (VALUES
    ('SELECT * FROM dbopt.apply_data_retention_policies(dry_run => NULL)'),
    ('SELECT * FROM dbopt.create_future_partitions(dry_run => NULL)'),
    ('SELECT * FROM dbopt.create_future_partitions(move_default_rows => NULL)'),
    ('SELECT * FROM dbopt.run_partition_maintenance(dry_run => NULL)'),
    ('SELECT * FROM dbopt.drop_old_partitions(''"sm ""p"""'', ''1 month'', ''drop'', NULL)'),
    ('SELECT * FROM dbopt.drop_old_partitions(24, NULL)'),
    ('SELECT * FROM dbopt.refresh_materialized_views(dry_run => NULL)'),
    ('SELECT * FROM dbopt.validate_constraints(dry_run => NULL)'),
    ('SELECT dbopt.enable_audit(''sm_pwned'', dry_run => NULL)'),
    ('SELECT dbopt.disable_audit(''sm_pwned'', NULL)'),
    ('SELECT dbopt.purge_audit_log(''1 year'', NULL)'),
    ('SELECT dbopt.purge_snapshots(''1 year'', NULL)'),
    ('SELECT dbopt.enable_tenant_isolation(''sm_pwned'', ''who'', dry_run => NULL)'),
    ('SELECT dbopt.disable_tenant_isolation(''sm_pwned'', NULL)')) v(f);
\set VERBOSITY default
SELECT * FROM dbopt.apply_data_retention_policies(dry_run => NULL);
SELECT count(*) AS audit_triggers FROM pg_trigger WHERE tgrelid = 'sm_pwned'::regclass;

-- Blast radius: an interval below dbopt.min_partition_interval, and a plan
-- over dbopt.max_partitions_per_call, stop before changing anything.
CREATE TABLE "sm ""q""" (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT dbopt.manage_partitions('"sm ""q"""', '1 second', 4);
SELECT parent FROM dbopt.manage_partitions('"sm ""q"""', '1 hour', 600);
SELECT count(*) AS planned FROM dbopt.create_future_partitions('"sm ""q"""', dry_run => true);
SELECT count(*) AS created FROM dbopt.create_future_partitions('"sm ""q"""');
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = '"sm ""q"""'::regclass;
SET dbopt.max_partitions_per_call = 700;
SELECT count(*) AS created FROM dbopt.create_future_partitions('"sm ""q"""', dry_run => false);
RESET dbopt.max_partitions_per_call;
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = '"sm ""q"""'::regclass;
-- A registration older than the limit is refused at planning.
UPDATE dbopt.partition_config SET partition_interval = '1 minute' WHERE parent = '"sm ""q"""'::regclass;
SELECT partition_name, action, detail FROM dbopt.create_future_partitions('"sm ""q"""', dry_run => true);
SELECT dbopt.unmanage_partitions('"sm ""q"""');
DROP TABLE "sm ""q""";

-- Masking: no crash from an empty or blank view name, errors for bad counts.
CREATE TABLE "sm ""m""" (id int, email text);
SELECT left(d, 8) AS view_name, length(d), pg_temp.sqlstate_of(pg_catalog.format('SELECT dbopt.create_masked_view(%L, %L)', '"sm ""m"""', d)) AS sqlstate
  FROM (VALUES (''), (' '), (E'\n'), ('.'), ('a.b.c'), (repeat('x', 100000))) v(d);
SELECT dbopt.mask_phone('12') AS two_digits, dbopt.mask_phone('1234') AS four, dbopt.mask_phone('12345') AS five;
SELECT pg_temp.sqlstate_of('SELECT dbopt.mask_text(''x'', 0, -1)') AS negative_keep;

-- Can't-happen paths give clear errors, not XX000.
SELECT pg_temp.sqlstate_of('SELECT dbopt.schedule_next_run(''1 hour'', ''infinity'')') AS infinity,
       pg_temp.sqlstate_of('SELECT dbopt.schedule_next_run(''1 hour'', ''-infinity'')') AS minus_infinity,
       pg_temp.sqlstate_of('SELECT dbopt.audit_log_guard()') AS guard,
       pg_temp.sqlstate_of('SELECT dbopt.audit_trigger()') AS audit_trigger;

-- suppress() needs EXECUTE, not rights on dbopt.suppressions; PUBLIC may
-- call the masking helpers and nothing else.
CREATE ROLE regress_sm_ops;
GRANT EXECUTE ON FUNCTION dbopt.suppress(text, text, text, timestamptz), dbopt.unsuppress(text, text) TO regress_sm_ops;
SET ROLE regress_sm_ops;
SELECT dbopt.suppress('setting', 'dbopt.lock_timeout', 'granted, no table rights');
SELECT dbopt.unsuppress('setting', 'dbopt.lock_timeout') AS removed;
SELECT dbopt.mask_email('ann@example.com') AS masked;
SELECT pg_temp.sqlstate_of('SELECT count(*) FROM dbopt.status()') AS status_denied;
RESET ROLE;
SELECT role_name, operation, object_name, action FROM dbopt.maintenance_log
 WHERE operation IN ('suppress', 'unsuppress') AND role_name = 'regress_sm_ops' ORDER BY logged_at;

-- Retention: a role sees and runs only the policies on its own tables.
CREATE ROLE regress_sm_alice;
GRANT CREATE ON SCHEMA "sm ""s"";" TO regress_sm_alice;
GRANT EXECUTE ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean, text), dbopt.add_retention_policy(regclass, name, text, text, regclass, integer, bigint, boolean, text),
                          dbopt.apply_data_retention_policies(boolean) TO regress_sm_alice;
CREATE TABLE sm_admin_events (at timestamptz NOT NULL);
SELECT relation FROM dbopt.add_retention_policy('sm_admin_events', 'at', '30 days');
SET ROLE regress_sm_alice;
CREATE TABLE sm_alice_events (at timestamptz NOT NULL);
INSERT INTO sm_alice_events SELECT now() - g * interval '1 day' FROM generate_series(1, 60) g;
SELECT relation FROM dbopt.add_retention_policy('sm_alice_events', 'at', '30 days');
SELECT relation, status, rows_deleted FROM dbopt.apply_data_retention_policies(dry_run => true);
RESET ROLE;
SELECT relation, status FROM dbopt.apply_data_retention_policies(dry_run => true) ORDER BY relation::text;
SELECT dbopt.remove_retention_policy('sm_admin_events');
SELECT dbopt.remove_retention_policy('sm_alice_events');

-- Audit: the triggers fire ALWAYS; switching them off is logged and shown.
CREATE TABLE "sm ""a""" (id int PRIMARY KEY, org int);
SELECT dbopt.enable_audit('"sm ""a"""');
SELECT relation, enabled, fires FROM dbopt.audited_tables WHERE relation = '"sm ""a"""'::regclass;
ALTER TABLE "sm ""a""" DISABLE TRIGGER USER;
SELECT relation, enabled, fires FROM dbopt.audited_tables WHERE relation = '"sm ""a"""'::regclass;
ALTER TABLE "sm ""a""" ENABLE REPLICA TRIGGER dbopt_audit_row;
SELECT relation, enabled, fires FROM dbopt.audited_tables WHERE relation = '"sm ""a"""'::regclass;
SELECT dbopt.enable_audit('"sm ""a"""');
SET session_replication_role = replica;
INSERT INTO "sm ""a""" VALUES (1, 7);
RESET session_replication_role;
SELECT operation, new_data->>'command' AS command, new_data->>'dbopt_audit_row' AS row_trigger
  FROM dbopt.audit_log WHERE relation = '"sm ""a"""'::regclass ORDER BY id;
-- Renaming hides nothing: the rename is logged, the view still lists the
-- table, and dropping the renamed trigger is logged too.
ALTER TRIGGER dbopt_audit_row ON "sm ""a""" RENAME TO quiet;
SELECT relation, enabled, fires FROM dbopt.audited_tables WHERE relation = '"sm ""a"""'::regclass;
DROP TRIGGER quiet ON "sm ""a""";
SELECT relation, enabled, fires FROM dbopt.audited_tables WHERE relation = '"sm ""a"""'::regclass;
SELECT operation, new_data->>'command' AS command, new_data->>'dbopt_audit_row' AS row_trigger
  FROM dbopt.audit_log WHERE relation = '"sm ""a"""'::regclass AND operation LIKE 'AUDIT%' ORDER BY id DESC LIMIT 2;
SELECT dbopt.enable_audit('"sm ""a"""');
-- The tenant recorded with a row follows a setting only a superuser sets.
SET ROLE regress_sm_ops;
SELECT pg_temp.sqlstate_of('SET dbopt.tenant_columns = ''id''') AS set_tenant_columns;
RESET ROLE;
-- Indexes a DBA adds to the log are kept as the executor keeps them.
CREATE INDEX sm_audit_deletes ON dbopt.audit_log (relation) WHERE operation = 'DELETE';
INSERT INTO "sm ""a""" VALUES (2, 7), (3, 8);
DELETE FROM "sm ""a""" WHERE id = 3;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT position('sm_audit_deletes' IN string_agg(p, ' ')) > 0 AS uses_partial_index
  FROM pg_temp.plan_lines('SELECT count(*) FROM dbopt.audit_log WHERE operation = ''DELETE'' AND relation = ''"sm ""a"""''::regclass') p;
SELECT count(*) AS deletes_by_index FROM dbopt.audit_log
 WHERE operation = 'DELETE' AND relation = '"sm ""a"""'::regclass;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*) AS deletes FROM dbopt.audit_log WHERE operation = 'DELETE' AND relation = '"sm ""a"""'::regclass;
DROP INDEX dbopt.sm_audit_deletes;
SELECT dbopt.disable_audit('"sm ""a"""');
SELECT operation, new_data->>'command' AS command, new_data->>'dbopt_audit_row' AS row_trigger
  FROM dbopt.audit_log WHERE relation = '"sm ""a"""'::regclass AND operation LIKE 'AUDIT%' ORDER BY id DESC LIMIT 1;

-- dbopt itself gives validate_security_configuration() nothing to report.
SELECT severity, check_name, object_name FROM dbopt.validate_security_configuration()
 WHERE object_name LIKE '%dbopt%' AND severity <> 'ok';

DROP TABLE "sm ""a""", "sm ""m""", sm_pwned, sm_admin_events, sm_alice_events CASCADE;
SELECT dbopt.unmanage_partitions('"sm ""p"""');
DROP TABLE "sm ""p""";
REVOKE ALL ON SCHEMA "sm ""s"";" FROM PUBLIC, regress_sm_alice;
DROP OWNED BY regress_sm_mon, regress_sm_mon2, regress_sm_ops, regress_sm_alice;
DROP ROLE regress_sm_mon, regress_sm_mon2, regress_sm_ops, regress_sm_alice;
RESET search_path;
DROP SCHEMA "sm ""s"";" CASCADE;
