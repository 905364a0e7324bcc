-- One plan for the dry run and the real run of partition maintenance
-- (issue #19): same objects and counts, gaps below the newest partition
-- left alone unless backfill, nothing created that retention would drop,
-- names that follow the existing partitions, units required, and
-- pg_partman's tables left to pg_partman.
CREATE SCHEMA "plan ""s"";";
SET search_path = "plan ""s"";", public;

-- Pagila's payment shape: monthly partitions of a past year, named
-- <table>_pYYYY_MM, registered with a retention shorter than their age.
CREATE TABLE "pay x" (payment_id int, paid_at timestamptz NOT NULL, amount numeric)
    PARTITION BY RANGE (paid_at);
DO $$
DECLARE m date;
BEGIN
  FOR m IN SELECT generate_series(date '2022-01-01', date '2022-07-01', '1 month')::date LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF "pay x" FOR VALUES FROM (%L) TO (%L)',
                   'pay x_p' || to_char(m, 'YYYY_MM'), m, m + interval '1 month');
  END LOOP;
END $$;
INSERT INTO "pay x" SELECT g, date '2022-01-01' + (g % 200) * interval '1 day', g FROM generate_series(1, 1000) g;
SELECT parent, partition_interval, premake, retention, backfill, force
  FROM dbopt.manage_partitions('"pay x"', '1 month', 4, '40 months');

-- The plan, as create_future_partitions() dry run sees it.
CREATE TEMP TABLE planned AS
SELECT partition_name, range_from, range_to FROM dbopt.create_future_partitions('"pay x"', dry_run => true);
CREATE TEMP TABLE dry AS
SELECT * FROM dbopt.run_partition_maintenance(dry_run => true) WHERE parent = '"pay x"'::regclass;
CREATE TEMP TABLE real AS
SELECT * FROM dbopt.run_partition_maintenance() WHERE parent = '"pay x"'::regclass;
-- Dry and real runs agree; all seven old partitions go, none created goes.
SELECT d.partitions_created = r.partitions_created AS same_created,
       d.partitions_dropped = r.partitions_dropped AS same_dropped,
       r.partitions_dropped AS dropped, r.partitions_skipped AS skipped, r.status
  FROM dry d, real r;
SELECT (SELECT count(*) FROM planned) = (SELECT partitions_created FROM real) AS plan_is_what_ran,
       NOT EXISTS (SELECT FROM planned p WHERE to_regclass(p.partition_name) IS NULL) AS every_planned_exists,
       NOT EXISTS (SELECT FROM dbopt.maintenance_log c JOIN dbopt.maintenance_log d USING (object_name)
                    WHERE c.action = 'created' AND d.action = 'dropped'
                      AND c.object_name LIKE '%pay x%') AS nothing_created_then_dropped;
-- Nothing was created whose whole range lies below the cutoff, and the
-- first new partition is the one that holds the cutoff.
SELECT bool_and(range_to::timestamptz > now() - interval '40 months') AS none_below_cutoff,
       min(range_from::timestamptz) <= now() - interval '40 months' AS first_holds_cutoff,
       max(range_to::timestamptz) > now() + interval '4 months' AS premake_reached
  FROM planned;
-- New names follow the existing ones: "pay x_pYYYY_MM".
SELECT bool_and(partition_name ~ '^"plan ""s"";"\."pay x_p\d{4}_\d{2}"$') AS names_follow_pattern FROM planned;
-- A second run has nothing to do, dry or real.
SELECT partitions_created, partitions_dropped, status
  FROM dbopt.run_partition_maintenance(dry_run => true) WHERE parent = '"pay x"'::regclass;

-- Gaps below the newest partition stay unless backfill is asked for.
CREATE TABLE gaps (at date NOT NULL) PARTITION BY RANGE (at);
DO $$
DECLARE m date;
BEGIN
  FOREACH m IN ARRAY ARRAY[date_trunc('month', now() - interval '6 months')::date,
                           date_trunc('month', now() - interval '3 months')::date,
                           date_trunc('month', now())::date] LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF gaps FOR VALUES FROM (%L) TO (%L)',
                   'gaps_' || to_char(m, 'YYYYMM'), m, (m + interval '1 month')::date);
  END LOOP;
