-- partition_table() (issue #22): the plan for a table with identity, serial,
-- unique constraints, foreign keys in and out, partial and expression
-- indexes, triggers, RLS, grants and a generated column; every refusal
-- with its reason; a run, finish and undo on small tables.  Concurrent
-- writers, kill -9 and a busy swap are in t/018_partition_table.pl and
-- specs/partition_table.spec.
SET TimeZone = 'UTC';
CREATE ROLE "regress pm owner";
CREATE ROLE regress_pm_other;
CREATE ROLE regress_pm_reader;
CREATE SCHEMA "pm ""s"";" AUTHORIZATION "regress pm owner";
GRANT EXECUTE ON FUNCTION dbopt.partition_table(regclass,name,text,integer,integer,boolean),
  dbopt.finish_partition_migration(regclass,boolean,boolean), dbopt.undo_partition_migration(regclass,boolean),
  dbopt.manage_partitions(regclass,text,integer,text,text,boolean,boolean)
  TO "regress pm owner", regress_pm_other;
GRANT EXECUTE ON PROCEDURE dbopt.run_partition_migration(regclass) TO "regress pm owner", regress_pm_other;
GRANT USAGE ON SCHEMA "pm ""s"";" TO regress_pm_other;
GRANT pg_monitor TO "regress pm owner";
-- The caller's search_path holds a schema of look-alikes: none is used.
CREATE SCHEMA pm_trap;
-- (were they used, every checksum would be 0 and every key NULL)
CREATE FUNCTION pm_trap.hashtextextended(text, bigint) RETURNS bigint LANGUAGE sql AS $$SELECT 0::bigint$$;
CREATE FUNCTION pm_trap.jsonb_extract_path_text(jsonb, VARIADIC text[]) RETURNS text LANGUAGE sql AS $$SELECT NULL::text$$;
GRANT USAGE ON SCHEMA pm_trap TO PUBLIC;
SET ROLE "regress pm owner";
SET search_path = "pm ""s"";", pm_trap, pg_catalog;

CREATE TABLE parent_t (k int PRIMARY KEY);
INSERT INTO parent_t SELECT g FROM generate_series(0, 9) g;
-- An integer key keeps the plan independent of the day the test runs.
CREATE TABLE "ord;ers" (
    id int GENERATED ALWAYS AS IDENTITY,
    "n o" bigserial,
    bucket int NOT NULL,
    code text,
    parent int REFERENCES parent_t,
    doubled int GENERATED ALWAYS AS (bucket * 2) STORED,
    CONSTRAINT "ord pk" PRIMARY KEY (id, bucket),
    CONSTRAINT ord_code UNIQUE (code),
    CHECK (bucket >= 0)
);
COMMENT ON TABLE "ord;ers" IS 'orders; commented';
COMMENT ON COLUMN "ord;ers".code IS 'the code';
CREATE INDEX "ord lower" ON "ord;ers" (lower(code)) WHERE code IS NOT NULL;
CREATE INDEX ord_parent ON "ord;ers" (parent);
CREATE TABLE lines (order_id int, bucket int, FOREIGN KEY (order_id, bucket) REFERENCES "ord;ers" (id, bucket));
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.code := coalesce(NEW.code, 'c' || NEW.id); RETURN NEW; END$$;
CREATE TRIGGER "stamp it" BEFORE INSERT ON "ord;ers" FOR EACH ROW EXECUTE FUNCTION stamp();
ALTER TABLE "ord;ers" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "low parents" ON "ord;ers" FOR SELECT TO regress_pm_reader USING (parent < 5);
GRANT SELECT ON "ord;ers" TO regress_pm_reader;
GRANT UPDATE (code) ON "ord;ers" TO regress_pm_reader;
INSERT INTO "ord;ers" (bucket, parent) SELECT g % 250, g % 10 FROM generate_series(1, 1000) g;
INSERT INTO lines SELECT id, bucket FROM "ord;ers" WHERE id % 7 = 0;

-- The plan: 3 partitions of 100 for 0..249, 2 ahead, a default one.
SELECT step, action, object, detail FROM dbopt.partition_table('"ord;ers"', 'bucket', '100', premake => 2)
 ORDER BY step;
-- Its statements, with the table's OID masked.
SELECT step, regexp_replace(sql, '\d{4,}', 'N', 'g') AS sql
  FROM dbopt.partition_table('"ord;ers"', 'bucket', '100', premake => 2)
 WHERE action IN ('create_table', 'primary_key', 'unique_constraint', 'index', 'trigger', 'row_security',
                  'grants', 'comment', 'identity', 'sequence', 'foreign_key_out', 'foreign_key_in', 'register')
 ORDER BY step;
-- A dry run records nothing.
SELECT count(*) AS migrations FROM dbopt.partition_migrations;

-- A time key: partitions from the oldest row's month, through now, plus premake.
CREATE TABLE ev (id bigint PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO ev SELECT g, timestamptz '2021-03-15' + g * interval '1 day' FROM generate_series(1, 60) g;
SELECT min(object) AS first_partition,
       count(*) FILTER (WHERE action = 'create_partition') >= (SELECT (extract(year FROM age(now(), '2021-03-01')) * 12
                                                                     + extract(month FROM age(now(), '2021-03-01')))::int + 4) AS reaches_premake
  FROM dbopt.partition_table('ev', 'at', '1 month', premake => 3) WHERE action = 'create_partition' AND object NOT LIKE '%default%';
-- Without a primary key on the partition column, it is added.
CREATE TABLE ev2 (id bigint PRIMARY KEY, at date NOT NULL);
SELECT action, detail FROM dbopt.partition_table('ev2', 'at', '1 year') WHERE action = 'primary_key';

-- Refusals, each found at planning with its reason.
\set VERBOSITY default
SELECT * FROM dbopt.partition_table('"ord;ers"', 'code', '1 month');
SELECT * FROM dbopt.partition_table('"ord;ers"', 'nope', '100');
SELECT * FROM dbopt.partition_table('"ord;ers"', 'parent', '100');
SELECT * FROM dbopt.partition_table('"ord;ers"', 'bucket', '1 month');
SELECT * FROM dbopt.partition_table('"ord;ers"', 'bucket', '0');
SELECT * FROM dbopt.partition_table('"ord;ers"', 'bucket', '  ');
SELECT * FROM dbopt.partition_table('ev', 'at', '30');
SELECT * FROM dbopt.partition_table('ev', 'at', 'a fortnight');
SELECT * FROM dbopt.partition_table('ev', 'at', '1 second');
SELECT * FROM dbopt.partition_table('ev', 'at', NULL);
SELECT * FROM dbopt.partition_table(NULL, 'at', '1 month');
SELECT * FROM dbopt.partition_table('ev', 'at', '1 month', premake => -1);
SELECT * FROM dbopt.partition_table('ev', 'at', '1 month', batch_size => 0);
SELECT * FROM dbopt.partition_table('ev', 'at', '1 month', batch_size => 2000000000);
SELECT * FROM dbopt.partition_table('ev', 'at', '1 month', dry_run => NULL);
SELECT * FROM dbopt.partition_table('ev', 'at', '1 hour');
-- the key of lines' foreign key lacks the partition column
ALTER TABLE lines DROP CONSTRAINT lines_order_id_bucket_fkey;
ALTER TABLE "ord;ers" ADD CONSTRAINT ord_id UNIQUE (id);
ALTER TABLE lines ADD FOREIGN KEY (order_id) REFERENCES "ord;ers" (id);
SELECT * FROM dbopt.partition_table('"ord;ers"', 'bucket', '100');
ALTER TABLE lines DROP CONSTRAINT lines_order_id_fkey;
ALTER TABLE "ord;ers" DROP CONSTRAINT ord_id;
ALTER TABLE lines ADD FOREIGN KEY (order_id, bucket) REFERENCES "ord;ers" (id, bucket);
CREATE TABLE nopk (id int, at date NOT NULL);
SELECT * FROM dbopt.partition_table('nopk', 'at', '1 month');
CREATE TABLE nullable (id int PRIMARY KEY, at date);
SELECT * FROM dbopt.partition_table('nullable', 'at', '1 month');
CREATE UNLOGGED TABLE unlogged_t (id int PRIMARY KEY, at date NOT NULL);
SELECT * FROM dbopt.partition_table('unlogged_t', 'at', '1 month');
CREATE TABLE already (id int, at date NOT NULL) PARTITION BY RANGE (at);
SELECT * FROM dbopt.partition_table('already', 'at', '1 month');
CREATE TABLE inh_parent (id int PRIMARY KEY, at date NOT NULL);
CREATE TABLE inh_child () INHERITS (inh_parent);
SELECT * FROM dbopt.partition_table('inh_parent', 'at', '1 month');
SELECT * FROM dbopt.partition_table('inh_child', 'at', '1 month');
CREATE TABLE ruled (id int PRIMARY KEY, at date NOT NULL);
CREATE RULE no_del AS ON DELETE TO ruled DO INSTEAD NOTHING;
SELECT * FROM dbopt.partition_table('ruled', 'at', '1 month');
CREATE TABLE viewed (id int PRIMARY KEY, at date NOT NULL);
CREATE VIEW viewed_v AS SELECT * FROM viewed;
SELECT * FROM dbopt.partition_table('viewed', 'at', '1 month');
CREATE TABLE selfref (id int, at date NOT NULL, up int, up_at date, PRIMARY KEY (id, at),
                      FOREIGN KEY (up, up_at) REFERENCES selfref);
SELECT * FROM dbopt.partition_table('selfref', 'at', '1 month');
CREATE TABLE notvalid (id int PRIMARY KEY, at date NOT NULL, p int);
ALTER TABLE notvalid ADD FOREIGN KEY (p) REFERENCES parent_t NOT VALID;
SELECT * FROM dbopt.partition_table('notvalid', 'at', '1 month');
CREATE TABLE excl (id int PRIMARY KEY, at date NOT NULL, EXCLUDE USING btree (id WITH =));
SELECT * FROM dbopt.partition_table('excl', 'at', '1 month');
CREATE TABLE uexpr (id int PRIMARY KEY, at date NOT NULL, c text);
CREATE UNIQUE INDEX ON uexpr (lower(c));
SELECT * FROM dbopt.partition_table('uexpr', 'at', '1 month');
CREATE TABLE forced (id int PRIMARY KEY, at date NOT NULL);
ALTER TABLE forced ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
SELECT * FROM dbopt.partition_table('forced', 'at', '1 month');
CREATE TABLE ident (id int PRIMARY KEY, at date NOT NULL);
ALTER TABLE ident REPLICA IDENTITY USING INDEX ident_pkey;
SELECT * FROM dbopt.partition_table('ident', 'at', '1 month');
CREATE TABLE ctrig (id int PRIMARY KEY, at date NOT NULL);
CREATE CONSTRAINT TRIGGER c AFTER INSERT ON ctrig FOR EACH ROW EXECUTE FUNCTION stamp();
SELECT * FROM dbopt.partition_table('ctrig', 'at', '1 month');
CREATE TABLE ttrig (id int PRIMARY KEY, at date NOT NULL);
CREATE FUNCTION nothing() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER t AFTER INSERT ON ttrig REFERENCING NEW TABLE AS n FOR EACH ROW EXECUTE FUNCTION nothing();
SELECT * FROM dbopt.partition_table('ttrig', 'at', '1 month');
CREATE TABLE arrkey (id int[], at date NOT NULL, PRIMARY KEY (id, at));
SELECT * FROM dbopt.partition_table('arrkey', 'at', '1 month');
CREATE VIEW a_view AS SELECT 1 AS id, current_date AS at;
SELECT * FROM dbopt.partition_table('a_view', 'at', '1 month');
-- Not the owner.
RESET ROLE;
SET ROLE regress_pm_other;
SELECT * FROM dbopt.partition_table('"pm ""s"";".ev', 'at', '1 month');
CALL dbopt.run_partition_migration('"pm ""s"";".ev');
RESET ROLE;
SET ROLE "regress pm owner";
-- Nothing planned, nothing to run, finish or undo.
CALL dbopt.run_partition_migration('ev');
SELECT * FROM dbopt.finish_partition_migration('ev');
SELECT * FROM dbopt.undo_partition_migration('ev');
BEGIN;
CALL dbopt.run_partition_migration('ev');
ROLLBACK;

-- A run: recorded, carried out, checked, finished.
SELECT count(*) > 0 AS planned FROM dbopt.partition_table('"ord;ers"', 'bucket', '100', premake => 2, batch_size => 300, dry_run => false);
SELECT * FROM dbopt.partition_table('"ord;ers"', 'bucket', '100');
CALL dbopt.run_partition_migration('"ord;ers"');
SELECT state, rows_copied, batches, last_key, errors FROM dbopt.partition_migrations;
SELECT c.relkind, pg_get_partkeydef(c.oid) AS key, obj_description(c.oid) AS comment,
       (SELECT count(*) FROM pg_inherits WHERE inhparent = c.oid) AS partitions
  FROM pg_class c WHERE c.oid = '"ord;ers"'::regclass;
SELECT tableoid::regclass AS partition, count(*), min(bucket), max(bucket) FROM "ord;ers" GROUP BY 1 ORDER BY 1;
SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '"ord;ers"'::regclass ORDER BY 1;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = '"ord;ers"'::regclass ORDER BY 1;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = '"ord;ers"'::regclass AND NOT tgisinternal ORDER BY 1;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = '"ord;ers_premigration"'::regclass AND NOT tgisinternal ORDER BY 1;
SELECT polname, pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = '"ord;ers"'::regclass;
SELECT relrowsecurity, relacl FROM pg_class WHERE oid = '"ord;ers"'::regclass;
SELECT attname, attacl FROM pg_attribute WHERE attrelid = '"ord;ers"'::regclass AND attacl IS NOT NULL;
SELECT col_description('"ord;ers"'::regclass, 4) AS code_comment;
SELECT conname, conrelid::regclass, confrelid::regclass, convalidated FROM pg_constraint
 WHERE conrelid = 'lines'::regclass AND contype = 'f' AND conparentid = 0;
SELECT pg_get_serial_sequence('"pm ""s"";"."ord;ers"', 'n o') AS serial_seq;
-- New rows: identity and serial go on from the original's, the trigger fires.
INSERT INTO "ord;ers" (bucket, parent) VALUES (5, 1) RETURNING id, "n o", code, doubled;
SELECT parent::text, partition_interval, premake, key_column FROM dbopt.partition_config;
SELECT action, count(*) FROM dbopt.maintenance_log WHERE operation = 'partition_migration' GROUP BY 1 ORDER BY 1;
-- TRUNCATE is refused while the migration is open.
\set SHOW_CONTEXT never
TRUNCATE "ord;ers", lines;
\set SHOW_CONTEXT errors
SELECT action, object FROM dbopt.finish_partition_migration('"ord;ers"', dry_run => true);
SELECT action, object FROM dbopt.finish_partition_migration('"ord;ers"');
SELECT to_regclass('"pm ""s"";"."ord;ers_premigration"') IS NOT NULL AS original_kept, state FROM dbopt.partition_migrations;
SELECT * FROM dbopt.undo_partition_migration('"ord;ers"');

-- Undo: writes after the swap come back to the original.
SELECT count(*) > 0 AS planned FROM dbopt.partition_table('ev', 'at', '1 year', dry_run => false);
CALL dbopt.run_partition_migration('ev');
INSERT INTO ev VALUES (1000, '2030-01-01');
UPDATE ev SET at = at + interval '1 year' WHERE id = 1;
DELETE FROM ev WHERE id = 2;
SELECT action, object FROM dbopt.undo_partition_migration('ev', dry_run => true);
SELECT (SELECT relkind FROM pg_class WHERE oid = 'ev'::regclass) AS relkind, count(*) FROM ev;
SELECT action, detail FROM dbopt.undo_partition_migration('ev') WHERE action = 'carry_back';
SELECT (SELECT relkind FROM pg_class WHERE oid = 'ev'::regclass) AS relkind, count(*),
       count(*) FILTER (WHERE id = 1000) AS inserted, count(*) FILTER (WHERE id = 2) AS deleted,
       min(at) FILTER (WHERE id = 1) AS moved
  FROM ev;
SELECT to_regclass('ev_migrating') AS copy, to_regclass('ev_premigration') AS premigration;
-- A migration whose table was renamed stops; one that failed half way is
-- abandoned by undo before the swap: the copy and the trigger go.
SELECT count(*) > 0 AS planned FROM dbopt.partition_table('ev2', 'at', '1 year', dry_run => false);
ALTER TABLE ev2 RENAME TO ev2_renamed;
CALL dbopt.run_partition_migration('ev2_renamed');
ALTER TABLE ev2_renamed RENAME TO ev2;
CREATE TABLE ev2_default (x int);
CALL dbopt.run_partition_migration('ev2');
SELECT to_regclass('ev2_migrating') IS NOT NULL AS copy_made;
SET client_min_messages = warning;
SELECT step, action, object, detail FROM dbopt.undo_partition_migration('ev2');
RESET client_min_messages;
SELECT to_regclass('ev2_migrating') AS copy,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'ev2'::regclass) AS triggers;
-- Attacks by the table's owner, who is no superuser: each would make
-- dbopt's owner run the owner's code.  pm_probe() fails loudly when it
-- runs as a superuser.
CREATE FUNCTION pm_probe() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'owner code ran as a superuser';
  END IF;
  RETURN true;
END$$;
CREATE TYPE pm_color AS ENUM ('v1', 'v2', 'v3');
CREATE FUNCTION pm_color_json(pm_color) RETURNS json LANGUAGE plpgsql AS $$
BEGIN PERFORM "pm ""s"";".pm_probe(); RETURN pg_catalog.to_json($1::text); END$$;
CREATE CAST (pm_color AS json) WITH FUNCTION pm_color_json(pm_color);
-- An enum key: its casts are the owner's; refused.
CREATE TABLE enumkey (id pm_color PRIMARY KEY, at date NOT NULL);
SELECT * FROM dbopt.partition_table('enumkey', 'at', '1 month');
-- Keys whose text depends on the writer's settings: a float key written
-- with extra_float_digits = -15 was captured rounded, so replay and the
-- swap's comparison of the keys written missed the row (the copy swapped
-- in kept the old row); interval (IntervalStyle) and regclass
-- (search_path) alike.  Refused.
CREATE TABLE floatkey (id float8 PRIMARY KEY, at date NOT NULL);
SELECT * FROM dbopt.partition_table('floatkey', 'at', '1 month');
CREATE TABLE ivkey (id interval, at date NOT NULL, PRIMARY KEY (at, id));
SELECT * FROM dbopt.partition_table('ivkey', 'at', '1 month');
CREATE TABLE regkey (id regclass PRIMARY KEY, at date NOT NULL);
SELECT * FROM dbopt.partition_table('regkey', 'at', '1 month');
-- A numeric key (exact in any session) is carried.
CREATE TABLE numkey (id numeric PRIMARY KEY, at date NOT NULL);
SELECT count(*) > 0 AS planned FROM dbopt.partition_table('numkey', 'at', '1 month');
DROP TABLE floatkey, ivkey, regkey, numkey;
-- A key changed to the enum after capture began: the capture trigger,
-- dbopt's own, refuses to convert it.  (A table holding the name planned
-- for the copy's primary key stops the run after the copy, with the
-- trigger in place.)
CREATE TABLE kt (id int PRIMARY KEY, at date NOT NULL);
INSERT INTO kt SELECT g, date '2024-01-01' + g FROM generate_series(1, 3) g;
SELECT count(*) > 0 AS planned FROM dbopt.partition_table('kt', 'at', '1 year', dry_run => false);
CREATE TABLE kt_pkey_pm ();
\set VERBOSITY terse
CALL dbopt.run_partition_migration('kt');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'kt'::regclass ORDER BY 1;
ALTER TABLE kt ALTER COLUMN id TYPE pm_color USING ('v' || id)::pm_color;
UPDATE kt SET at = at + 1 WHERE id = 'v1';
ALTER TABLE kt ALTER COLUMN id TYPE int USING substr(id::text, 2)::int;
-- The copy replaced by a view whose function would run as dbopt's owner
-- when the run verifies.  (A row put in the copy makes the first
-- verification fail, after the indexes.)
DROP TABLE kt_pkey_pm;
INSERT INTO kt_migrating VALUES (100, '2024-01-01');
CALL dbopt.run_partition_migration('kt');
CREATE TABLE kt_other AS SELECT * FROM kt;
DROP TABLE kt_migrating;
CREATE VIEW kt_migrating AS SELECT * FROM kt_other WHERE pm_probe();
CALL dbopt.run_partition_migration('kt');
DROP VIEW kt_migrating;
SELECT action FROM dbopt.undo_partition_migration('kt');
\set VERBOSITY default
-- Planning the verification const-folds the immutable calls of the
-- tables' statistics and index expressions and index predicates: they run
-- as the table's owner, who verifies (never as dbopt's owner, or
-- pm_probe() would fail), and the migration goes through.
CREATE FUNCTION pm_iprobe() RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN PERFORM "pm ""s"";".pm_probe(); RETURN 0; END$$;
CREATE TABLE st (id int PRIMARY KEY, at date NOT NULL);
INSERT INTO st SELECT g, date '2024-01-01' + g FROM generate_series(1, 3) g;
CREATE STATISTICS st_x ON (id + pm_iprobe()) FROM st;
CREATE INDEX st_pred ON st (at) WHERE id > pm_iprobe();
CREATE INDEX st_expr ON st ((id + pm_iprobe()));
ANALYZE st;
-- dbopt's settings of the table follow it at the swap and back on undo.
RESET ROLE;
SELECT count(*) AS policies FROM dbopt.add_retention_policy('"pm ""s"";".st', 'at', '10 years');
SELECT dbopt.mark_sensitive('"pm ""s"";".st', 'id', 'financial');
SET ROLE "regress pm owner";
SELECT count(*) > 0 AS planned FROM dbopt.partition_table('st', 'at', '1 year', dry_run => false);
CALL dbopt.run_partition_migration('st');
SELECT relkind, (SELECT count(*) FROM st) AS rows FROM pg_class WHERE oid = 'st'::regclass;
SELECT (SELECT relkind FROM pg_class WHERE oid = r.relation) AS policy_on,
       (SELECT relkind FROM pg_class WHERE oid = s.relation) AS sensitive_on
  FROM dbopt.retention_policies r, dbopt.sensitive_columns s
 WHERE r.relation = 'st'::regclass AND s.relation = 'st'::regclass;
