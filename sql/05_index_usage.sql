-- analyze_index_usage(): every finding code, and the look-alikes that must
-- not be flagged.
CREATE SCHEMA ixu;
SET search_path = ixu, public;

-- A helper view over the report, without figures that vary between runs.
CREATE VIEW ixu.report AS
SELECT indexname, findings, fix_sql,
       regexp_replace(recommendation, '\d+ (minutes|hours|days)', 'N units', 'g') AS recommendation
  FROM dbopt.analyze_index_usage('ixu', '0 seconds');

CREATE TABLE ixu.t (id int PRIMARY KEY, a int, b int, c text, d int, e int);
INSERT INTO ixu.t SELECT g, g % 100, g % 7, 'v' || g, g, g FROM generate_series(1, 2000) g;

-- duplicate: identical twins; the older one is kept.
CREATE INDEX t_a ON ixu.t (a);
CREATE INDEX t_a_twin ON ixu.t (a);
-- redundant: keys lead a longer btree; unique and partial look-alikes are not.
CREATE INDEX t_b ON ixu.t (b);
CREATE INDEX t_b_c ON ixu.t (b, c);
CREATE UNIQUE INDEX t_d_unique ON ixu.t (d);
CREATE INDEX t_d_e ON ixu.t (d, e);
-- Different predicates, opclasses or collations: not duplicates, not redundant.
CREATE INDEX t_e_pos ON ixu.t (e) WHERE e > 0;
CREATE INDEX t_e_big ON ixu.t (e) WHERE e > 1000;
CREATE INDEX t_c_pattern ON ixu.t (c text_pattern_ops);
CREATE INDEX t_c_collc ON ixu.t (c COLLATE "C");
CREATE INDEX t_c_plain ON ixu.t (c);
-- Expression indexes: identical expressions are duplicates even when the
-- statements were written differently; a leading expression is redundant.
CREATE INDEX t_lower ON ixu.t (lower(c));
CREATE INDEX t_lower_again ON ixu.t (lower( c ));
CREATE INDEX t_lower_d ON ixu.t (lower(c), d);
-- Same predicate: a partial index can be redundant to a longer partial one.
CREATE INDEX t_a_part ON ixu.t (a) WHERE b = 3;
CREATE INDEX t_a_d_part ON ixu.t (a, d) WHERE b = 3;
-- A unique index and a plain one with the same keys: drop the plain one.
CREATE INDEX t_id_plain ON ixu.t (id);
ANALYZE ixu.t;

SELECT indexname, findings, fix_sql FROM ixu.report ORDER BY indexname;
SELECT indexname, recommendation FROM ixu.report
 WHERE 'duplicate' = ANY (findings) OR 'redundant' = ANY (findings) ORDER BY indexname;

-- unused vs unused_recent_stats: the test server started minutes ago, so
-- with the default min_stats_age of 7 days nothing is called unused yet.
SELECT indexname, findings FROM dbopt.analyze_index_usage('ixu')
 WHERE indexname IN ('t_a', 't_c_plain') ORDER BY 1;

-- A scanned index is not unused.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM ixu.t WHERE c = 'v10';
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_stat_force_next_flush();
SELECT indexname, scans > 0 AS scanned, findings FROM dbopt.analyze_index_usage('ixu', '0 s')
 WHERE indexname IN ('t_c_plain', 't_c_collc') ORDER BY 1;

-- Constraint-backing, unique and stats columns.
SELECT indexname, is_unique, is_primary, backs_constraint, is_valid,
       index = format('ixu.%I', indexname)::regclass AS regclass_ok,
       stats_since <= now() AS stats_since_ok,
       index_size_bytes > 0 AS sized, table_size_bytes > 0 AS table_sized
  FROM dbopt.analyze_index_usage('ixu', '0 s')
 WHERE indexname IN ('t_pkey', 't_d_unique', 't_a') ORDER BY 1;

