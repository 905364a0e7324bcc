-- A 2M-row child with a NOT VALID foreign key to a 100k-row parent, and an
-- identical copy for VALIDATE CONSTRAINT.  No orphans: VALIDATE stops at
-- the first one, so only clean data makes the two scans comparable.
CREATE TABLE bench_parent (id int PRIMARY KEY, name text);
INSERT INTO bench_parent SELECT g, 'p' || g FROM generate_series(1, 100000) g;
CREATE TABLE bench_child (id bigint PRIMARY KEY, parent_id int, amount numeric);
INSERT INTO bench_child
SELECT g, 1 + (g::bigint * 7919) % 100000, g % 1000 FROM generate_series(1, 2000000) g;
CREATE TABLE bench_child_copy (LIKE bench_child INCLUDING ALL);
INSERT INTO bench_child_copy SELECT * FROM bench_child;
ALTER TABLE bench_child ADD CONSTRAINT bench_child_parent_fk
    FOREIGN KEY (parent_id) REFERENCES bench_parent NOT VALID;
ALTER TABLE bench_child_copy ADD CONSTRAINT bench_child_copy_parent_fk
    FOREIGN KEY (parent_id) REFERENCES bench_parent NOT VALID;
VACUUM ANALYZE bench_parent, bench_child, bench_child_copy;
