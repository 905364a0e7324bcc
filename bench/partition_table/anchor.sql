-- The plain offline way (writers stopped): a partitioned table, its
-- partitions, one INSERT ... SELECT, the primary key and indexes, the swap.
CREATE TABLE bench_plain_new (LIKE bench_plain INCLUDING DEFAULTS) PARTITION BY RANGE (at);
SELECT make_monthly('bench_plain_new');
INSERT INTO bench_plain_new SELECT * FROM bench_plain;
ALTER TABLE bench_plain_new ADD PRIMARY KEY (id, at);
CREATE INDEX ON bench_plain_new (at);
CREATE INDEX ON bench_plain_new (v);
BEGIN;
ALTER TABLE bench_plain RENAME TO bench_plain_old;
ALTER TABLE bench_plain_new RENAME TO bench_plain;
COMMIT;