-- invalid: a failed CREATE UNIQUE INDEX CONCURRENTLY leaves one behind.
CREATE TABLE ixu.dups (x int);
INSERT INTO ixu.dups VALUES (1), (1), (2);
CREATE UNIQUE INDEX CONCURRENTLY dups_x ON ixu.dups (x);
SELECT indexname, is_valid, findings, fix_sql
  FROM dbopt.analyze_index_usage('ixu', '0 s') WHERE indexname = 'dups_x';

-- bloated: delete 90% of a table; the btree keeps its pages.
CREATE TABLE ixu.big (id int, v int);
INSERT INTO ixu.big SELECT g, g FROM generate_series(1, 100000) g;
CREATE INDEX big_v ON ixu.big (v);
CREATE INDEX big_v_partial ON ixu.big (v) WHERE v > 10;
CREATE INDEX big_expr ON ixu.big ((v + 1));
DELETE FROM ixu.big WHERE id % 10 <> 0;
VACUUM ANALYZE ixu.big;
SELECT indexname, 'bloated' = ANY (findings) AS bloated,
       bloat_bytes_estimate > index_size_bytes * 0.8 AS mostly_bloat,
       bloat_bytes_estimate IS NULL AS no_estimate, fix_sql
  FROM dbopt.analyze_index_usage('ixu', '0 s')
 WHERE tablename = 'big' ORDER BY 1;
-- A freshly built index of the same data has (almost) no estimated bloat.
REINDEX INDEX ixu.big_v;
SELECT indexname, 'bloated' = ANY (findings) AS bloated,
       bloat_bytes_estimate < index_size_bytes * 0.1 AS little_bloat
  FROM dbopt.analyze_index_usage('ixu', '0 s') WHERE indexname = 'big_v';
-- The threshold is a setting.
DROP INDEX ixu.big_v;
CREATE TABLE ixu.big2 AS SELECT * FROM ixu.big;
INSERT INTO ixu.big2 SELECT g, g FROM generate_series(200001, 290000) g;
CREATE INDEX big2_v ON ixu.big2 (v);
DELETE FROM ixu.big2 WHERE id > 200000 AND id % 2 = 0;
VACUUM ANALYZE ixu.big2;
SELECT 'bloated' = ANY (findings) AS bloated_at_30 FROM dbopt.analyze_index_usage('ixu', '0 s')
 WHERE indexname = 'big2_v';
SET dbopt.index_bloat_threshold = 60;
SELECT 'bloated' = ANY (findings) AS bloated_at_60 FROM dbopt.analyze_index_usage('ixu', '0 s')
 WHERE indexname = 'big2_v';
RESET dbopt.index_bloat_threshold;

-- Partitioned tables: twins on the parent are duplicates (no CONCURRENTLY
-- there); the partitions' attached indexes are never flagged on their own.
CREATE TABLE ixu.p (id int, k int) PARTITION BY RANGE (id);
CREATE TABLE ixu.p1 PARTITION OF ixu.p FOR VALUES FROM (0) TO (1000);
CREATE TABLE ixu.p2 PARTITION OF ixu.p FOR VALUES FROM (1000) TO (2000);
CREATE INDEX p_k ON ixu.p (k);
CREATE INDEX p_k_twin ON ixu.p (k);
CREATE INDEX p1_own ON ixu.p1 (id);
SELECT tablename, indexname, findings, fix_sql FROM dbopt.analyze_index_usage('ixu', '0 s')
 WHERE tablename IN ('p', 'p1', 'p2') ORDER BY 1, 2;

-- An index that is the only one serving a foreign key is never "unused".
CREATE TABLE ixu.parent (id int PRIMARY KEY);
CREATE TABLE ixu.kid (id int, parent_id int REFERENCES ixu.parent);
CREATE INDEX kid_parent ON ixu.kid (parent_id);
SELECT indexname, findings, recommendation FROM ixu.report WHERE indexname = 'kid_parent';

-- Suppressions hide one code of one index; include_suppressed shows it.
SELECT dbopt.suppress('duplicate', 'ixu.t_a_twin', 'kept for a migration');
SELECT indexname, findings FROM dbopt.analyze_index_usage('ixu', '0 s')
 WHERE indexname = 't_a_twin';
