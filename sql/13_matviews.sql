-- refresh_materialized_views(): dependency order (also through a plain
-- view), CONCURRENTLY only where possible, one failure isolated and its
-- readers skipped, owners, dry run, and the freshness view.
CREATE SCHEMA "mv ""s"";";
SET search_path = "mv ""s"";", public;

CREATE TABLE base (id int PRIMARY KEY, n int NOT NULL);
INSERT INTO base SELECT g, g % 10 FROM generate_series(1, 100) g;
-- Names chosen so that alphabetical order is the wrong order.
CREATE MATERIALIZED VIEW "z base;" AS SELECT n, count(*) AS c FROM base GROUP BY n;
CREATE UNIQUE INDEX ON "z base;" (n);
CREATE MATERIALIZED VIEW "y on z" AS SELECT sum(c) AS total FROM "z base;";
CREATE VIEW "plain v" AS SELECT n, c FROM "z base;" WHERE n > 2;
CREATE MATERIALIZED VIEW "a via view" AS SELECT count(*) AS k FROM "plain v";
CREATE UNIQUE INDEX ON "a via view" (k);
-- Unpopulated, with a unique index: CONCURRENTLY is not possible yet.
CREATE MATERIALIZED VIEW "b empty" AS SELECT id FROM base WITH NO DATA;
CREATE UNIQUE INDEX ON "b empty" (id);
-- A unique index on an expression does not allow CONCURRENTLY either.
CREATE MATERIALIZED VIEW "c expr" AS SELECT id FROM base;
CREATE UNIQUE INDEX ON "c expr" ((id + 0));

SELECT matview, method, status, detail FROM dbopt.refresh_materialized_views(dry_run => true);
SELECT count(*) AS recorded FROM dbopt.matview_refreshes;

-- The real run: same order, each one timed and recorded.
SELECT matview, method, status, detail, duration_ms >= 0 AS timed FROM dbopt.refresh_materialized_views();
SELECT matview, method, status FROM dbopt.matview_refreshes ORDER BY refreshed_at;
SELECT matview, populated, last_refresh IS NOT NULL AS refreshed, age >= '0' AS has_age, last_method, last_status
  FROM dbopt.matview_freshness
 WHERE matview IN (SELECT oid FROM pg_class WHERE relnamespace = '"mv ""s"";"'::regnamespace)
 ORDER BY matview::text;
-- The data is really refreshed.
INSERT INTO base VALUES (101, 1);
SELECT total FROM "y on z";
SELECT matview, method, status FROM dbopt.refresh_materialized_views(ARRAY['"y on z"', '"z base;"']::regclass[]);
SELECT total FROM "y on z";

-- concurrently => false refreshes plain.
SELECT matview, method, status FROM dbopt.refresh_materialized_views(ARRAY['"z base;"']::regclass[], concurrently => false);

-- A view that fails is reported; the views that read it are skipped; the others refresh.
CREATE TABLE divisor (d int);
INSERT INTO divisor VALUES (1);
CREATE MATERIALIZED VIEW "d fails" AS SELECT 1 / d AS x FROM divisor;
CREATE MATERIALIZED VIEW "e reads d" AS SELECT x FROM "d fails";
UPDATE divisor SET d = 0;
SELECT matview, method, status, detail FROM dbopt.refresh_materialized_views();
SELECT matview, last_status, last_refresh IS NOT NULL AS ever_refreshed
  FROM dbopt.matview_freshness WHERE matview::text LIKE '%"d fails"' OR matview::text LIKE '%"e reads d"' ORDER BY 1;
SELECT object_name, action FROM dbopt.maintenance_log
 WHERE operation = 'refresh_materialized_views' AND action <> 'refreshed concurrently' AND action <> 'refreshed plain'
 ORDER BY logged_at;

-- Bad input.
SELECT * FROM dbopt.refresh_materialized_views(ARRAY['base']::regclass[]);
\echo :LAST_ERROR_SQLSTATE

-- Only the owner refreshes: named views not owned are an error, and a run
-- over all views skips them.
CREATE ROLE regress_mv_user;
GRANT USAGE ON SCHEMA "mv ""s"";", dbopt TO regress_mv_user;
GRANT EXECUTE ON FUNCTION dbopt.refresh_materialized_views(regclass[], boolean, boolean) TO regress_mv_user;
SET ROLE regress_mv_user;
SELECT * FROM dbopt.refresh_materialized_views(ARRAY['"z base;"']::regclass[]);
\echo :LAST_ERROR_SQLSTATE
SELECT matview, method, status, detail FROM dbopt.refresh_materialized_views(dry_run => true)
 WHERE matview::text LIKE '%"z base;"';
RESET ROLE;
REVOKE ALL ON FUNCTION dbopt.refresh_materialized_views(regclass[], boolean, boolean) FROM regress_mv_user;
REVOKE USAGE ON SCHEMA "mv ""s"";", dbopt FROM regress_mv_user;
DROP ROLE regress_mv_user;

RESET search_path;
DELETE FROM dbopt.matview_refreshes;
DELETE FROM dbopt.maintenance_log;
SET client_min_messages = warning;
DROP SCHEMA "mv ""s"";" CASCADE;
RESET client_min_messages;
