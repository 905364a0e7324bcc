-- Row-retention policies: validation, batched deletes with and without an
-- index, archive mode, partitioned tables, errors isolated per policy,
-- dry runs, owners, and the committing procedure.
CREATE SCHEMA "ret ""s"";";
SET search_path = "ret ""s"";", public;
-- Whole days from now() back to 2001 are exact only without DST changes.
SET TimeZone = 'UTC';

-- All data is in 2001; keep is chosen so that the cutoff falls at
-- 2001-07-01 00:30 UTC (plus the seconds the test takes), half an hour
-- away from any row, so counts do not depend on the day the test runs.
SELECT now() - timestamptz '2001-07-01 00:30:00+00' AS keep \gset

CREATE TABLE "ev ""1"";" (id bigserial PRIMARY KEY, "at time" timestamptz NOT NULL, note text);
INSERT INTO "ev ""1"";" ("at time", note)
SELECT t, 'n' || to_char(t, 'DDD') FROM generate_series(timestamptz '2001-01-01 00:00+00', '2001-12-31 23:00+00', '1 hour') t;
CREATE INDEX ON "ev ""1"";" ("at time");

-- No index on the time column: batches walk the heap in block ranges.
CREATE TABLE noidx (id int, d date, v text);
INSERT INTO noidx SELECT g, date '2001-01-01' + (g % 365), 'x' FROM generate_series(1, 7300) g;
ANALYZE;

