-- Retention and references (issue #19): rows that a NO ACTION or RESTRICT
-- foreign key references are found by the dry run, kept by the real run
-- (or stop the policy, on request), and the two runs agree.  Units are
-- required where an interval is given as text.
CREATE SCHEMA "ret ""r"";%s";
SET search_path = "ret ""r"";%s", public;

-- A rental shop: payments reference rentals (NO ACTION), returns reference
-- them too (RESTRICT), notes go with their rental (CASCADE).
CREATE TABLE "rent al" (rental_id int PRIMARY KEY, rental_date timestamptz NOT NULL);
CREATE INDEX ON "rent al" (rental_date);
CREATE TABLE payment (payment_id int PRIMARY KEY, rental_id int REFERENCES "rent al", amount numeric);
CREATE TABLE "return;s" (rental_id int REFERENCES "rent al" ON DELETE RESTRICT);
CREATE TABLE note (rental_id int REFERENCES "rent al" ON DELETE CASCADE, body text);
INSERT INTO "rent al" SELECT g, now() - interval '40 months' - g * interval '1 hour' FROM generate_series(1, 100) g;
INSERT INTO "rent al" SELECT g, now() - interval '1 month' FROM generate_series(101, 120) g;
INSERT INTO payment SELECT g, g, 1 FROM generate_series(1, 30) g;      -- 30 old rentals paid
INSERT INTO "return;s" SELECT g FROM generate_series(25, 34) g;        -- 10 returned, 6 of them also paid
INSERT INTO note SELECT g, 'n' FROM generate_series(1, 100, 2) g;      -- notes on 50 old rentals
-- The same shape without an index on the time column (the heap walk).
CREATE TABLE heap_rent (rental_id int PRIMARY KEY, rental_date timestamptz NOT NULL);
CREATE TABLE heap_pay (rental_id int REFERENCES heap_rent);
INSERT INTO heap_rent SELECT g, now() - interval '40 months' - g * interval '1 hour' FROM generate_series(1, 1000) g;
INSERT INTO heap_pay SELECT g FROM generate_series(1, 1000, 7) g;
ANALYZE;

SELECT relation, keep, on_referenced FROM dbopt.add_retention_policy('"rent al"', 'rental_date', '36 months', batch_size => 7);
SELECT relation, keep, on_referenced FROM dbopt.add_retention_policy('heap_rent', 'rental_date', '36 months', batch_size => 50);

CREATE TEMP TABLE dry AS
SELECT relation, rows_deleted, status, detail FROM dbopt.apply_data_retention_policies(dry_run => true)
 WHERE relation IN ('"rent al"'::regclass, 'heap_rent'::regclass);
CREATE TEMP TABLE real AS
SELECT relation, rows_deleted, status, detail FROM dbopt.apply_data_retention_policies()
 WHERE relation IN ('"rent al"'::regclass, 'heap_rent'::regclass);
-- 100 old rentals: 34 referenced (30 paid, 10 returned, 6 both) stay, 66 go.
SELECT d.relation, d.rows_deleted AS promised, r.rows_deleted AS deleted, d.status AS dry_status, r.status
  FROM dry d JOIN real r USING (relation) ORDER BY 1::text;
SELECT relation, detail FROM real ORDER BY 1::text;
SELECT count(*) FILTER (WHERE rental_date < now() - interval '36 months') AS old_left,
       count(*) FILTER (WHERE rental_date >= now() - interval '36 months') AS new_left
  FROM "rent al";
SELECT count(*) AS notes_left FROM note;           -- CASCADE took the notes of deleted rentals
SELECT count(*) AS heap_left, (SELECT count(*) FROM heap_pay) AS referencing FROM heap_rent;
-- A second run finds nothing more to delete and says why.
SELECT relation, rows_deleted, status FROM dbopt.apply_data_retention_policies()
 WHERE relation = '"rent al"'::regclass;

-- on_referenced => 'error': both runs stop before any row goes.
INSERT INTO "rent al" VALUES (500, now() - interval '50 months');
INSERT INTO payment VALUES (500, 500, 1);
INSERT INTO "rent al" VALUES (501, now() - interval '50 months');
SELECT on_referenced FROM dbopt.add_retention_policy('"rent al"', 'rental_date', '36 months', on_referenced => 'error');
SELECT rows_deleted, status, detail FROM dbopt.apply_data_retention_policies(dry_run => true)
 WHERE relation = '"rent al"'::regclass;
SELECT rows_deleted, status FROM dbopt.apply_data_retention_policies()
 WHERE relation = '"rent al"'::regclass;
SELECT count(*) AS still_there FROM "rent al" WHERE rental_id IN (500, 501);
SELECT dbopt.add_retention_policy('"rent al"', 'rental_date', '36 months', on_referenced => 'cascade');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('"rent al"', 'rental_date', '36 months', on_referenced => NULL);
\echo :LAST_ERROR_SQLSTATE

-- Units: a bare number given as text is refused; a typed interval is the caller's word.
SELECT dbopt.add_retention_policy('"rent al"', 'rental_date', '90');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.add_retention_policy('"rent al"', 'rental_date', ' 7.5 ');
\echo :LAST_ERROR_SQLSTATE
SELECT keep FROM dbopt.add_retention_policy('"rent al"', 'rental_date', '90 days');
SELECT keep FROM dbopt.add_retention_policy('"rent al"', 'rental_date', interval '2 years');
SELECT dbopt.purge_audit_log('30', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.purge_audit_log('30 days', dry_run => true);
SELECT count(*) >= 0 AS ok FROM dbopt.analyze_index_usage(NULL, '90');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) >= 0 AS ok FROM dbopt.analyze_index_usage(NULL, '7 days');
SELECT count(*) >= 0 AS ok FROM dbopt.analyze_index_usage(min_stats_age => interval '7 days');
SELECT dbopt.purge_snapshots('14', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.purge_snapshots('1000 years', dry_run => true);
SELECT dbopt.purge_snapshots(dry_run => true) >= 0 AS default_keep_still_works;

-- Many old rows at one time, some referenced, small batches: the dry run
-- counts what the tie batches really take.
CREATE TABLE tie (id int PRIMARY KEY, t timestamptz NOT NULL);
CREATE INDEX ON tie (t);
INSERT INTO tie SELECT g, '2015-01-01' FROM generate_series(1, 10) g;
CREATE TABLE tie_ref (id int REFERENCES tie);
INSERT INTO tie_ref SELECT generate_series(1, 5);
SELECT relation FROM dbopt.add_retention_policy('tie', 't', '1 year', batch_size => 3);
CREATE TEMP TABLE tie_dry AS SELECT rows_deleted, batches FROM dbopt.apply_data_retention_policies(true) WHERE relation = 'tie'::regclass;
CREATE TEMP TABLE tie_real AS SELECT rows_deleted, batches FROM dbopt.apply_data_retention_policies() WHERE relation = 'tie'::regclass;
SELECT d.rows_deleted AS promised, r.rows_deleted AS deleted, d.batches AS dry_batches, r.batches,
       (SELECT count(*) FROM tie) AS left
  FROM tie_dry d, tie_real r;

-- A foreign key that points at one partition, not at the parent: found,
-- and that partition is not dropped whole.
CREATE TABLE pe (id int NOT NULL, t timestamptz NOT NULL, PRIMARY KEY (id, t)) PARTITION BY RANGE (t);
CREATE TABLE pe_2015 PARTITION OF pe FOR VALUES FROM ('2015-01-01') TO ('2016-01-01');
CREATE TABLE pe_now PARTITION OF pe FOR VALUES FROM ('2016-01-01') TO (MAXVALUE);
INSERT INTO pe SELECT g, timestamptz '2015-03-01' + g * interval '1 hour' FROM generate_series(1, 20) g;
INSERT INTO pe VALUES (100, now());
CREATE TABLE pe_ref (id int, t timestamptz, FOREIGN KEY (id, t) REFERENCES pe_2015);
INSERT INTO pe_ref SELECT id, t FROM pe WHERE id <= 4;
SELECT relation FROM dbopt.add_retention_policy('pe', 't', '1 year');
CREATE TEMP TABLE pe_dry AS SELECT rows_deleted, partitions_dropped, status, detail FROM dbopt.apply_data_retention_policies(true) WHERE relation = 'pe'::regclass;
CREATE TEMP TABLE pe_real AS SELECT rows_deleted, partitions_dropped, status, detail FROM dbopt.apply_data_retention_policies() WHERE relation = 'pe'::regclass;
SELECT d.rows_deleted AS promised, r.rows_deleted AS deleted, d.partitions_dropped AS dry_dropped,
       r.partitions_dropped AS dropped, d.status AS dry_status, r.status, (SELECT count(*) FROM pe) AS left
  FROM pe_dry d, pe_real r;
SELECT substring(detail FROM 'referenced_rows_kept: [^(]*') AS kept FROM pe_real;

-- A referencing table of another role: its rows cannot be read as the
-- policy table's owner (its policies would run as that owner), so the
-- policy stops in both runs before any row goes.
CREATE ROLE "regress ret;other";
CREATE TABLE other_ref (rental_id int);
ALTER TABLE other_ref OWNER TO "regress ret;other";
CREATE TABLE mine (rental_id int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO mine SELECT g, '2015-01-01' FROM generate_series(1, 5) g;
GRANT REFERENCES ON mine TO "regress ret;other";
ALTER TABLE other_ref ADD FOREIGN KEY (rental_id) REFERENCES mine;
INSERT INTO other_ref VALUES (1);
SELECT relation FROM dbopt.add_retention_policy('mine', 'at', '1 year');
SELECT rows_deleted, status, detail ~ 'error referenced_rows_unknown: foreign key other_ref_rental_id_fkey on .* belongs to another role' AS says_why
  FROM dbopt.apply_data_retention_policies(true) WHERE relation = 'mine'::regclass;
SELECT rows_deleted, status FROM dbopt.apply_data_retention_policies() WHERE relation = 'mine'::regclass;
SELECT count(*) AS mine_left FROM mine;

SELECT dbopt.remove_retention_policy(r) FROM unnest(ARRAY['"rent al"', 'heap_rent', 'tie', 'pe', 'mine']::regclass[]) r;
DROP SCHEMA "ret ""r"";%s" CASCADE;
DROP ROLE "regress ret;other";