END $$;
SELECT backfill FROM dbopt.manage_partitions('gaps', '1 month', 2);
SELECT count(*) AS planned, bool_and(range_from::date > current_date) AS all_ahead,
       bool_and(partition_name ~ '^"plan ""s"";"\.gaps_\d{6}$') AS names_follow_pattern
  FROM dbopt.create_future_partitions('gaps', dry_run => true);
SELECT backfill FROM dbopt.manage_partitions('gaps', '1 month', 2, backfill => true);
SELECT count(*) AS planned, count(*) FILTER (WHERE range_from::date < current_date) AS filling_gaps
  FROM dbopt.create_future_partitions('gaps', dry_run => true);
-- Dry and real rows agree, name by name.
CREATE TEMP TABLE gaps_dry AS
SELECT partition_name, range_from, range_to FROM dbopt.create_future_partitions('gaps', dry_run => true);
CREATE TEMP TABLE gaps_real AS
SELECT partition_name, range_from, range_to FROM dbopt.create_future_partitions('gaps');
SELECT count(*) AS differences
  FROM ((TABLE gaps_dry EXCEPT TABLE gaps_real) UNION ALL (TABLE gaps_real EXCEPT TABLE gaps_dry)) x;

-- drop_old_partitions: dry and real rows agree, row by row.
CREATE TEMP TABLE d_dry AS
SELECT partition_name, range_from, range_to, replace(action, 'would ', '') AS action
  FROM dbopt.drop_old_partitions('gaps', '2 months', dry_run => true);
CREATE TEMP TABLE d_real AS
SELECT partition_name, range_from, range_to, replace(action, 'ped', '') AS action
  FROM dbopt.drop_old_partitions('gaps', '2 months');
SELECT (SELECT count(*) FROM d_dry) AS rows,
       (SELECT count(*) FROM ((TABLE d_dry EXCEPT TABLE d_real) UNION ALL (TABLE d_real EXCEPT TABLE d_dry)) x) AS differences;

-- A fix_sql runs as given: rows in the default partition block a new
-- partition; the script moves them in one transaction and leaves no
-- staging table.
CREATE TABLE blocked (id int NOT NULL, note text) PARTITION BY RANGE (id);
CREATE TABLE blocked_p0 PARTITION OF blocked FOR VALUES FROM (0) TO (10);
CREATE TABLE "blocked def;" PARTITION OF blocked DEFAULT;
INSERT INTO blocked SELECT g, 'n' || g FROM generate_series(0, 24) g;
SELECT parent FROM dbopt.manage_partitions('blocked', '10', 1);
SELECT fix_sql AS script FROM dbopt.create_future_partitions('blocked', dry_run => true)
 WHERE action = 'default_has_rows' ORDER BY range_from::int LIMIT 1 \gset
:script
SELECT tableoid::regclass AS part, count(*) FROM blocked GROUP BY 1 ORDER BY 1;
SELECT count(*) AS staging_left FROM pg_class WHERE relname LIKE 'blocked%dbopt_moving';
SELECT dbopt.unmanage_partitions('blocked');

