-- find_unindexed_foreign_keys(): findings shape, coverage rules.
CREATE SCHEMA fkx;
CREATE TABLE fkx.org (id int PRIMARY KEY);
CREATE TABLE fkx.pair (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE fkx.doc (
    id int PRIMARY KEY,
    org_id int REFERENCES fkx.org,          -- no index: finding
    owner_id int REFERENCES fkx.org,        -- indexed as leading column: fine
    reviewer_id int REFERENCES fkx.org,     -- only a partial index: finding
    editor_id int REFERENCES fkx.org,       -- only as second column: finding
    pa int, pb int,
    FOREIGN KEY (pb, pa) REFERENCES fkx.pair (b, a)  -- leading columns in another order: fine
);
CREATE INDEX ON fkx.doc (owner_id, id);
CREATE INDEX ON fkx.doc (reviewer_id) WHERE reviewer_id > 0;
CREATE INDEX ON fkx.doc (id, editor_id);
CREATE INDEX ON fkx.doc (pa, pb);
INSERT INTO fkx.org SELECT generate_series(1, 10);
INSERT INTO fkx.doc (id, org_id) SELECT g, 1 + g % 10 FROM generate_series(1, 2000) g;
ANALYZE fkx.doc;

SELECT severity, check_name, object_name, fix_sql, referencing_table, referenced_table,
       columns, referencing_rows_estimate
  FROM dbopt.find_unindexed_foreign_keys('fkx') ORDER BY object_name;
SELECT detail FROM dbopt.find_unindexed_foreign_keys('fkx')
 WHERE object_name = 'fkx.doc.doc_org_id_fkey';

-- Partitioned referencing table: one finding for the parent, not one per
-- partition, and no CONCURRENTLY in the fix.
CREATE TABLE fkx.ev (id int, org_id int REFERENCES fkx.org) PARTITION BY RANGE (id);
CREATE TABLE fkx.ev1 PARTITION OF fkx.ev FOR VALUES FROM (0) TO (100);
CREATE TABLE fkx.ev2 PARTITION OF fkx.ev FOR VALUES FROM (100) TO (200);
SELECT severity, object_name, fix_sql
  FROM dbopt.find_unindexed_foreign_keys('fkx') WHERE referencing_table::text LIKE 'fkx.ev%';
SELECT fix_sql FROM dbopt.find_unindexed_foreign_keys('fkx')
 WHERE referencing_table = 'fkx.ev'::regclass \gexec
SELECT count(*) AS ev_findings_after_fix
  FROM dbopt.find_unindexed_foreign_keys('fkx') WHERE referencing_table = 'fkx.ev'::regclass;

-- Suppressions apply; include_suppressed shows them.
SELECT dbopt.suppress('fk_without_index', 'fkx.doc.doc_editor_id_fkey', 'editor rows are never deleted');
SELECT object_name FROM dbopt.find_unindexed_foreign_keys('fkx') ORDER BY 1;
SELECT object_name FROM dbopt.find_unindexed_foreign_keys('fkx', include_suppressed => true) ORDER BY 1;
SELECT dbopt.unsuppress('fk_without_index', 'fkx.doc.doc_editor_id_fkey');
