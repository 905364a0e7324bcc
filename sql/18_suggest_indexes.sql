-- suggest_indexes(): statements from pg_stat_statements planned generically
-- in the server, candidates checked with HypoPG's hypothetical indexes,
-- then without HypoPG by the pg_stats heuristic.  The statements are run
-- with literals, which pg_stat_statements stores as $n parameters.
-- The closing NOTICE's detail counts statements that other sessions may
-- add: terse verbosity keeps it out (t/013_advisor_notice.pl checks it).
\set VERBOSITY terse
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
CREATE SCHEMA "adv ""s"";";
SET search_path = "adv ""s"";", public;
CREATE EXTENSION hypopg SCHEMA "adv ""s"";";
CREATE TABLE "order;s" (id bigint PRIMARY KEY, customer_id int, org_id int, created_at timestamptz, note text)
  WITH (autovacuum_enabled = off);
INSERT INTO "order;s" SELECT g, g % 5000, g % 50, timestamptz '2001-01-01' + g * interval '1 minute', md5(g::text)
  FROM generate_series(1, 100000) g;
CREATE TABLE small (id int, k int);
INSERT INTO small SELECT g, g FROM generate_series(1, 500) g;
CREATE TABLE indexed (id int, k int);
INSERT INTO indexed SELECT g, g % 1000 FROM generate_series(1, 100000) g;
CREATE INDEX ON indexed (k, id);
CREATE TABLE typed (id int, at timestamptz, d date);
INSERT INTO typed SELECT g, timestamptz '2001-01-01' + g * interval '1 minute', date '2001-01-01' + g / 1440
  FROM generate_series(1, 100000) g;
CREATE TABLE written (id int, k int);
CREATE TABLE gone (id int, k int);
ANALYZE "order;s", small, indexed, typed;
\set ECHO none
\o /dev/null
-- 60 calls each, parameters of several types.
SELECT format('SELECT * FROM "order;s" WHERE customer_id = %s', g) FROM generate_series(1, 60) g \gexec
SELECT format('SELECT count(*) FROM "order;s" WHERE org_id = %s AND created_at > %L', g % 50,
              timestamptz '2001-02-01' + g * interval '1 hour') FROM generate_series(1, 60) g \gexec
SELECT format('SELECT * FROM small WHERE k = %s', g) FROM generate_series(1, 60) g \gexec
SELECT format('SELECT * FROM indexed WHERE k = %s', g) FROM generate_series(1, 60) g \gexec
SELECT format('INSERT INTO written VALUES (%s, %s)', g, g) FROM generate_series(1, 60) g \gexec
SELECT format('SELECT * FROM gone WHERE k = %s', g) FROM generate_series(1, 60) g \gexec
SELECT format('SELECT %s', g) FROM generate_series(1, 60) g \gexec
-- Typed literals, which pg_stat_statements keeps as "timestamptz $1",
-- "interval $2", "date $3": planned with their types.
SELECT format('SELECT count(*) FROM typed WHERE at >= timestamptz %L AND at < timestamptz %L + interval %L',
              timestamptz '2001-02-01' + g * interval '1 hour', timestamptz '2001-02-01' + g * interval '1 hour', '1 hour')
  FROM generate_series(1, 60) g \gexec
SELECT format('SELECT * FROM typed WHERE d = date %L', date '2001-01-02' + g) FROM generate_series(1, 60) g \gexec
SELECT 'CREATE TABLE IF NOT EXISTS "adv ""s"";".ddl_in_pgss (a int)' FROM generate_series(1, 60) \gexec
\o
\set ECHO all
-- What pg_stat_statements keeps of the typed literals (this text does not parse as it is).
SELECT query FROM pg_stat_statements WHERE query LIKE '%FROM typed WHERE%' ORDER BY query;
-- A table that disappeared since: its statement cannot be planned any more.
DROP TABLE gone;
-- Verified by HypoPG: (customer_id) and (org_id, created_at), each at least
-- 50% cheaper; nothing for the small table, the indexed column, the table
-- only written to.  The NOTICE counts what was skipped: the statement on
-- the dropped table could not be planned, CREATE TABLE is DDL.
SELECT relation, columns, index_sql, verified_by, improvement_pct >= 50 AS improves,
       cost_after < cost_before AS cheaper, calls, cardinality(queryids) AS statements,
       index_bytes_estimate > 0 AS sized, write_overhead_pct >= 0 AS overhead_known
  FROM dbopt.suggest_indexes(min_mean_ms => 0) ORDER BY relation::text, columns;
-- No hypothetical index is left behind, and no prepared statement.
SELECT count(*) AS hypothetical_left FROM hypopg_list_indexes;
SELECT count(*) AS prepared_left FROM pg_prepared_statements;
-- A write-heavy table says so: 300,000 more rows written than its 120 scans.
INSERT INTO "order;s" SELECT g, g % 5000, g % 50, timestamptz '2001-01-01', 'x' FROM generate_series(100001, 400000) g;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT columns, write_overhead_pct > 0 AS overhead, detail LIKE '%write-heavy table%' AS says_write_heavy
  FROM dbopt.suggest_indexes(min_mean_ms => 0) WHERE columns = '{customer_id}';
ANALYZE "order;s";
-- Without HypoPG: the heuristic, which says so.
DROP EXTENSION hypopg;
SELECT relation, columns, verified_by, detail LIKE '%hypopg is not installed in this database%' AS says_so
  FROM dbopt.suggest_indexes(min_mean_ms => 0) ORDER BY relation::text, columns;
-- After creating the suggestion, it is not suggested again.
CREATE INDEX ON "order;s" (customer_id);
SELECT relation, columns FROM dbopt.suggest_indexes(min_mean_ms => 0) ORDER BY relation::text, columns;
-- Bad arguments.
\set VERBOSITY default
SELECT * FROM dbopt.suggest_indexes(min_improvement_pct => 150);
SELECT * FROM dbopt.suggest_indexes(max_suggestions => 0);
DROP SCHEMA "adv ""s"";" CASCADE;
