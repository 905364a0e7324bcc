-- simulate_drop_index(): the statements of pg_stat_statements on an index's
-- table, planned generically with the index and again with it hidden from
-- the planner.  No DDL: the index stays, and is used again afterwards.
CREATE SCHEMA "sim ""s""";
SET search_path = "sim ""s""", public;
CREATE TABLE "t;1" (id int, k int, d date, note text) WITH (autovacuum_enabled = off);
INSERT INTO "t;1" SELECT g, g % 1000, date '2001-01-01' + g % 3650, md5(g::text)
  FROM generate_series(1, 100000) g;
CREATE INDEX k_a ON "t;1" (k);
CREATE INDEX k_b ON "t;1" (k);           -- a duplicate of k_a
CREATE INDEX by_id ON "t;1" (id);        -- the only index for lookups by id
CREATE INDEX by_note ON "t;1" (note);    -- no statement uses it
CREATE INDEX by_d ON "t;1" (d);          -- ranges of days, written with typed literals
CREATE TABLE p (id int, k int) PARTITION BY RANGE (id);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (50000);
CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (50000) TO (100001);
INSERT INTO p SELECT g, g % 1000 FROM generate_series(1, 100000) g;
CREATE INDEX p_k ON p (k);               -- partitioned: p1_k_idx and p2_k_idx under it
CREATE TABLE o (id int, ref int);
INSERT INTO o SELECT g, g FROM generate_series(1, 10000) g;
CREATE TABLE r (id int, label text);
INSERT INTO r SELECT g, 'r' FROM generate_series(1, 10000) g;
CREATE UNIQUE INDEX r_id ON r (id);      -- lets the planner remove a LEFT JOIN to r
ANALYZE "t;1", p, o, r;
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
\set ECHO none
\o /dev/null
SELECT format('SELECT * FROM "t;1" WHERE k = %s', g) FROM generate_series(1, 3) g \gexec
SELECT format('SELECT * FROM "t;1" WHERE id = %s', g) FROM generate_series(1, 3) g \gexec
SELECT format('SELECT count(*) FROM "t;1" WHERE d >= date %L AND d < date %L + interval %L',
              date '2001-03-01' + g, date '2001-03-01' + g, '1 day') FROM generate_series(1, 3) g \gexec
SELECT format('SELECT * FROM p WHERE k = %s', g) FROM generate_series(1, 3) g \gexec
SELECT 'SELECT o.* FROM o LEFT JOIN r ON r.id = o.ref' FROM generate_series(1, 3) \gexec
\o
\set ECHO all
-- The typed literals as pg_stat_statements keeps them.
SELECT query, calls FROM pg_stat_statements WHERE query LIKE '%WHERE d >=%';
-- The closing NOTICE's detail counts every statement the suite has run: terse.
\set VERBOSITY terse

-- A duplicate pair: either one hidden, the other serves the lookup at the
-- same cost; only the one the planner picked (k_b here) is used.
SELECT query, calls, uses_index, cost_without = cost_with AS same_cost
  FROM dbopt.simulate_drop_index('k_a') WHERE query LIKE '%WHERE k =%';
SELECT query, calls, uses_index, cost_without = cost_with AS same_cost
  FROM dbopt.simulate_drop_index('k_b') WHERE query LIKE '%WHERE k =%';
-- Exactly one of the two is used.
SELECT (SELECT bool_or(uses_index) FROM dbopt.simulate_drop_index('k_a')) <>
       (SELECT bool_or(uses_index) FROM dbopt.simulate_drop_index('k_b')) AS one_of_the_two;

-- The only index for a lookup: without it, a sequential scan, far costlier.
SET client_min_messages = warning;  -- the NOTICE's percentage depends on ANALYZE's sample
SELECT query, uses_index, cost_without > 10 * cost_with AS ten_times_costlier
  FROM dbopt.simulate_drop_index('by_id') ORDER BY query;
RESET client_min_messages;
-- The NOTICE counts the statements on the table, those using the index and
-- those costlier without it.
SELECT count(*) FROM dbopt.simulate_drop_index('by_id');

-- An index no statement uses: nothing changes.
SELECT count(*) AS statements, count(*) FILTER (WHERE uses_index) AS using_it,
       count(*) FILTER (WHERE cost_without <> cost_with) AS changed
  FROM dbopt.simulate_drop_index('by_note');

-- Typed literals (date $1, interval $3) plan with their types, and use by_d.
SELECT query, uses_index, cost_without > cost_with AS costlier
  FROM dbopt.simulate_drop_index('by_d') WHERE query LIKE '%WHERE d >=%';

-- A partitioned index: hidden with its partitions' indexes.
SELECT query, uses_index, cost_without > cost_with AS costlier
  FROM dbopt.simulate_drop_index('p_k');
