-- suggest_indexes() on the workloads of issue #20, item 7: a partitioned
-- table whose partitions are each under 128 pages but together bigger, and
-- conditions that an existing index applies to a column that is not its
-- leading one.  The statements carry typed literals (timestamptz, date,
-- interval), which pg_stat_statements keeps as "timestamptz $2".
-- The closing NOTICE's detail counts statements that background activity
-- may add: terse verbosity shows only its stable message here
-- (t/013_advisor_notice.pl checks the detail).
\set VERBOSITY terse
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
CREATE SCHEMA adv28;
SET search_path = adv28, public;
CREATE EXTENSION hypopg SCHEMA adv28;
-- payment: four monthly partitions of about 115 pages each, 460 in all.
CREATE TABLE payment (payment_id int, customer_id int, amount numeric, payment_date timestamptz, pad text)
  PARTITION BY RANGE (payment_date);
CREATE TABLE payment_p2001_01 PARTITION OF payment FOR VALUES FROM ('2001-01-01') TO ('2001-02-01');
CREATE TABLE payment_p2001_02 PARTITION OF payment FOR VALUES FROM ('2001-02-01') TO ('2001-03-01');
CREATE TABLE payment_p2001_03 PARTITION OF payment FOR VALUES FROM ('2001-03-01') TO ('2001-04-01');
CREATE TABLE payment_p2001_04 PARTITION OF payment FOR VALUES FROM ('2001-04-01') TO ('2001-05-01');
INSERT INTO payment SELECT g, g % 2000, g % 100, timestamptz '2001-01-01' + (g % 119) * interval '1 day', repeat('x', 60)
  FROM generate_series(1, 32000) g;
-- paid: partitioned too, with an index on customer_id in every partition
-- and none on the parent.
CREATE TABLE paid (customer_id int, paid_on date, pad text) PARTITION BY RANGE (paid_on);
CREATE TABLE paid_1 PARTITION OF paid FOR VALUES FROM ('2001-01-01') TO ('2001-03-01');
CREATE TABLE paid_2 PARTITION OF paid FOR VALUES FROM ('2001-03-01') TO ('2001-05-01');
INSERT INTO paid SELECT g % 2000, date '2001-01-01' + g % 119, repeat('x', 60) FROM generate_series(1, 32000) g;
CREATE INDEX ON paid_1 (customer_id);
CREATE INDEX ON paid_2 (customer_id);
-- lookups: an index (a, b), looked up by b alone, and by a.
CREATE TABLE lookups (a int, b int, pad text);
INSERT INTO lookups SELECT g % 100, g, repeat('y', 200) FROM generate_series(1, 20000) g;
CREATE INDEX ON lookups (a, b);
-- rental: pagila's unique (rental_date, inventory_id, customer_id), looked
-- up by customer_id and a date range.
CREATE TABLE rental (rental_id int, rental_date timestamptz, inventory_id int, customer_id int, pad text);
INSERT INTO rental SELECT g, timestamptz '2005-05-24' + g * interval '5 minutes', g % 4500, g % 600, repeat('r', 100)
  FROM generate_series(1, 16000) g;
CREATE UNIQUE INDEX ON rental (rental_date, inventory_id, customer_id);
ANALYZE payment, paid, lookups, rental;
-- Each partition is under 128 pages, the table is not.
SELECT c.relname, c.relpages < 128 AS small FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'payment'::regclass ORDER BY 1;
SELECT sum(relpages) >= 128 AS big_enough FROM pg_class c JOIN pg_inherits i ON c.oid = i.inhrelid
 WHERE i.inhparent = 'payment'::regclass;
-- The planner reads lookups and rental through their indexes, with the
-- condition on a column that is not the index's first: no filter, so a
-- walk of filters alone finds nothing.
EXPLAIN (COSTS OFF) SELECT * FROM lookups WHERE b = 5;
EXPLAIN (COSTS OFF) SELECT * FROM rental WHERE customer_id = 5 AND rental_date >= timestamptz '2005-06-01';
\set ECHO none
\o /dev/null
SELECT format('SELECT sum(amount) FROM payment WHERE customer_id = %s AND payment_date >= date %L - interval %L',
              g, date '2001-04-01', '1 month') FROM generate_series(1, 60) g \gexec
SELECT format('SELECT count(*) FROM paid WHERE customer_id = %s AND length(pad) > %s', g, g % 10)
  FROM generate_series(1, 60) g \gexec
SELECT format('SELECT * FROM lookups WHERE b = %s', g) FROM generate_series(1, 60) g \gexec
SELECT format('SELECT * FROM lookups WHERE a = %s', g % 100) FROM generate_series(1, 60) g \gexec
SELECT format('SELECT * FROM rental WHERE customer_id = %s AND rental_date >= timestamptz %L', g,
              timestamptz '2005-06-01' + g * interval '1 day') FROM generate_series(1, 60) g \gexec
\o
\set ECHO all
SELECT query FROM public.pg_stat_statements WHERE calls = 60 ORDER BY query;
-- payment gets its index on the parent, judged by its 460 pages, verified
-- by HypoPG on the partitions; paid, indexed in every partition, and
-- lookups (a), which its index leads with, get none; lookups gets (b) and
-- rental an index leading with customer_id.
SELECT relation, columns, verified_by, improvement_pct >= 50 AS improves, calls,
       index_bytes_estimate > 0 AS sized, write_overhead_pct >= 0 AS overhead_known
  FROM dbopt.suggest_indexes(min_mean_ms => 0) ORDER BY relation::text, columns;
SELECT index_sql FROM dbopt.suggest_indexes(min_mean_ms => 0) WHERE relation = 'payment'::regclass;
-- The partitioned fix runs as given, statement by statement as psql runs
-- a script: the parent's index ends valid, with every partition's attached.
SELECT index_sql AS fix FROM dbopt.suggest_indexes(min_mean_ms => 0) WHERE relation = 'payment'::regclass \gset
:fix
SELECT i.indexrelid::regclass AS index, i.indisvalid,
       (SELECT count(*) FROM pg_inherits h JOIN pg_index p ON p.indexrelid = h.inhrelid
         WHERE h.inhparent = i.indexrelid AND p.indisvalid) AS partitions_attached
  FROM pg_index i WHERE i.indrelid = 'payment'::regclass;
SELECT count(*) AS hypothetical_left FROM hypopg_list_indexes;
-- Indexed now: not suggested again.
SELECT relation, columns FROM dbopt.suggest_indexes(min_mean_ms => 0) ORDER BY relation::text, columns;
-- Without HypoPG, and with index scans off so that every plan filters in
-- sequential scans and notes every column: the heuristic suggests
-- nothing on payment, indexed by its parent's index now, nor on paid,
-- indexed in every partition.
DROP EXTENSION hypopg;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM paid WHERE customer_id = 5 AND length(pad) > 5;
SELECT relation, columns, verified_by FROM dbopt.suggest_indexes(min_mean_ms => 0)
 ORDER BY relation::text, columns;
RESET enable_indexscan;
RESET enable_bitmapscan;
-- The heuristic judges payment by its partitions' pages and its
-- inherited statistics too: after dropping its index, payment is
-- suggested again.
DROP INDEX payment_customer_id_payment_date_idx;
SELECT relation, columns, verified_by FROM dbopt.suggest_indexes(min_mean_ms => 0)
 WHERE relation = 'payment'::regclass ORDER BY columns;
RESET search_path;
DROP SCHEMA adv28 CASCADE;
