-- Partition management: bounds from the catalog, retention rules, dry runs,
-- future partitions, default-partition rows, distribution flags, owners.
CREATE SCHEMA "part ""s"";";
SET search_path = "part ""s"";", public;

-- Bounds that names lie about: a MINVALUE partition, partitions named
-- against their ranges, a wide legacy partition across the cutoff, and a
-- default partition with rows.  Dates are fixed and far from now() so the
-- output does not depend on the day the test runs.
CREATE TABLE "ev ""t""; x" (id bigint, at timestamptz NOT NULL, note text)
    PARTITION BY RANGE (at);
CREATE TABLE "ev_legacy;" PARTITION OF "ev ""t""; x" FOR VALUES FROM (MINVALUE) TO ('2001-01-01');
CREATE TABLE ev_p20991231 PARTITION OF "ev ""t""; x" FOR VALUES FROM ('2001-01-01') TO ('2001-02-01');
CREATE TABLE ev_newest_do_not_drop PARTITION OF "ev ""t""; x" FOR VALUES FROM ('2001-02-01') TO ('2001-03-01');
CREATE TABLE "ev wide" PARTITION OF "ev ""t""; x" FOR VALUES FROM ('2001-03-01') TO ('2090-01-01');
CREATE TABLE ev_default PARTITION OF "ev ""t""; x" DEFAULT;
INSERT INTO "ev ""t""; x" VALUES
    (1, '1999-05-01', 'old'), (2, '2001-01-15', 'jan'), (3, '2001-02-15', 'feb'),
    (4, '2001-04-01', 'wide'), (5, '2095-01-01', 'far future, in default');
ANALYZE "ev ""t""; x";

-- Cutoff texts depend on now(); tests compare bounds, not cutoffs.
CREATE FUNCTION pg_temp.drops(parent regclass, older_than text, mode text DEFAULT 'drop', dry_run boolean DEFAULT false)
RETURNS TABLE (partition_name text, range_from text, range_to text, action text, detail text)
LANGUAGE sql AS $$
    SELECT partition_name, range_from, range_to, action,
           regexp_replace(detail, 'cutoff (.*?)(: it may|$)', 'cutoff <cutoff>\2')
      FROM dbopt.drop_old_partitions(parent, older_than, mode, dry_run) $$;

-- Dry run: exactly the partitions wholly below the cutoff; the straddling
-- legacy partition and the default are not touched.
CREATE TEMP TABLE dry AS SELECT * FROM pg_temp.drops('"ev ""t""; x"', '10 years', dry_run => true);
SELECT * FROM dry;
SELECT count(*) AS logged FROM dbopt.maintenance_log;
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = '"ev ""t""; x"'::regclass;

-- The real run does what the dry run said, and logs each drop.
CREATE TEMP TABLE real AS SELECT * FROM pg_temp.drops('"ev ""t""; x"', '10 years');
SELECT * FROM real;
(SELECT partition_name, action FROM dry
 EXCEPT SELECT partition_name, replace(action, 'dropped', 'would drop') FROM real)
UNION ALL
(SELECT partition_name, replace(action, 'dropped', 'would drop') FROM real
 EXCEPT SELECT partition_name, action FROM dry);
SELECT operation, object_name, action, rows, bytes > 0 AS has_bytes, detail
  FROM dbopt.maintenance_log ORDER BY logged_at, object_name;
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = '"ev ""t""; x"'::regclass ORDER BY 1;
SELECT id, note FROM "ev ""t""; x" ORDER BY id;

-- The last remaining partition stays, even when it is past the cutoff.
CREATE TABLE lonely (at date) PARTITION BY RANGE (at);
CREATE TABLE lonely_a PARTITION OF lonely FOR VALUES FROM ('2000-01-01') TO ('2000-02-01');
CREATE TABLE lonely_b PARTITION OF lonely FOR VALUES FROM ('2000-02-01') TO ('2000-03-01');
SELECT * FROM pg_temp.drops('lonely', '1 year');
SELECT relname FROM pg_class WHERE relname LIKE 'lonely%' ORDER BY 1;

-- Detach keeps the partition as a plain table in the same schema, and says so.
CREATE TABLE det (at timestamp) PARTITION BY RANGE (at);
CREATE TABLE det_1 PARTITION OF det FOR VALUES FROM ('2000-01-01') TO ('2000-02-01');
CREATE TABLE det_2 PARTITION OF det FOR VALUES FROM ('2000-02-01') TO ('2000-03-01');
CREATE TABLE det_3 PARTITION OF det FOR VALUES FROM ('2000-03-01') TO ('2100-01-01');
INSERT INTO det VALUES ('2000-01-05'), ('2000-02-05');
SELECT * FROM pg_temp.drops('det', '1 year', 'detach', true);
SELECT * FROM pg_temp.drops('det', '1 year', 'detach');
SELECT relname, relispartition, relnamespace::regnamespace AS schema, (SELECT count(*) FROM det_1) AS rows_kept
  FROM pg_class WHERE relname = 'det_1';