-- One partition's index alone: the other partition still uses its own.
SELECT query, uses_index, cost_without > cost_with AS costlier
  FROM dbopt.simulate_drop_index('p1_k_idx');

-- A unique index no plan scans, but that lets the planner remove a join:
-- without it the join stays, and costs more.
SELECT query, uses_index, cost_without > cost_with AS costlier
  FROM dbopt.simulate_drop_index('r_id');

-- min_calls: the statements were called 3 times.
SELECT count(*) FROM dbopt.simulate_drop_index('by_id', min_calls => 4);

-- The indexes are still there and still used.
EXPLAIN (COSTS OFF) SELECT * FROM "t;1" WHERE id = 5;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = '"t;1"'::regclass;

-- An error inside (a function folded at plan time cancels the second
-- planning): the hidden index is visible to the planner again.
CREATE SEQUENCE trip_seq;
CREATE FUNCTION trip() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    -- the first planning with sim.trip on passes, the second one raises
    IF current_setting('sim.trip', true) IS NOT DISTINCT FROM 'on' THEN
        IF nextval('"sim ""s""".trip_seq') > 1 THEN
            RAISE EXCEPTION 'tripped while planning without the index' USING ERRCODE = 'query_canceled';
        END IF;
    END IF;
    RETURN 5;
END $$;
\o /dev/null
SELECT * FROM "t;1" WHERE id = trip();
\o
SET sim.trip = 'on';
SELECT count(*) FROM dbopt.simulate_drop_index('by_id');
RESET sim.trip;
SELECT nextval('trip_seq') AS planned_twice;
EXPLAIN (COSTS OFF) SELECT * FROM "t;1" WHERE id = 5;
SELECT count(*) AS still_unused FROM dbopt.simulate_drop_index('by_note') WHERE uses_index;

-- A pg_monitor member does not act as the role that ran the statements:
-- they are resolved in that role's own search_path (set here for it), never
-- in the caller's.
SELECT current_user AS runner \gset
ALTER ROLE :"runner" IN DATABASE dbopt_regress SET search_path = "sim ""s""", public;
-- A pg_monitor member who may not read the table: its statements are skipped.
CREATE ROLE regress_sim_mon IN ROLE pg_monitor;
GRANT USAGE ON SCHEMA "sim ""s""" TO regress_sim_mon;
SET ROLE regress_sim_mon;
SELECT count(*) FROM dbopt.simulate_drop_index('by_id');
RESET ROLE;
GRANT SELECT ON "t;1" TO regress_sim_mon;
SET ROLE regress_sim_mon;
SELECT count(*) FILTER (WHERE uses_index) AS using_it FROM dbopt.simulate_drop_index('by_id');
RESET ROLE;
-- A function the caller's search_path would find first is not the one the
-- statement names: planning resolves names in the statement's role's own
-- search_path, so the caller's function never runs, as anyone.
CREATE TABLE pwned (who name, super boolean);
GRANT INSERT ON pwned TO PUBLIC;
CREATE SCHEMA sim_evil AUTHORIZATION regress_sim_mon;
\o /dev/null
SELECT count(*) FROM "t;1" WHERE d < now();
\o
SET ROLE regress_sim_mon;
CREATE FUNCTION sim_evil.pwn() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "sim ""s""".pwned SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
END $$;
CREATE FUNCTION sim_evil.now() RETURNS date LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM sim_evil.pwn();
    RETURN '2001-01-01';
END $$;
SET search_path = sim_evil, "sim ""s""", pg_catalog;
SELECT count(*) > 0 AS planned FROM dbopt.simulate_drop_index('by_d') WHERE query LIKE '%now()%';
RESET ROLE;
SET search_path = "sim ""s""", public;
SELECT who, super FROM pwned GROUP BY 1, 2;
DROP SCHEMA sim_evil CASCADE;
ALTER ROLE :"runner" IN DATABASE dbopt_regress RESET search_path;
-- A role outside pg_monitor may not call it.
CREATE ROLE regress_sim_nobody;
SELECT 'by_id'::regclass::oid AS by_id \gset
SET ROLE regress_sim_nobody;
SELECT count(*) FROM dbopt.simulate_drop_index(:by_id);
RESET ROLE;

-- Bad arguments.
\set VERBOSITY default
SELECT * FROM dbopt.simulate_drop_index(NULL);
SELECT * FROM dbopt.simulate_drop_index('by_id', NULL);
SELECT * FROM dbopt.simulate_drop_index('by_id', -1);
SELECT * FROM dbopt.simulate_drop_index('"t;1"');
SELECT * FROM dbopt.simulate_drop_index(0);

DROP SCHEMA "sim ""s""" CASCADE;
DROP ROLE regress_sim_mon, regress_sim_nobody;
RESET search_path;