SELECT action FROM dbopt.undo_partition_migration('st');
SELECT (SELECT relkind FROM pg_class WHERE oid = r.relation) AS policy_on,
       (SELECT relkind FROM pg_class WHERE oid = s.relation) AS sensitive_on
  FROM dbopt.retention_policies r, dbopt.sensitive_columns s
 WHERE r.relation = 'st'::regclass AND s.relation = 'st'::regclass;
RESET ROLE;
SELECT dbopt.remove_retention_policy('"pm ""s"";".st');
DELETE FROM dbopt.sensitive_columns WHERE relation = '"pm ""s"";".st'::regclass;
SET ROLE "regress pm owner";
-- Undo before the swap drops the copy it made, never a table put in its
-- place.  (A table holding the name planned for the copy's primary key
-- stops the run after the copy.)
CREATE TABLE ab (id int PRIMARY KEY, at date NOT NULL);
INSERT INTO ab SELECT g, date '2024-01-01' + g FROM generate_series(1, 3) g;
SELECT count(*) > 0 AS planned FROM dbopt.partition_table('ab', 'at', '1 year', dry_run => false);
CREATE TABLE ab_pkey_pm ();
\set VERBOSITY terse
CALL dbopt.run_partition_migration('ab');
ALTER TABLE ab_migrating RENAME TO "ab moved";
CREATE TABLE ab_migrating (keep int);
SELECT action FROM dbopt.undo_partition_migration('ab');
\set VERBOSITY default
DROP TABLE ab_migrating, ab_pkey_pm;
ALTER TABLE "ab moved" RENAME TO ab_migrating;
SELECT action FROM dbopt.undo_partition_migration('ab');
SELECT to_regclass('ab_migrating') AS copy, relkind FROM pg_class WHERE oid = 'ab'::regclass;
-- Carried over: the storage parameters (to each partition planned), the
-- tablespace (the partitions' default), and the comments on the primary
-- key, a foreign key, a trigger and a policy.
RESET ROLE;
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE "pm ""ts"";" LOCATION '';
GRANT CREATE ON TABLESPACE "pm ""ts"";" TO "regress pm owner";
SET ROLE "regress pm owner";
CREATE TABLE cr_ref (id int PRIMARY KEY);
CREATE TABLE cr (id int PRIMARY KEY, at date NOT NULL, ref int REFERENCES cr_ref, note text)
  WITH (fillfactor = 70, autovacuum_enabled = false, toast.autovacuum_enabled = false) TABLESPACE "pm ""ts"";";
COMMENT ON CONSTRAINT cr_pkey ON cr IS 'the key''s comment';
COMMENT ON CONSTRAINT cr_ref_fkey ON cr IS 'the reference';
CREATE FUNCTION cr_trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER "cr t" BEFORE INSERT ON cr FOR EACH ROW EXECUTE FUNCTION cr_trg();
COMMENT ON TRIGGER "cr t" ON cr IS 'the trigger';
CREATE POLICY "cr p" ON cr USING (true);
COMMENT ON POLICY "cr p" ON cr IS 'the policy';
INSERT INTO cr SELECT g, date '2024-01-01' + g FROM generate_series(1, 3) g;
SELECT count(*) > 0 AS planned FROM dbopt.partition_table('cr', 'at', '1 year', dry_run => false);
CALL dbopt.run_partition_migration('cr');
SELECT c.relkind, s.spcname FROM pg_class c LEFT JOIN pg_tablespace s ON s.oid = c.reltablespace
 WHERE c.oid = 'cr'::regclass;
SELECT count(*) AS partitions,
       count(*) FILTER (WHERE c.reloptions = '{fillfactor=70,autovacuum_enabled=false}'
                          AND t.reloptions = '{autovacuum_enabled=false}'
                          AND s.spcname = 'pm "ts";') AS carried
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
  LEFT JOIN pg_tablespace s ON s.oid = c.reltablespace
 WHERE i.inhparent = 'cr'::regclass;
SELECT conname, obj_description(oid, 'pg_constraint') FROM pg_constraint
 WHERE conrelid = 'cr'::regclass AND contype IN ('p', 'f') ORDER BY 1;
SELECT tgname, obj_description(oid, 'pg_trigger') FROM pg_trigger
 WHERE tgrelid = 'cr'::regclass AND NOT tgisinternal AND tgname NOT LIKE 'dbopt%' ORDER BY 1;
SELECT polname, obj_description(oid, 'pg_policy') FROM pg_policy WHERE polrelid = 'cr'::regclass;
SELECT count(*) > 0 AS finished FROM dbopt.finish_partition_migration('cr');
-- Undo after the swap names the partitioned table: one put in its place
-- is neither carried back from nor dropped.
CREATE TABLE sw (id int PRIMARY KEY, at date NOT NULL);
INSERT INTO sw SELECT g, date '2024-01-01' + g FROM generate_series(1, 3) g;
SELECT count(*) > 0 AS planned FROM dbopt.partition_table('sw', 'at', '1 year', dry_run => false);
CALL dbopt.run_partition_migration('sw');
ALTER TABLE sw RENAME TO sw_moved;
CREATE TABLE sw (id int PRIMARY KEY, at date NOT NULL);
SELECT action FROM dbopt.undo_partition_migration('sw_premigration');
SELECT action FROM dbopt.finish_partition_migration('sw_premigration', drop_original => true);
SELECT to_regclass('sw') IS NOT NULL AS new_sw, to_regclass('sw_moved') IS NOT NULL AS partitioned,
       (SELECT count(*) FROM sw_premigration) AS original_rows;
DROP TABLE sw;
ALTER TABLE sw_moved RENAME TO sw;
SELECT action FROM dbopt.undo_partition_migration('sw');
SELECT relkind, (SELECT count(*) FROM sw) AS sw_rows FROM pg_class WHERE oid = 'sw'::regclass;
RESET ROLE;
SELECT count(*) AS captured_left FROM dbopt.partition_migration_changes;
SELECT state, errors, regexp_replace(last_error, '\d{4,}', 'N', 'g') AS last_error
  FROM dbopt.partition_migrations WHERE table_name = 'ev2';
SELECT original::regclass, state FROM dbopt.partition_migrations ORDER BY id;
SELECT dbopt.unmanage_partitions('"pm ""s"";"."ord;ers"');
SELECT dbopt.unmanage_partitions('"pm ""s"";".cr');
DROP SCHEMA "pm ""s"";" CASCADE;
DROP SCHEMA pm_trap CASCADE;
DROP TABLESPACE "pm ""ts"";";
DROP OWNED BY "regress pm owner", regress_pm_other, regress_pm_reader;
DROP ROLE "regress pm owner", regress_pm_other, regress_pm_reader;
