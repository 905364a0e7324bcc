-- Running a duplicate's fix_sql drops exactly that index and keeps its twin,
-- with names full of quotes, spaces and semicolons.
CREATE SCHEMA "we""ird; sch ema";
CREATE TABLE "we""ird; sch ema"."ta ble;""x" ("co l" int, "o""k" int);
CREATE INDEX "idx ""one"";" ON "we""ird; sch ema"."ta ble;""x" ("co l");
CREATE INDEX "idx; DROP TABLE x" ON "we""ird; sch ema"."ta ble;""x" ("co l");
SELECT indexname, findings, fix_sql
  FROM dbopt.analyze_index_usage('we"ird; sch ema', '0 s') ORDER BY indexname;
SELECT fix_sql FROM dbopt.analyze_index_usage('we"ird; sch ema', '0 s')
 WHERE 'duplicate' = ANY (findings) \gexec
SELECT indexname FROM pg_indexes WHERE schemaname = 'we"ird; sch ema' ORDER BY 1;

-- Foreign keys on such names get a working CREATE INDEX as well.
CREATE TABLE "we""ird; sch ema"."pa rent" (id int PRIMARY KEY);
ALTER TABLE "we""ird; sch ema"."ta ble;""x"
  ADD CONSTRAINT "fk; ""x""" FOREIGN KEY ("o""k") REFERENCES "we""ird; sch ema"."pa rent";
SELECT object_name, fix_sql, columns FROM dbopt.find_unindexed_foreign_keys('we"ird; sch ema');
SELECT fix_sql FROM dbopt.find_unindexed_foreign_keys('we"ird; sch ema') \gexec
SELECT count(*) AS unindexed_left FROM dbopt.find_unindexed_foreign_keys('we"ird; sch ema');
DROP SCHEMA "we""ird; sch ema" CASCADE;
