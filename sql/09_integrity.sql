-- check_data_integrity(): every check with exact counts, identifiers that
-- need quoting, and isolation of checks that cannot run.
CREATE SCHEMA "integ ""s"";";
SET search_path = "integ ""s"";", public;
CREATE FUNCTION pg_temp.sorted(j jsonb) RETURNS jsonb LANGUAGE sql
    AS $$ SELECT jsonb_agg(x ORDER BY x) FROM jsonb_array_elements(j) x $$;

-- NOT VALID foreign key: two orphans and one NULL (not an orphan).
CREATE TABLE "par ent;" (id int PRIMARY KEY);
INSERT INTO "par ent;" SELECT generate_series(1, 10);
CREATE TABLE "ch""ild" (id serial PRIMARY KEY, "p id" int);
INSERT INTO "ch""ild" ("p id") VALUES (1), (2), (98), (99), (NULL);
ALTER TABLE "ch""ild" ADD CONSTRAINT "fk; p" FOREIGN KEY ("p id") REFERENCES "par ent;" NOT VALID;

-- MATCH FULL: a partly NULL key violates, an all-NULL key does not.
CREATE TABLE pk2 (a int, b int, PRIMARY KEY (a, b));
INSERT INTO pk2 VALUES (1, 1);
CREATE TABLE fk2 (a int, b int);
INSERT INTO fk2 VALUES (1, 1), (1, NULL), (NULL, NULL), (2, 2);
ALTER TABLE fk2 ADD CONSTRAINT fk2_full FOREIGN KEY (a, b) REFERENCES pk2 MATCH FULL NOT VALID;
-- The same rows under MATCH SIMPLE: only (2, 2) is an orphan.
CREATE TABLE fk2s (a int, b int);
INSERT INTO fk2s SELECT * FROM fk2;
ALTER TABLE fk2s ADD CONSTRAINT fk2_simple FOREIGN KEY (a, b) REFERENCES pk2 NOT VALID;

-- A key compared under the referenced column's nondeterministic collation,
-- as the server compares it: 'abc' matches 'ABC', so no orphan.
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE ci_parent (code text COLLATE ci PRIMARY KEY);
INSERT INTO ci_parent VALUES ('ABC');
CREATE TABLE ci_child (code text);
INSERT INTO ci_child VALUES ('abc');
ALTER TABLE ci_child ADD CONSTRAINT ci_child_fk FOREIGN KEY (code) REFERENCES ci_parent NOT VALID;

-- A validated foreign key with orphans loaded in replica mode: deep only.
CREATE TABLE rp (id int PRIMARY KEY);
CREATE TABLE rc (rp_id int REFERENCES rp);
SET session_replication_role = replica;
INSERT INTO rc VALUES (7), (8), (9);
RESET session_replication_role;

-- A NOT VALID CHECK with two violating rows (NULL passes a CHECK).
CREATE TABLE amounts (id int PRIMARY KEY, amount numeric);
INSERT INTO amounts VALUES (1, 10), (2, -1), (3, -2), (4, NULL);
ALTER TABLE amounts ADD CONSTRAINT amount_positive CHECK (amount > 0) NOT VALID;
-- A validated CHECK broken behind its back is found by deep only.
CREATE TABLE checked (id int PRIMARY KEY, v int);
INSERT INTO checked VALUES (1, 1), (2, 500);
ALTER TABLE checked ADD CONSTRAINT v_small CHECK (v < 100) NOT VALID;
UPDATE pg_constraint SET convalidated = true
 WHERE conname = 'v_small' AND conrelid = 'checked'::regclass;

-- NOT VALID and clean: info, with the VALIDATE statement.
CREATE TABLE "clean tbl" (id int PRIMARY KEY, n int);
INSERT INTO "clean tbl" VALUES (1, 1);
ALTER TABLE "clean tbl" ADD CONSTRAINT "n;pos" CHECK (n > 0) NOT VALID;

-- Disabled RI triggers: the FK is scanned even though it is marked valid.
CREATE TABLE dp (id int PRIMARY KEY);
CREATE TABLE dc (dp_id int REFERENCES dp);
ALTER TABLE dc DISABLE TRIGGER ALL;
INSERT INTO dc VALUES (5);

-- An invalid unique index left by a failed CREATE INDEX CONCURRENTLY:
-- two duplicated keys; NULLs are not duplicates.
CREATE TABLE dups (email text);
INSERT INTO dups VALUES ('a'), ('a'), ('b'), ('b'), ('c'), (NULL), (NULL);
CREATE UNIQUE INDEX CONCURRENTLY dups_email_key ON dups (email);