-- Validation: every bad argument is refused with the reason.
SELECT dbopt.add_retention_policy('noidx', 'nope', '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('noidx', 'v', '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('noidx', 'd', '-1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('noidx', 'd', '0');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('noidx', 'd', '1 day', 'truncate');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('noidx', 'd', '1 day', 'delete', 'noidx');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('noidx', 'd', '1 day', batch_size => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('noidx', 'd', '1 day', max_rows_per_run => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('noidx', 'd', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('noidx', 'd', '1 day', 'archive', 'noidx');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE wrong_shape (id int, d timestamptz);
SELECT dbopt.add_retention_policy('noidx', 'd', '1 day', 'archive', 'wrong_shape');
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW a_view AS SELECT * FROM noidx;
SELECT dbopt.add_retention_policy('a_view', 'd', '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS policies FROM dbopt.retention_policies;

SELECT relation, time_column, mode, archive_table, batch_size, max_rows_per_run, enabled
  FROM dbopt.add_retention_policy('"ev ""1"";"', 'at time', :'keep', batch_size => 1000);
SELECT relation, time_column, mode, archive_table, batch_size
  FROM dbopt.add_retention_policy('noidx', 'd', :'keep', batch_size => 500);

-- The rows that must go, counted independently.
SELECT count(*) AS ev_old FROM "ev ""1"";" WHERE "at time" < '2001-07-01 00:30:00+00';
SELECT count(*) AS noidx_old FROM noidx WHERE d < '2001-07-01 00:30:00+00'::timestamptz;

-- A dry run counts what would go and changes nothing.
CREATE TEMP TABLE dry AS
SELECT relation, mode, cutoff, rows_deleted, rows_archived, partitions_dropped, batches, status, detail
  FROM dbopt.apply_data_retention_policies(dry_run => true);
SELECT relation, mode, cutoff BETWEEN '2001-07-01 00:30:00+00' AND '2001-07-01 00:31:00+00' AS cutoff_ok,
       rows_deleted, rows_archived, partitions_dropped, batches, status, detail FROM dry ORDER BY relation::text;
SELECT count(*) AS ev_rows FROM "ev ""1"";";

-- The real run does exactly that: same counts, same batches.
CREATE TEMP TABLE real AS
SELECT relation, mode, rows_deleted, rows_archived, partitions_dropped, batches, status, detail
  FROM dbopt.apply_data_retention_policies();
SELECT relation, rows_deleted, rows_archived, partitions_dropped, batches, status FROM real ORDER BY relation::text;
SELECT count(*) AS differences FROM (
    (SELECT relation, rows_deleted, rows_archived, partitions_dropped, batches FROM dry
     EXCEPT SELECT relation, rows_deleted, rows_archived, partitions_dropped, batches FROM real)
    UNION ALL
    (SELECT relation, rows_deleted, rows_archived, partitions_dropped, batches FROM real
     EXCEPT SELECT relation, rows_deleted, rows_archived, partitions_dropped, batches FROM dry)) d;
-- Nothing at or after the cutoff went; nothing before it stayed.
SELECT count(*) AS ev_left, min("at time") AT TIME ZONE 'UTC' AS oldest FROM "ev ""1"";";
SELECT count(*) AS noidx_left, min(d) AS oldest FROM noidx;
SELECT relation, last_rows, last_status, last_run_at IS NOT NULL AS ran
  FROM dbopt.retention_policies ORDER BY relation::text;
SELECT operation, object_name, action, rows, regexp_replace(detail, '^cutoff [^;]*; ([0-9]+ batch\(es\)), longest [0-9.]+ ms(; .*); took [0-9.]+ ms', '\1\2') AS detail
  FROM dbopt.maintenance_log WHERE operation = 'apply_data_retention_policies'
 ORDER BY logged_at;
-- A second run finds nothing left.
SELECT relation, rows_deleted, batches, status FROM dbopt.apply_data_retention_policies() ORDER BY relation::text;
SELECT dbopt.remove_retention_policy('noidx');
SELECT dbopt.remove_retention_policy('noidx');

-- Many rows sharing one time (a date column with an index): a batch still
-- takes at most batch_size rows, and the dry run makes the same batches.
CREATE TABLE "tie d" (at date NOT NULL, n int);
INSERT INTO "tie d" SELECT date '2001-06-20' + (g / 50), g FROM generate_series(0, 999) g;
CREATE INDEX ON "tie d" (at);
SELECT relation FROM dbopt.add_retention_policy('"tie d"', 'at', :'keep', batch_size => 20);
SELECT count(*) AS tie_old FROM "tie d" WHERE at < '2001-07-01 00:30:00+00'::timestamptz;
CREATE TEMP TABLE tdry AS SELECT rows_deleted, batches
  FROM dbopt.apply_data_retention_policies(true) WHERE relation = '"tie d"'::regclass;
SELECT * FROM tdry;
SELECT rows_deleted, batches, (rows_deleted, batches) = (SELECT rows_deleted, batches FROM tdry) AS same_as_dry_run
  FROM dbopt.apply_data_retention_policies() WHERE relation = '"tie d"'::regclass;
SELECT count(*) AS tie_left, min(at) AS oldest FROM "tie d";
SELECT dbopt.remove_retention_policy('"tie d"');

-- Archive mode: each batch moves rows in one statement; kept plus archived
-- rows are exactly the original rows.
CREATE TABLE "arch;" (id int PRIMARY KEY, at timestamp NOT NULL, payload text, "odd ""col""" numeric);
INSERT INTO "arch;" SELECT g, timestamp '2001-01-01' + g * interval '37 minutes', md5(g::text), g / 7.0
  FROM generate_series(1, 12000) g;
CREATE INDEX ON "arch;" (at);
SELECT md5(string_agg(a::text, '|' ORDER BY id)) AS before FROM "arch;" a \gset
SELECT relation, mode, archive_table, batch_size
  FROM dbopt.add_retention_policy('"arch;"', 'at', :'keep', 'archive', batch_size => 700);
SELECT relname, relkind FROM pg_class WHERE relname LIKE 'arch;%' ORDER BY 1;
SELECT relation, mode, rows_deleted, rows_archived, batches, status
  FROM dbopt.apply_data_retention_policies(true) WHERE relation = '"arch;"'::regclass;
SELECT relation, mode, rows_deleted, rows_archived, batches, status
  FROM dbopt.apply_data_retention_policies() WHERE relation = '"arch;"'::regclass;
SELECT (SELECT count(*) FROM "arch;") AS kept, (SELECT count(*) FROM "arch;_archive") AS archived,
       (SELECT max(at) FROM "arch;_archive") < (SELECT min(at) FROM "arch;") AS split_at_cutoff;
SELECT md5(string_agg(a::text, '|' ORDER BY id)) = :'before' AS same_rows
  FROM (SELECT * FROM "arch;" UNION ALL SELECT * FROM "arch;_archive") a;
-- Re-registering reuses the archive table it made.
SELECT archive_table FROM dbopt.add_retention_policy('"arch;"', 'at', :'keep', 'archive');
-- An archive that drops rows (a trigger returning NULL) stops the batch: nothing is lost.
CREATE FUNCTION pg_temp.swallow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
INSERT INTO "arch;" VALUES (20001, '2000-01-01', 'late', 1), (20002, '2000-01-02', 'late', 2);
CREATE TRIGGER swallow BEFORE INSERT ON "arch;_archive" FOR EACH ROW EXECUTE FUNCTION pg_temp.swallow();
SELECT relation, rows_deleted, rows_archived, status, detail
  FROM dbopt.apply_data_retention_policies() WHERE relation = '"arch;"'::regclass;
SELECT count(*) AS still_there FROM "arch;" WHERE id > 20000;
SELECT count(*) AS archived FROM "arch;_archive";
DROP TRIGGER swallow ON "arch;_archive";
SELECT dbopt.remove_retention_policy('"arch;"');

-- A partitioned table loses whole partitions first, then the old rows of
-- the partition that straddles the cutoff.
CREATE TABLE parted (id bigint, at timestamptz NOT NULL, note text) PARTITION BY RANGE (at);
DO $$
BEGIN
    FOR m IN 0..11 LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF parted FOR VALUES FROM (%L) TO (%L)',
                       'parted m' || m, timestamptz '2001-01-01 00:00+00' + m * interval '1 month',
                       timestamptz '2001-01-01 00:00+00' + (m + 1) * interval '1 month');
    END LOOP;
END $$;
CREATE TABLE parted_default PARTITION OF parted DEFAULT;
INSERT INTO parted SELECT g, timestamptz '2001-01-01 00:00+00' + g * interval '1 hour', 'p'
  FROM generate_series(0, 8759) g;
INSERT INTO parted VALUES (-1, '1990-01-01', 'old row in the default partition');
CREATE INDEX ON parted (at);
ANALYZE parted;
SELECT count(*) AS parted_old FROM parted WHERE at < '2001-07-01 00:30:00+00';
SELECT relation FROM dbopt.add_retention_policy('parted', 'at', :'keep', batch_size => 100);
CREATE TEMP TABLE pdry AS SELECT rows_deleted, partitions_dropped, batches, status, detail
  FROM dbopt.apply_data_retention_policies(true) WHERE relation = 'parted'::regclass;
SELECT rows_deleted, partitions_dropped, batches, status,
       regexp_replace(detail, 'about [0-9]+ rows', 'about <n> rows') AS detail FROM pdry;
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'parted'::regclass;
CREATE TEMP TABLE preal AS SELECT rows_deleted, partitions_dropped, batches, status, detail
  FROM dbopt.apply_data_retention_policies() WHERE relation = 'parted'::regclass;
SELECT rows_deleted, partitions_dropped, batches, status FROM preal;
SELECT (SELECT row(rows_deleted, partitions_dropped, batches) FROM pdry)
     = (SELECT row(rows_deleted, partitions_dropped, batches) FROM preal) AS dry_equals_real;
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'parted'::regclass ORDER BY 1;
SELECT count(*) AS parted_left, min(at) AT TIME ZONE 'UTC' AS oldest FROM parted;
SELECT object_name, action FROM dbopt.maintenance_log WHERE operation = 'drop_old_partitions' ORDER BY logged_at;
SELECT dbopt.remove_retention_policy('parted');

-- A policy that stops (a referenced row, on_referenced => 'error') is
-- reported, in the dry run as in the real run; the policies after it still
-- run.  Both name the reference.
CREATE TABLE fk_parent (id int PRIMARY KEY, at timestamptz NOT NULL);
CREATE INDEX ON fk_parent (at);
INSERT INTO fk_parent SELECT g, timestamptz '2001-01-01 00:00+00' + g * interval '1 day' FROM generate_series(1, 300) g;
CREATE TABLE "fk child" (pid int REFERENCES fk_parent ON DELETE RESTRICT);
INSERT INTO "fk child" VALUES (150);
CREATE TABLE zz_after (at date);
INSERT INTO zz_after SELECT date '2001-01-01' + g FROM generate_series(0, 364) g;
SELECT relation FROM dbopt.add_retention_policy('fk_parent', 'at', :'keep', batch_size => 50, on_referenced => 'error');
SELECT relation FROM dbopt.add_retention_policy('zz_after', 'at', :'keep');
SELECT relation, rows_deleted, batches, status, detail
  FROM dbopt.apply_data_retention_policies(true) ORDER BY relation::text;
SELECT relation, rows_deleted, batches, status, detail
  FROM dbopt.apply_data_retention_policies() ORDER BY relation::text;
SELECT count(*) AS fk_parent_left, min(id) FROM fk_parent;
SELECT count(*) AS zz_left FROM zz_after;

-- A disabled policy is reported as skipped; max_rows_per_run caps a run.
DELETE FROM "fk child";
SELECT relation, enabled FROM dbopt.add_retention_policy('zz_after', 'at', :'keep', enabled => false);
SELECT relation, max_rows_per_run FROM dbopt.add_retention_policy('fk_parent', 'at', :'keep', batch_size => 30, max_rows_per_run => 70);
SELECT relation, rows_deleted, batches, status, detail
  FROM dbopt.apply_data_retention_policies(true) ORDER BY relation::text;
SELECT relation, rows_deleted, batches, status, detail
  FROM dbopt.apply_data_retention_policies() ORDER BY relation::text;
SELECT dbopt.remove_retention_policy('zz_after');

-- The procedure commits after every batch: each batch's DELETE runs in its
-- own transaction, recorded here by a statement trigger.
CREATE TABLE batch_xids (xid bigint);
CREATE FUNCTION pg_temp.note_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO "ret ""s"";".batch_xids VALUES (txid_current()); RETURN NULL; END $$;
CREATE TRIGGER note_xid AFTER DELETE ON fk_parent FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.note_xid();
SELECT relation FROM dbopt.add_retention_policy('fk_parent', 'at', :'keep', batch_size => 3);
SELECT count(*) AS fk_parent_old FROM fk_parent WHERE at < '2001-07-01 00:30:00+00';
SET client_min_messages = warning;
CALL dbopt.run_data_retention();
RESET client_min_messages;
SELECT count(*) AS batches, count(DISTINCT xid) AS transactions FROM batch_xids;
SELECT count(*) AS fk_parent_old FROM fk_parent WHERE at < '2001-07-01 00:30:00+00';
SELECT action, rows FROM dbopt.maintenance_log WHERE operation = 'run_data_retention' ORDER BY logged_at;

-- max_duration stops cleanly between batches; the next call resumes.
TRUNCATE batch_xids;
INSERT INTO fk_parent SELECT g, timestamptz '2000-01-01 00:00+00' + g * interval '1 hour' FROM generate_series(1001, 1100) g;
SET dbopt.retention_batch_delay = '300ms';
SET client_min_messages = warning;
CALL dbopt.run_data_retention('50 ms');
RESET client_min_messages;
SELECT count(*) AS batches FROM batch_xids;
SELECT count(*) AS old_left FROM fk_parent WHERE at < '2001-07-01 00:30:00+00';
SELECT action, rows, detail ~ 'stopped at max_duration; the next call resumes' AS stopped
  FROM dbopt.maintenance_log WHERE operation = 'run_data_retention' ORDER BY logged_at DESC LIMIT 1;
RESET dbopt.retention_batch_delay;
SET client_min_messages = warning;
CALL dbopt.run_data_retention();
RESET client_min_messages;
SELECT count(*) AS batches FROM batch_xids;
SELECT count(*) AS old_left FROM fk_parent WHERE at < '2001-07-01 00:30:00+00';
-- It cannot commit inside a transaction block, and says so.
BEGIN;
CALL dbopt.run_data_retention();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
CALL dbopt.run_data_retention('-1 minute');
\echo :LAST_ERROR_SQLSTATE

-- Only the owner may register a policy, and a run skips tables the caller
-- does not own.
CREATE ROLE regress_ret_user;
GRANT USAGE ON SCHEMA "ret ""s"";", dbopt TO regress_ret_user;
GRANT EXECUTE ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean, text), dbopt.add_retention_policy(regclass, name, text, text, regclass, integer, bigint, boolean, text),
    dbopt.apply_data_retention_policies(boolean) TO regress_ret_user;
SET ROLE regress_ret_user;
SELECT dbopt.add_retention_policy('fk_parent', 'at', '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT relation, status, detail FROM dbopt.apply_data_retention_policies(true);
SELECT * FROM dbopt.retention_policies;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE ALL ON FUNCTION dbopt.add_retention_policy(regclass, name, interval, text, regclass, integer, bigint, boolean, text), dbopt.add_retention_policy(regclass, name, text, text, regclass, integer, bigint, boolean, text),
    dbopt.apply_data_retention_policies(boolean) FROM regress_ret_user;
REVOKE USAGE ON SCHEMA "ret ""s"";", dbopt FROM regress_ret_user;
DROP ROLE regress_ret_user;

-- A table partitioned by another column (LIST by region): no partition is
-- dropped, the old rows go leaf by leaf.
CREATE TABLE "by region" (region text NOT NULL, at timestamptz NOT NULL) PARTITION BY LIST (region);
CREATE TABLE "by region eu" PARTITION OF "by region" FOR VALUES IN ('eu');
CREATE TABLE "by region us" PARTITION OF "by region" FOR VALUES IN ('us');
INSERT INTO "by region" SELECT (ARRAY['eu', 'us'])[1 + g % 2], timestamptz '2001-06-01 00:00+00' + g * interval '1 day'
  FROM generate_series(0, 59) g;
CREATE INDEX ON "by region" (at);
SELECT relation FROM dbopt.add_retention_policy('"by region"', 'at', :'keep', batch_size => 7);
SELECT rows_deleted, partitions_dropped, batches, status
  FROM dbopt.apply_data_retention_policies() WHERE relation = '"by region"'::regclass;
SELECT tableoid::regclass AS leaf, count(*), min(at) AT TIME ZONE 'UTC' AS oldest FROM "by region" GROUP BY 1 ORDER BY 1;
SELECT dbopt.remove_retention_policy('"by region"');

-- A time column dropped after registration makes that policy an error.
CREATE TABLE "col gone" (id int, at timestamptz);
SELECT relation FROM dbopt.add_retention_policy('"col gone"', 'at', '1 day');
ALTER TABLE "col gone" DROP COLUMN at;
SELECT status, detail FROM dbopt.apply_data_retention_policies(true) WHERE relation = '"col gone"'::regclass;
SELECT dbopt.remove_retention_policy('"col gone"');

-- A dropped table leaves a stale policy that is reported, then removed.
SELECT 'fk_parent'::regclass::oid AS fk_oid \gset
DROP TABLE "fk child", fk_parent;
SELECT relation IS NOT NULL AS reported, status, regexp_replace(detail, 'OID [0-9]+', 'OID <oid>') AS detail
  FROM dbopt.apply_data_retention_policies(true) WHERE relation = :fk_oid;
SELECT dbopt.remove_retention_policy(:fk_oid);
SELECT dbopt.remove_retention_policy('"ev ""1"";"');

RESET search_path;
SELECT count(*) AS policies_left FROM dbopt.retention_policies;
DELETE FROM dbopt.maintenance_log;
SET client_min_messages = warning;
DROP SCHEMA "ret ""s"";" CASCADE;
RESET client_min_messages;