-- Units are required for time keys: a bare number would be seconds.
SELECT dbopt.manage_partitions('gaps', '24');
\echo :LAST_ERROR_SQLSTATE
SELECT dbopt.manage_partitions('gaps', '1 month', 2, ' 90 ');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.drop_old_partitions('gaps', '24', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.drop_old_partitions('gaps', '-1.5', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
-- A registration stored before units were required is reported, not guessed.
UPDATE dbopt.partition_config SET retention = '90' WHERE parent = 'gaps'::regclass;
SELECT status, detail FROM dbopt.run_partition_maintenance(dry_run => true) WHERE parent = 'gaps'::regclass;
-- Integer keys keep integer literals.
CREATE TABLE ids (id bigint NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE ids_p0 PARTITION OF ids FOR VALUES FROM (0) TO (100);
SELECT partition_interval, retention FROM dbopt.manage_partitions('ids', '100', 1, '1000');
-- An integer key whose oldest partition lies far below the retention
-- cutoff, with backfill: the walk jumps to the cutoff instead of stepping.
CREATE TABLE far (id bigint NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE far_old PARTITION OF far FOR VALUES FROM (-9000000000000000000) TO (-8999999999999999000);
CREATE TABLE far_cur PARTITION OF far FOR VALUES FROM (0) TO (100);
INSERT INTO far VALUES (50);
SELECT backfill FROM dbopt.manage_partitions('far', '100', premake => 2, retention => '10', backfill => true);
SET statement_timeout = '20s';
SELECT partitions_created, partitions_dropped, status FROM dbopt.run_partition_maintenance(dry_run => true)
 WHERE parent = 'far'::regclass;
RESET statement_timeout;
SELECT dbopt.unmanage_partitions('far');
SELECT dbopt.manage_partitions('ids', '1 month');
\echo :LAST_ERROR_SQLSTATE

-- pg_partman's tables are pg_partman's: refused unless force.
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE SCHEMA pmt;
CREATE TABLE pmt.pm (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
SELECT partman.create_parent('pmt.pm', 'at', 'native', 'daily', p_premake => 2);
SELECT dbopt.manage_partitions('pmt.pm', '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dbopt.drop_old_partitions('pmt.pm', '1 day', dry_run => true);
\echo :LAST_ERROR_SQLSTATE
-- pg_partman's catalog is read only while it is pg_partman's own table.
ALTER EXTENSION pg_partman DROP TABLE partman.part_config;
SELECT dbopt.manage_partitions('pmt.pm', '1 day');
\echo :LAST_ERROR_SQLSTATE
ALTER EXTENSION pg_partman ADD TABLE partman.part_config;
-- Forced: dbopt's new partitions follow pg_partman's names, and
-- pg_partman's own maintenance still runs afterwards.
SELECT force FROM dbopt.manage_partitions('pmt.pm', '1 day', 4, force => true);
SELECT count(*) > 0 AS created,
       bool_and(partition_name ~ '^pmt\.pm_p\d{4}_\d{2}_\d{2}$') AS names_follow_partman
  FROM dbopt.create_future_partitions('pmt.pm');
CALL partman.run_maintenance_proc();
SELECT dbopt.unmanage_partitions('pmt.pm');
-- Registered, then taken over by pg_partman: maintenance skips it.
CREATE TABLE pmt.pm2 (at timestamptz NOT NULL) PARTITION BY RANGE (at);
SELECT parent FROM dbopt.manage_partitions('pmt.pm2', '1 day', 1);
SELECT partman.create_parent('pmt.pm2', 'at', 'native', 'daily', p_premake => 1);
SELECT status, detail FROM dbopt.run_partition_maintenance(dry_run => true) WHERE parent = 'pmt.pm2'::regclass;
SELECT dbopt.unmanage_partitions('pmt.pm2');
DROP SCHEMA pmt CASCADE;
DROP EXTENSION pg_partman;
DROP SCHEMA partman CASCADE;

-- Randomized: generated layouts (gaps, a default partition with rows, a
-- sub-partitioned child, premake, retention, time and integer keys).  For
-- each, the dry run and the real run agree on every count, nothing the run
-- created is dropped by it, and a second dry run finds nothing to do
-- except what the default partition's rows block.
CREATE TEMP TABLE layout_results (layout int, problem text);
CREATE TEMP TABLE layout_runs (layout int, created int, dropped int, skipped int);
DO $rand$
DECLARE
  i int; j int; n int; is_time boolean; step text; lo bigint; w int;
  prem int; ret text; d record; r record; again record; tbl text;
  created text[]; dropped text[];
BEGIN
  PERFORM setseed(0.19);
  FOR i IN 1..40 LOOP
    tbl := format('lay %s', i);
    is_time := random() < 0.6;
    w := 1 + floor(random() * 3)::int;       -- partition width in steps
    prem := floor(random() * 5)::int;
    IF is_time THEN
      EXECUTE format('CREATE TABLE %I (k timestamptz NOT NULL, v int) PARTITION BY RANGE (k)', tbl);
      step := '1 day';
      ret := CASE WHEN random() < 0.6 THEN (5 + floor(random() * 40)::int) || ' days' END;
    ELSE
      EXECUTE format('CREATE TABLE %I (k bigint NOT NULL, v int) PARTITION BY RANGE (k)', tbl);
      step := '100';
      ret := CASE WHEN random() < 0.6 THEN (500 + floor(random() * 4000)::int)::text END;
    END IF;
    n := floor(random() * 8)::int;
    lo := -floor(random() * 60)::int;        -- in days (time) or hundreds (integer)
    FOR j IN 1..n LOOP
      IF random() < 0.3 THEN lo := lo + w; END IF;   -- a gap
      IF is_time THEN
        IF random() < 0.15 THEN
          EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L) PARTITION BY RANGE (k)',
                         tbl || '_s' || j, tbl, current_date + lo::int, current_date + (lo + w)::int);
          EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                         tbl || '_s' || j || 'a', tbl || '_s' || j, current_date + lo::int, current_date + (lo + w)::int);
        ELSE
          EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                         tbl || '_' || j, tbl, current_date + lo::int, current_date + (lo + w)::int);
        END IF;
        EXECUTE format('INSERT INTO %I VALUES (%L, 1)', tbl, current_date + lo::int);
      ELSE
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                       tbl || '_' || j, tbl, (lo + 60) * 100, (lo + 60 + w) * 100);
        EXECUTE format('INSERT INTO %I VALUES (%s, 1)', tbl, (lo + 60) * 100);
      END IF;
      lo := lo + w;
    END LOOP;
    IF random() < 0.4 THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_def', tbl);
      IF is_time THEN
        EXECUTE format('INSERT INTO %I VALUES (%L, 2)', tbl, current_date + lo::int + 1 + floor(random() * 3)::int);
      ELSE
        EXECUTE format('INSERT INTO %I VALUES (%s, 2)', tbl, (lo + 61) * 100 + 5);
      END IF;
    END IF;
    PERFORM dbopt.manage_partitions(quote_ident(tbl)::regclass, step, prem, ret, backfill => random() < 0.3);
    DELETE FROM dbopt.maintenance_log;
    SELECT * INTO d FROM dbopt.run_partition_maintenance(dry_run => true) WHERE parent = quote_ident(tbl)::regclass;
    SELECT * INTO r FROM dbopt.run_partition_maintenance() WHERE parent = quote_ident(tbl)::regclass;
    IF (d.partitions_created, d.partitions_dropped, d.partitions_skipped)
       IS DISTINCT FROM (r.partitions_created, r.partitions_dropped, r.partitions_skipped) THEN
      INSERT INTO layout_results VALUES (i, format('dry %s/%s/%s, real %s/%s/%s: %s',
        d.partitions_created, d.partitions_dropped, d.partitions_skipped,
        r.partitions_created, r.partitions_dropped, r.partitions_skipped, r.detail));
    END IF;
    INSERT INTO layout_runs VALUES (i, r.partitions_created, r.partitions_dropped, r.partitions_skipped);
    IF r.status NOT IN ('ok', 'partial') THEN
      INSERT INTO layout_results VALUES (i, format('status %s: %s', r.status, r.detail));
    END IF;
    SELECT array_agg(object_name) FILTER (WHERE action = 'created'),
           array_agg(object_name) FILTER (WHERE action = 'dropped')
      INTO created, dropped FROM dbopt.maintenance_log;
    IF created && dropped THEN
      INSERT INTO layout_results VALUES (i, 'dropped what it created: ' || array_to_string(created, ',') || ' / ' || array_to_string(dropped, ','));
    END IF;
    SELECT * INTO again FROM dbopt.run_partition_maintenance(dry_run => true) WHERE parent = quote_ident(tbl)::regclass;
    IF again.partitions_created <> 0 OR again.partitions_dropped <> 0 THEN
      INSERT INTO layout_results VALUES (i, format('second run plans %s created, %s dropped', again.partitions_created, again.partitions_dropped));
    END IF;
    PERFORM dbopt.unmanage_partitions(quote_ident(tbl)::regclass);
    EXECUTE format('DROP TABLE %I', tbl);
  END LOOP;
END
$rand$;
-- The layouts exercise every step: some create, some drop, some do both.
SELECT count(*) AS layouts, count(*) FILTER (WHERE created > 0) AS creating,
       count(*) FILTER (WHERE dropped > 0) AS dropping,
       count(*) FILTER (WHERE created > 0 AND dropped > 0) AS both,
       count(*) FILTER (WHERE skipped > 0) AS blocked_by_default_rows
  FROM layout_runs;
SELECT count(*) AS problems FROM layout_results;
SELECT * FROM layout_results ORDER BY layout;

SELECT dbopt.unmanage_partitions(p) FROM unnest(ARRAY['"pay x"', 'gaps', 'ids']::regclass[]) p;
