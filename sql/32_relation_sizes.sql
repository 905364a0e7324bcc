-- Index and table sizes in analyze_index_usage() are read from each
-- relation's pg_class row and its files, not through a relcache entry:
-- they must equal pg_relation_size() (summed over the partitions of a
-- partitioned table; pg_partition_tree() has no rows for other tables) for every kind of relation the report covers.
CREATE SCHEMA rsz;
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE rsz_space LOCATION '';
RESET allow_in_place_tablespaces;

CREATE TABLE rsz.plain (id int PRIMARY KEY, v text);
INSERT INTO rsz.plain SELECT g, repeat('x', 100) || g FROM generate_series(1, 5000) g;
CREATE INDEX plain_v ON rsz.plain (v);
CREATE UNLOGGED TABLE rsz.unlogged (id int PRIMARY KEY);
INSERT INTO rsz.unlogged SELECT generate_series(1, 3000);
CREATE TABLE rsz.spaced (id int) TABLESPACE rsz_space;
INSERT INTO rsz.spaced SELECT generate_series(1, 2000);
CREATE INDEX spaced_id ON rsz.spaced (id) TABLESPACE rsz_space;
CREATE INDEX spaced_id_default ON rsz.spaced (id);
CREATE TABLE rsz.empty (id int);
CREATE INDEX empty_id ON rsz.empty (id);
CREATE TABLE rsz.parted (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE rsz.parted_1 PARTITION OF rsz.parted FOR VALUES FROM (0) TO (10);
CREATE TABLE rsz.parted_2 PARTITION OF rsz.parted FOR VALUES FROM (10) TO (20);
INSERT INTO rsz.parted SELECT g, g % 20 FROM generate_series(1, 4000) g;
CREATE INDEX parted_id ON rsz.parted (id);

CREATE FUNCTION rsz.tree_size(rel regclass) RETURNS bigint
LANGUAGE sql AS $$
  SELECT coalesce(sum(pg_relation_size(relid))::bigint, pg_relation_size(rel))
    FROM pg_partition_tree(rel)
$$;
CREATE VIEW rsz.sizes AS
SELECT indexname, index_size_bytes > 0 AS sized,
       index_size_bytes = rsz.tree_size(index) AS index_ok,
       table_size_bytes = rsz.tree_size(format('%I.%I', schemaname, tablename)::regclass) AS table_ok
  FROM dbopt.analyze_index_usage('rsz', '0 s');

SELECT * FROM rsz.sizes ORDER BY indexname;

-- A rewrite in this transaction gives new files; the sizes follow them,
-- and the old ones again after a rollback.
BEGIN;
TRUNCATE rsz.plain;
INSERT INTO rsz.plain VALUES (1, 'one');
SELECT indexname, index_size_bytes, index_size_bytes = rsz.tree_size(index) AS index_ok,
       table_size_bytes, table_size_bytes = rsz.tree_size('rsz.plain') AS table_ok
  FROM dbopt.analyze_index_usage('rsz', '0 s')
 WHERE tablename = 'plain' ORDER BY indexname;
ROLLBACK;
SELECT * FROM rsz.sizes WHERE indexname LIKE 'plain%' ORDER BY indexname;

-- Moved to another tablespace: the report reads the new location.
ALTER TABLE rsz.plain SET TABLESPACE rsz_space;
ALTER INDEX rsz.plain_v SET TABLESPACE rsz_space;
SELECT * FROM rsz.sizes WHERE indexname LIKE 'plain%' ORDER BY indexname;

-- Own temporary tables (read through the relcache) are sized too when
-- the report covers them.
CREATE TEMP TABLE rsz_temp (id int PRIMARY KEY);
INSERT INTO rsz_temp SELECT generate_series(1, 1000);
SELECT count(*) FILTER (WHERE index_size_bytes = pg_relation_size(index)) AS index_ok,
       count(*) FILTER (WHERE table_size_bytes = pg_relation_size('rsz_temp')) AS table_ok,
       count(*) AS n
  FROM dbopt.analyze_index_usage(NULL, '0 s') WHERE tablename = 'rsz_temp';

DROP SCHEMA rsz CASCADE;
DROP TABLE rsz_temp;
DROP TABLESPACE rsz_space;