-- Sequences: an int4 serial at 93%, an int4 column fed by a bigint
-- sequence at 80% of the int4 limit, a smallint identity at 49%.
CREATE TABLE s93 (id serial PRIMARY KEY);
SELECT setval('s93_id_seq', (2147483647 * 0.93)::int) > 0 AS set;
CREATE SEQUENCE big_seq AS bigint;
CREATE TABLE s80 (id int DEFAULT nextval('big_seq'));
SELECT setval('big_seq', (2147483647 * 0.80)::bigint) > 0 AS set;
CREATE TABLE s49 (id smallint GENERATED ALWAYS AS IDENTITY);
SELECT setval(pg_get_serial_sequence('s49', 'id'), 16000) > 0 AS set;

-- A collation whose recorded version no longer matches the library.
CREATE COLLATION "coll x" (provider = icu, locale = 'und');
CREATE TABLE colltab (t text COLLATE "coll x");
CREATE INDEX colltab_t_idx ON colltab (t);
UPDATE pg_collation SET collversion = '0.1' WHERE collname = 'coll x';

SELECT severity, check_name, object_name, violating_rows, pg_temp.sorted(sample) AS sample
  FROM dbopt.check_data_integrity()
 WHERE object_name LIKE '"integ ""s"";".%'
 ORDER BY check_name, object_name;

-- deep adds the validated foreign key and CHECK that lie.
SELECT severity, check_name, object_name, violating_rows, pg_temp.sorted(sample) AS sample
  FROM dbopt.check_data_integrity(deep => true)
 WHERE object_name LIKE '"integ ""s"";".%'
   AND check_name IN ('fk_orphan_rows', 'check_violation')
 ORDER BY check_name, object_name;

-- fix_sql is runnable as printed, with every identifier quoted.
SELECT check_name, fix_sql FROM dbopt.check_data_integrity()
 WHERE object_name LIKE '"integ ""s"";".%'
   AND check_name NOT IN ('disabled_constraint_trigger')
   AND fix_sql IS NOT NULL
 ORDER BY check_name, object_name;
SELECT regexp_replace(fix_sql, '_\d+', '_N', 'g') AS enable_triggers,
       regexp_replace(detail, '_\d+', '_N', 'g') AS detail
  FROM dbopt.check_data_integrity('dc') WHERE check_name = 'disabled_constraint_trigger';
SELECT detail FROM dbopt.check_data_integrity('"ch""ild"') WHERE check_name = 'fk_orphan_rows';
SELECT detail FROM dbopt.check_data_integrity('s80') WHERE check_name = 'sequence_exhaustion';
-- Duplicated keys: no fix (a rebuild would fail and leave a _ccnew), but
-- the query that lists them.
SELECT fix_sql, remediation FROM dbopt.check_data_integrity('dups') WHERE check_name = 'invalid_unique_index';
-- A foreign key copies the sequence's values: its column is widened in the
-- same script; a view on it blocks ALTER COLUMN TYPE, so no fix, named.
CREATE TABLE s93_ref (s93_id int REFERENCES s93);
SELECT fix_sql FROM dbopt.check_data_integrity('s93') WHERE check_name = 'sequence_exhaustion';
CREATE VIEW s93_view AS SELECT s93_id FROM s93_ref;
SELECT fix_sql, remediation FROM dbopt.check_data_integrity('s93') WHERE check_name = 'sequence_exhaustion';
DROP VIEW s93_view;
DROP TABLE s93_ref;
-- The orphan fix deletes exactly the orphans.
BEGIN;
DO $$ BEGIN EXECUTE (SELECT fix_sql FROM dbopt.check_data_integrity('fk2')
                      WHERE check_name = 'fk_orphan_rows'); END $$;
SELECT * FROM fk2 ORDER BY a, b;
ROLLBACK;

-- target limits the checks to one table; sample_limit caps the sample.
SELECT check_name, object_name, violating_rows, jsonb_array_length(sample) AS sampled
  FROM dbopt.check_data_integrity('rc', deep => true, sample_limit => 2);
SELECT count(*) FROM dbopt.check_data_integrity('rc', sample_limit => 0);

-- A partitioned foreign key: disabling its triggers on the parent is one
-- finding; on one partition only, a finding for that partition.
CREATE TABLE pf (id int, dp_id int REFERENCES dp) PARTITION BY RANGE (id);
CREATE TABLE pf1 PARTITION OF pf FOR VALUES FROM (0) TO (10);
CREATE TABLE pf2 PARTITION OF pf FOR VALUES FROM (10) TO (20);
ALTER TABLE pf DISABLE TRIGGER ALL;
SELECT object_name FROM dbopt.check_data_integrity('pf')
 WHERE check_name = 'disabled_constraint_trigger' ORDER BY 1;
ALTER TABLE pf ENABLE TRIGGER ALL;
ALTER TABLE pf2 DISABLE TRIGGER ALL;
SELECT object_name FROM dbopt.check_data_integrity('pf')
 WHERE check_name = 'disabled_constraint_trigger' ORDER BY 1;
DROP TABLE pf;

