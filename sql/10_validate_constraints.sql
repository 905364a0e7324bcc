-- validate_constraints(): dry run, real run, skips with reasons, owners only.
CREATE SCHEMA "val ""s"";";
SET search_path = "val ""s"";", public;
CREATE TABLE "par ent;" (id int PRIMARY KEY);
INSERT INTO "par ent;" SELECT generate_series(1, 10);
CREATE TABLE "ch""ild" (id int PRIMARY KEY, "p id" int, n int);
INSERT INTO "ch""ild" VALUES (1, 1, 1), (2, 2, 2), (3, NULL, 3);
ALTER TABLE "ch""ild" ADD CONSTRAINT "fk; p" FOREIGN KEY ("p id") REFERENCES "par ent;" NOT VALID;
ALTER TABLE "ch""ild" ADD CONSTRAINT "n; positive" CHECK (n > 0) NOT VALID;
CREATE TABLE dirty (id int PRIMARY KEY, p int, n int);
INSERT INTO dirty VALUES (1, 1, 1), (2, 99, -5);
ALTER TABLE dirty ADD CONSTRAINT dirty_fk FOREIGN KEY (p) REFERENCES "par ent;" NOT VALID;
ALTER TABLE dirty ADD CONSTRAINT dirty_chk CHECK (n > 0) NOT VALID;
CREATE TABLE ev (id int, org int) PARTITION BY RANGE (id);
CREATE TABLE ev1 PARTITION OF ev FOR VALUES FROM (0) TO (100);
INSERT INTO ev VALUES (1, 1);
ALTER TABLE ev ADD CONSTRAINT ev_org_chk CHECK (org > 0) NOT VALID;

CREATE FUNCTION pg_temp.not_valid() RETURNS TABLE (conname name, rel regclass)
    LANGUAGE sql AS $$
    SELECT conname, conrelid::regclass FROM pg_constraint
     WHERE NOT convalidated AND connamespace = '"val ""s"";"'::regnamespace
     ORDER BY 2::text, 1 $$;

-- The dry run changes nothing and says what a real run will do.
SELECT * FROM dbopt.validate_constraints(dry_run => true) ORDER BY table_name::text, constraint_name;
SELECT * FROM pg_temp.not_valid();
SELECT count(*) AS logged FROM dbopt.maintenance_log;

-- The real run does exactly that, and logs each validation.
SELECT * FROM dbopt.validate_constraints() ORDER BY table_name::text, constraint_name;
SELECT * FROM pg_temp.not_valid();
SELECT role_name, operation, object_name, action, rows, detail
  FROM dbopt.maintenance_log ORDER BY object_name;

-- Nothing left to do for a target that is clean now.
SELECT * FROM dbopt.validate_constraints('"ch""ild"');

-- Owners only: a target the caller does not own is an error; without a
-- target, others' tables are skipped.
CREATE ROLE regress_val_user;
GRANT USAGE ON SCHEMA "val ""s"";", dbopt TO regress_val_user;
GRANT EXECUTE ON FUNCTION dbopt.validate_constraints(regclass, boolean) TO regress_val_user;
CREATE TABLE mine (n int);
ALTER TABLE mine OWNER TO regress_val_user;
INSERT INTO mine VALUES (1);
ALTER TABLE mine ADD CONSTRAINT mine_chk CHECK (n > 0) NOT VALID;
SET ROLE regress_val_user;
SELECT * FROM dbopt.validate_constraints('dirty', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.validate_constraints(dry_run => true) ORDER BY table_name::text, constraint_name;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION dbopt.validate_constraints(regclass, boolean) FROM regress_val_user;
DROP TABLE mine;
REVOKE USAGE ON SCHEMA "val ""s"";", dbopt FROM regress_val_user;
DROP ROLE regress_val_user;

CREATE VIEW v AS SELECT 1 AS x;
SELECT * FROM dbopt.validate_constraints('v');
\echo :LAST_ERROR_SQLSTATE
RESET search_path;
DELETE FROM dbopt.maintenance_log;
SET client_min_messages = warning;
DROP SCHEMA "val ""s"";" CASCADE;
RESET client_min_messages;