SELECT indexname, findings, recommendation LIKE '%[suppressed: kept for a migration]%' AS noted
  FROM dbopt.analyze_index_usage('ixu', '0 s', include_suppressed => true)
 WHERE indexname = 't_a_twin';
SELECT dbopt.unsuppress('duplicate', 'ixu.t_a_twin');

-- Bad input.
SELECT * FROM dbopt.analyze_index_usage('no_such_schema');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.analyze_index_usage(NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.analyze_index_usage(NULL, '-1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.analyze_index_usage(NULL, '1000000 years');
\echo :LAST_ERROR_SQLSTATE

RESET search_path;

-- Indexes of tables that belong to an extension (here dbopt's own) are not
-- advice: left out by default, shown on request without a fix.
SELECT count(*) AS dbopt_indexes_by_default
  FROM dbopt.analyze_index_usage(min_stats_age => '0 s') WHERE schemaname = 'dbopt';
SELECT count(*) > 0 AS shown_on_request, count(fix_sql) AS with_fix,
       bool_and(recommendation LIKE 'Belongs to extension dbopt%') AS says_why
  FROM dbopt.analyze_index_usage(min_stats_age => '0 s', include_extension_objects => true)
 WHERE schemaname = 'dbopt';

-- ---------- partition-level duplicates (issue #20) ----------
-- Each partition has two identical indexes (as Pagila's payment had);
-- CREATE INDEX on the parent attaches one of them, and the other is a
-- duplicate that names the partitioned index, with a DROP that works.
CREATE TABLE ixu.pay (id int, customer_id int, at date) PARTITION BY RANGE (at);
CREATE TABLE ixu.pay_1 PARTITION OF ixu.pay FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
CREATE TABLE ixu.pay_2 PARTITION OF ixu.pay FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
CREATE INDEX "pay 1; cust" ON ixu.pay_1 (customer_id);
CREATE INDEX pay_1_cust_twin ON ixu.pay_1 (customer_id);
CREATE INDEX pay_2_cust ON ixu.pay_2 (customer_id);
CREATE INDEX pay_2_cust_id ON ixu.pay_2 (customer_id, id);
CREATE INDEX "pay cust" ON ixu.pay (customer_id);
INSERT INTO ixu.pay SELECT g, g % 100, date '2022-01-01' + g % 59 FROM generate_series(1, 3000) g;
ANALYZE ixu.pay;
-- While no partition's share of "pay cust" is scanned, "pay cust" is unused,
-- and its DROP would take the kept twin with it: no duplicate is reported.
SELECT indexname, findings FROM ixu.report WHERE indexname LIKE 'pay%' AND findings <> '{}' ORDER BY 1;
-- The lookups go through pay_2's share: "pay cust" is used, and pay_1's
-- own twin is a duplicate whose DROP leaves the attached one.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM ixu.pay WHERE customer_id = 5 AND at >= '2022-02-01';
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_stat_force_next_flush();
SELECT c.relname, i.inhparent::regclass AS attached_to
  FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
 WHERE c.relname IN ('pay 1; cust', 'pay_1_cust_twin', 'pay_2_cust', 'pay_2_cust_id') ORDER BY 1;
SELECT indexname, findings, fix_sql,
       recommendation ~ 'belongs to partitioned index ixu."pay cust"' AS names_parent
  FROM ixu.report WHERE indexname LIKE 'pay%' AND findings <> '{}' ORDER BY 1;
SELECT fix_sql FROM ixu.report WHERE indexname LIKE 'pay%' AND 'duplicate' = ANY (findings) \gexec
SELECT indexname, findings FROM ixu.report WHERE indexname LIKE 'pay%' AND findings && '{duplicate}' ORDER BY 1;
SELECT count(*) AS pay_indexes, bool_and(indisvalid) AS all_valid
  FROM pg_index WHERE indrelid IN ('ixu.pay'::regclass, 'ixu.pay_1'::regclass, 'ixu.pay_2'::regclass);