SELECT action, detail FROM dbopt.maintenance_log WHERE object_name LIKE '%det_1';

-- Integer keys: older_than is a count, measured from the highest key.
CREATE TABLE ints (id int NOT NULL, v text) PARTITION BY RANGE (id);
CREATE TABLE ints_lo PARTITION OF ints FOR VALUES FROM (MINVALUE) TO (0);
CREATE TABLE ints_a PARTITION OF ints FOR VALUES FROM (0) TO (1000);
CREATE TABLE ints_b PARTITION OF ints FOR VALUES FROM (1000) TO (2000);
CREATE TABLE ints_c PARTITION OF ints FOR VALUES FROM (2000) TO (3000);
INSERT INTO ints SELECT g, 'v' FROM generate_series(-5, 2500) g;
SELECT * FROM pg_temp.drops('ints', '1000', dry_run => true);
SELECT * FROM pg_temp.drops('ints', '1 month');
\echo :LAST_ERROR_SQLSTATE

-- Two levels.  A sub-partitioned child wholly below the cutoff goes as a
-- whole; one that straddles it is examined partition by partition when it is
-- keyed on the same column, and kept whole when it is not.
CREATE TABLE tree (at date NOT NULL, region text NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE tree_2000 PARTITION OF tree FOR VALUES FROM ('2000-01-01') TO ('2001-01-01') PARTITION BY RANGE (at);
CREATE TABLE tree_2000_h1 PARTITION OF tree_2000 FOR VALUES FROM ('2000-01-01') TO ('2000-07-01');
CREATE TABLE tree_2000_h2 PARTITION OF tree_2000 FOR VALUES FROM ('2000-07-01') TO ('2001-01-01');
CREATE TABLE tree_2001 PARTITION OF tree FOR VALUES FROM ('2001-01-01') TO ('2090-01-01') PARTITION BY RANGE (at);
CREATE TABLE tree_2001_a PARTITION OF tree_2001 FOR VALUES FROM ('2001-01-01') TO ('2002-01-01');
CREATE TABLE tree_2001_b PARTITION OF tree_2001 FOR VALUES FROM ('2002-01-01') TO ('2090-01-01');
CREATE TABLE tree_2090 PARTITION OF tree FOR VALUES FROM ('2090-01-01') TO ('2091-01-01') PARTITION BY LIST (region);
CREATE TABLE tree_2090_eu PARTITION OF tree_2090 FOR VALUES IN ('eu');
CREATE TABLE tree_2090_us PARTITION OF tree_2090 FOR VALUES IN ('us');
SELECT * FROM pg_temp.drops('tree', '10 years', dry_run => true);
SELECT * FROM pg_temp.drops('tree', '10 years');
SELECT relname FROM pg_class WHERE relname LIKE 'tree%' ORDER BY 1;

-- Bad input loses nothing and says why.
SELECT * FROM dbopt.drop_old_partitions('ints', 'abc');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.drop_old_partitions('det', 'soon');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.drop_old_partitions('det', '-1 month');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.drop_old_partitions('det', '1 month', 'truncate');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.drop_old_partitions('det_1', '1 month');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE listed (r text) PARTITION BY LIST (r);
SELECT * FROM dbopt.drop_old_partitions('listed', '1 month');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE texty (k text) PARTITION BY RANGE (k);
SELECT dbopt.manage_partitions('texty', '1 month');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.manage_partitions('ints', '1 month');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.manage_partitions('ints', '9999999999');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.manage_partitions('lonely', '6 hours');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.manage_partitions('det', '1 month', retention_mode => 'archive');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.drop_old_partitions(0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.create_future_partitions('det');
\echo :LAST_ERROR_SQLSTATE

-- Registry: pg_dump-safe, re-registering updates, unmanage removes.
SELECT parent, partition_interval, premake, retention, retention_mode, key_column, key_type
  FROM dbopt.manage_partitions('ints', '1000', 2, '1500');
SELECT parent, partition_interval, premake, retention
  FROM dbopt.manage_partitions('ints', '1000', 3, '1500');
SELECT parent, premake FROM dbopt.partition_config;

-- Future partitions for an integer key: up to premake steps past the
-- highest key, named <parent>_p<lower>; a second run has nothing to do.
SELECT partition_name, range_from, range_to, action, rows_moved FROM dbopt.create_future_partitions('ints');
SELECT partition_name, action FROM dbopt.create_future_partitions('ints');

-- Gaps are filled exactly, never overlapping what exists.
CREATE TABLE gappy (id bigint) PARTITION BY RANGE (id);
CREATE TABLE gappy_a PARTITION OF gappy FOR VALUES FROM (0) TO (100);
CREATE TABLE gappy_c PARTITION OF gappy FOR VALUES FROM (250) TO (300);
INSERT INTO gappy VALUES (5);
SELECT (dbopt.manage_partitions('gappy', '100', 3)).parent;
SELECT partition_name, range_from, range_to, action FROM dbopt.create_future_partitions('gappy');

-- Rows in the default partition block a new partition: reported with a
-- fix, or moved in one transaction with nothing lost.
CREATE TABLE withdef (id int NOT NULL, v text, g int GENERATED ALWAYS AS (id * 2) STORED)
    PARTITION BY RANGE (id);
CREATE TABLE withdef_a PARTITION OF withdef FOR VALUES FROM (0) TO (10);
CREATE TABLE "withdef def" PARTITION OF withdef DEFAULT;
INSERT INTO withdef (id, v) SELECT g, 'r' || g FROM generate_series(0, 24) g;
SELECT (dbopt.manage_partitions('withdef', '10', 1)).parent;
SELECT partition_name, range_from, range_to, action, rows_moved, detail
  FROM dbopt.create_future_partitions('withdef');
SELECT fix_sql FROM dbopt.create_future_partitions('withdef', dry_run => true) LIMIT 1;
SELECT partition_name, action, rows_moved, detail
  FROM dbopt.create_future_partitions('withdef', move_default_rows => true);
SELECT tableoid::regclass AS part, count(*), sum(id) AS ids, sum(g) AS generated
  FROM withdef GROUP BY 1 ORDER BY 1;

-- Time keys, registered: partitions up to premake months past now.
CREATE TABLE tk (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT (dbopt.manage_partitions('tk', '1 month', 2, '3 months')).parent;
SELECT count(*) AS created,
       bool_and(partition_name ~ '^"part ""s"";"\.tk_p\d{6}01$') AS named_by_lower_bound,
       min(range_from::timestamptz) = date_trunc('month', now()) AS starts_this_month,
       max(range_to::timestamptz) = date_trunc('month', now()) + interval '3 months' AS ends_after_premake
  FROM dbopt.create_future_partitions('tk');

-- run_partition_maintenance(): one row per registered table.
INSERT INTO tk VALUES (now());
CREATE TABLE tk_old PARTITION OF tk FOR VALUES FROM ('2000-01-01') TO ('2000-02-01');
SELECT parent, partitions_created, partitions_dropped, partitions_detached, partitions_skipped, status, detail
  FROM dbopt.run_partition_maintenance(dry_run => true) ORDER BY parent::text;
SELECT parent, partitions_created, partitions_dropped, partitions_detached, partitions_skipped, status, detail
  FROM dbopt.run_partition_maintenance() ORDER BY parent::text;
SELECT count(*) FILTER (WHERE last_maintenance_at IS NOT NULL) AS maintained FROM dbopt.partition_config;

-- drop_old_partitions(months) applies to every registered time-keyed table.
CREATE TABLE tk_old2 PARTITION OF tk FOR VALUES FROM ('2000-02-01') TO ('2000-03-01');
SELECT parent, partition_name, action, regexp_replace(detail, 'cutoff (.*?)(: it may|$)', 'cutoff <cutoff>\2') AS detail
  FROM dbopt.drop_old_partitions(24, dry_run => true) ORDER BY parent::text, partition_name;

-- Distribution flags.
SELECT partition_name, range_from, range_to, is_default, row_estimate, share_pct, flags
  FROM dbopt.analyze_partition_distribution('"ev ""t""; x"', exact => true);
CREATE TABLE dist (id int) PARTITION BY RANGE (id);
CREATE TABLE dist_1 PARTITION OF dist FOR VALUES FROM (0) TO (1000);
CREATE TABLE dist_2 PARTITION OF dist FOR VALUES FROM (1000) TO (2000);
CREATE TABLE dist_3 PARTITION OF dist FOR VALUES FROM (2000) TO (3000);
CREATE TABLE dist_4 PARTITION OF dist FOR VALUES FROM (4000) TO (100000);
INSERT INTO dist SELECT g FROM generate_series(0, 2999) g;
INSERT INTO dist SELECT g FROM generate_series(4000, 60000) g;
ANALYZE dist;
SELECT partition_name, range_from, range_to, row_estimate, share_pct, flags
  FROM dbopt.analyze_partition_distribution('dist');
SELECT partition_name, flags FROM dbopt.analyze_partition_distribution('tree');
-- A registered table: one partition across its retention cutoff, and none
-- for next month once the future partitions are gone.
CREATE TABLE tk_span PARTITION OF tk FOR VALUES FROM ('2000-03-01') TO (date_trunc('month', now()));
SELECT count(*) FILTER (WHERE 'straddles_retention' = ANY (flags)) AS straddling,
       count(*) FILTER (WHERE 'missing_future' = ANY (flags)) AS missing_future
  FROM dbopt.analyze_partition_distribution('tk');
SELECT partition_name ~ 'tk_span' AS is_span FROM dbopt.analyze_partition_distribution('tk')
 WHERE 'straddles_retention' = ANY (flags);
DO $$
DECLARE p regclass;
BEGIN
    FOR p IN SELECT inhrelid::regclass FROM pg_inherits
              WHERE inhparent = 'tk'::regclass AND inhrelid::regclass::text ~ 'tk_p\d' LOOP
        EXECUTE format('DROP TABLE %s', p);
    END LOOP;
END $$;
SELECT partition_name ~ 'tk_span' AS is_span, flags FROM dbopt.analyze_partition_distribution('tk')
 WHERE 'missing_future' = ANY (flags);
-- An unregistered time-keyed table whose newest partition ended long ago.
SELECT partition_name, flags FROM dbopt.analyze_partition_distribution('lonely');

-- Owners only.
CREATE ROLE regress_part_user;
GRANT USAGE ON SCHEMA "part ""s"";", dbopt TO regress_part_user;
GRANT EXECUTE ON FUNCTION dbopt.drop_old_partitions(regclass, text, text, boolean, boolean),
    dbopt.manage_partitions(regclass, text, integer, text, text, boolean, boolean),
    dbopt.run_partition_maintenance(boolean) TO regress_part_user;
SET ROLE regress_part_user;
SELECT * FROM dbopt.drop_old_partitions('ints', '10', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.manage_partitions('dist', '1000');
\echo :LAST_ERROR_SQLSTATE
SELECT parent, status, detail FROM dbopt.run_partition_maintenance(dry_run => true) ORDER BY parent::text;
\echo :LAST_ERROR_SQLSTATE
-- A role that owns its table needs EXECUTE only: dbopt's own tables are
-- written for it, and the log names it.
RESET ROLE;
CREATE TABLE own (at date) PARTITION BY RANGE (at);
CREATE TABLE own_1 PARTITION OF own FOR VALUES FROM ('2000-01-01') TO ('2000-02-01');
CREATE TABLE own_2 PARTITION OF own FOR VALUES FROM ('2000-02-01') TO ('2100-01-01');
ALTER TABLE own OWNER TO regress_part_user;
ALTER TABLE own_1 OWNER TO regress_part_user;
ALTER TABLE own_2 OWNER TO regress_part_user;
SET ROLE regress_part_user;
SELECT parent, registered_by FROM dbopt.manage_partitions('own', '1 month', 0, '1 year');
SELECT partition_name, action FROM dbopt.drop_old_partitions('own', '1 year');
SELECT * FROM dbopt.maintenance_log;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT role_name, operation, object_name, action FROM dbopt.maintenance_log WHERE role_name = 'regress_part_user';
SELECT dbopt.unmanage_partitions('own');
DROP TABLE own;
REVOKE ALL ON FUNCTION dbopt.drop_old_partitions(regclass, text, text, boolean, boolean),
    dbopt.manage_partitions(regclass, text, integer, text, text, boolean, boolean),
    dbopt.run_partition_maintenance(boolean) FROM regress_part_user;
REVOKE USAGE ON SCHEMA "part ""s"";", dbopt FROM regress_part_user;
DROP ROLE regress_part_user;

-- A dropped parent leaves a stale registration that is reported, then removed.
SELECT 'gappy'::regclass::oid AS gappy_oid \gset
DROP TABLE gappy;
SELECT parent IS NOT NULL AS reported, status, detail ~ 'no longer exists' AS says_why
  FROM dbopt.run_partition_maintenance(dry_run => true) WHERE parent = :gappy_oid;
SELECT dbopt.unmanage_partitions(:gappy_oid);
SELECT dbopt.unmanage_partitions('ints');
SELECT dbopt.unmanage_partitions('ints');
SELECT parent FROM dbopt.partition_config ORDER BY parent::text;

RESET search_path;
DELETE FROM dbopt.partition_config;
DELETE FROM dbopt.maintenance_log;
SET client_min_messages = warning;
DROP SCHEMA "part ""s"";" CASCADE;
RESET client_min_messages;