-- Partitioned target: each partition is checked against the inherited CHECK.
CREATE TABLE ev (id int, ts date, org int) PARTITION BY RANGE (ts);
CREATE TABLE "ev a" PARTITION OF ev FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE "ev b" PARTITION OF ev FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
INSERT INTO ev VALUES (1, '2020-05-01', 1), (2, '2021-05-01', 50), (3, '2021-06-01', -1);
ALTER TABLE ev ADD CONSTRAINT ev_org_chk CHECK (org > 0) NOT VALID;
SELECT severity, check_name, object_name, violating_rows, sample
  FROM dbopt.check_data_integrity('ev') ORDER BY object_name;

-- Suppressions apply as in every report.
SELECT dbopt.suppress('fk_orphan_rows', '"integ ""s"";".fk2.fk2_full', 'legacy rows, ticket 42');
SELECT count(*) AS shown FROM dbopt.check_data_integrity('fk2') WHERE check_name = 'fk_orphan_rows';
SELECT count(*) AS shown FROM dbopt.check_data_integrity('fk2', include_suppressed => true)
 WHERE check_name = 'fk_orphan_rows';
SELECT dbopt.unsuppress('fk_orphan_rows', '"integ ""s"";".fk2.fk2_full');

-- A check that cannot run is a check_failed row; the others still run.
CREATE ROLE regress_integ_monitor IN ROLE pg_monitor;
GRANT USAGE ON SCHEMA "integ ""s"";" TO regress_integ_monitor;
GRANT SELECT ON amounts TO regress_integ_monitor;
SET ROLE regress_integ_monitor;
SELECT severity, check_name, object_name, detail FROM dbopt.check_data_integrity('amounts');
SELECT severity, check_name, object_name, detail FROM dbopt.check_data_integrity('"ch""ild"')
 ORDER BY check_name;
-- Without SELECT, a pg_monitor member still gets the critical findings:
-- the sequence at 93% and the duplicated keys (counts, never sample rows).
SELECT severity, check_name, object_name, violating_rows, sample
  FROM dbopt.check_data_integrity()
 WHERE object_name LIKE '"integ ""s"";".%' AND severity = 'critical'
 ORDER BY check_name, object_name;
RESET ROLE;
-- A role with neither: one info row per check it had to skip.
CREATE ROLE regress_integ_plain;
GRANT USAGE ON SCHEMA "integ ""s"";" TO regress_integ_plain;
GRANT EXECUTE ON FUNCTION dbopt.check_data_integrity(regclass, boolean, integer, boolean) TO regress_integ_plain;
GRANT SELECT ON dbopt.suppressions TO regress_integ_plain;
SET ROLE regress_integ_plain;
SELECT severity, check_name, object_name, detail, remediation FROM dbopt.check_data_integrity('"ch""ild"')
 ORDER BY check_name, object_name;
RESET ROLE;
REVOKE ALL ON FUNCTION dbopt.check_data_integrity(regclass, boolean, integer, boolean) FROM regress_integ_plain;
REVOKE ALL ON dbopt.suppressions FROM regress_integ_plain;
REVOKE ALL ON SCHEMA "integ ""s"";" FROM regress_integ_plain;
DROP ROLE regress_integ_plain;

-- dbopt.check_timeout stops one slow scan; the other checks still run.
CREATE FUNCTION slow_positive(n int) RETURNS boolean LANGUAGE sql
    AS $$ SELECT pg_sleep(0.2) IS NOT NULL AND n > 0 $$;
CREATE TABLE slow (id int PRIMARY KEY, n int);
INSERT INTO slow VALUES (1, 1), (2, 2);
ALTER TABLE slow ADD CONSTRAINT slow_chk CHECK (slow_positive(n)) NOT VALID;
ALTER TABLE slow ADD CONSTRAINT slow_fast CHECK (n < 0) NOT VALID;
SET dbopt.check_timeout = '50ms';
SELECT severity, check_name, object_name, violating_rows, detail
  FROM dbopt.check_data_integrity('slow') ORDER BY object_name;
RESET dbopt.check_timeout;
-- statement_timeout is the user's: it still cancels the whole call.
SET statement_timeout = '100ms';
SELECT count(*) FROM dbopt.check_data_integrity('slow');
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;

-- Bad input.
SELECT * FROM dbopt.check_data_integrity(sample_limit => -1);
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW v AS SELECT 1 AS x;
SELECT * FROM dbopt.check_data_integrity('v');
\echo :LAST_ERROR_SQLSTATE

-- Without amcheck, deep says that physical checks were skipped.
SELECT count(*) FROM dbopt.check_data_integrity('"clean tbl"', deep => true);
CREATE EXTENSION amcheck;
SELECT count(*) AS corruption_rows FROM dbopt.check_data_integrity(deep => true)
 WHERE check_name IN ('index_corruption', 'heap_corruption');
DROP EXTENSION amcheck;

RESET search_path;
REVOKE ALL ON SCHEMA "integ ""s"";" FROM regress_integ_monitor;
SET client_min_messages = warning;
DROP SCHEMA "integ ""s"";" CASCADE;
RESET client_min_messages;
DROP ROLE regress_integ_monitor;
