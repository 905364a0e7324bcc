-- analyze_index_usage()'s evidence (issue #20): the statistics epoch, and
-- the observation windows that take_snapshot() keeps, so that a reset or
-- a crash does not erase the scans seen before it.  Last in the suite:
-- it takes and purges snapshots.
CREATE SCHEMA ixe;
-- The epoch is the latest reset the server shows, with what it was.
SELECT stats_since IS NOT NULL AS has_epoch, source IS NOT NULL AS has_source,
       stats_since <= now() AS not_future FROM dbopt.stats_epoch();

-- Snapshots keep scans past a reset: ev_a is scanned, a snapshot sees it,
-- then its counters are reset.  Without the snapshot it would be
-- unused_recent_stats; with it, it is used.
CREATE TABLE ixe.ev (id int PRIMARY KEY, a int, b int);
INSERT INTO ixe.ev SELECT g, g % 50, g % 30 FROM generate_series(1, 3000) g;
CREATE INDEX ev_a ON ixe.ev (a);
CREATE INDEX ev_b ON ixe.ev (b);
ANALYZE ixe.ev;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM ixe.ev WHERE a = 3;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_stat_force_next_flush();
SELECT dbopt.take_snapshot() > 0 AS snapped;
SELECT index_name, scans, last_idx_scan, idle = '0' AS idle_zero, last_used IS NOT NULL AS used, resets
  FROM dbopt.index_observations WHERE index_name LIKE 'ixe.ev%' ORDER BY 1;
SELECT pg_stat_reset_single_table_counters('ixe.ev_a'::regclass);
SELECT pg_stat_reset_single_table_counters('ixe.ev_b'::regclass);
SELECT (SELECT stats_since FROM dbopt.stats_epoch()) >= (SELECT max(last_seen) FROM dbopt.index_observations)
       AS epoch_moved;
SELECT indexname, scans, scans_observed, findings, stats_source LIKE 'pg_stat_database%' AS db_reset
  FROM dbopt.analyze_index_usage('ixe', '1 hour') WHERE tablename = 'ev' ORDER BY 1;
-- The next snapshot carries the reset window on.
SELECT dbopt.take_snapshot() > 0 AS snapped;
SELECT index_name, scans, resets FROM dbopt.index_observations WHERE index_name LIKE 'ixe.ev%' ORDER BY 1;
-- Long enough observed without a scan: ev_b is unused, ev_a (scanned
-- before the reset) is not, and the recommendation says why.
SELECT indexname, findings, confidence IS NOT NULL AS graded,
       recommendation ~ 'dbopt''s snapshots saw 1 scan\(s\) before' AS says_scans_before
  FROM dbopt.analyze_index_usage('ixe', '0 s') WHERE tablename = 'ev' ORDER BY 1;
-- purge_snapshots() lets a scan go with the snapshots of its time.
UPDATE dbopt.index_observations SET last_used = last_used - interval '2 days' WHERE index_name = 'ixe.ev_a';
SELECT count(*) >= 0 AS purged FROM dbopt.purge_snapshots('1 day', dry_run => true);
SELECT index_name, scans FROM dbopt.index_observations WHERE index_name = 'ixe.ev_a';
SELECT count(*) >= 0 AS purged FROM dbopt.purge_snapshots('1 day');
-- Both runs counted the index whose only scans go.
SELECT action, detail ~ '; 1 index\(es\) whose only scans seen were in them' AS counted
  FROM dbopt.maintenance_log WHERE operation = 'purge_snapshots' ORDER BY logged_at DESC LIMIT 2;
SELECT index_name, scans FROM dbopt.index_observations WHERE index_name = 'ixe.ev_a';
SELECT indexname, findings FROM dbopt.analyze_index_usage('ixe', '0 s') WHERE tablename = 'ev' ORDER BY 1;


-- ---------- confidence: the what-if check (issue #20, item 2) ----------
-- Statements in pg_stat_statements are planned without each index about
-- to be called droppable.
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
CREATE TABLE ixe.c (id int PRIMARY KEY, a int, b int, pad text);
INSERT INTO ixe.c SELECT g, g % 500, g % 2000, repeat('x', 100) || (g % 3) FROM generate_series(1, 20000) g;
CREATE INDEX c_a ON ixe.c (a);
CREATE INDEX c_a_twin ON ixe.c (a);
CREATE INDEX c_b ON ixe.c (b);
CREATE INDEX c_b_pad ON ixe.c (b, pad);
ANALYZE ixe.c;
-- The workload: lookups on a, on b, and on b and pad, twice each.
SELECT count(*) FROM ixe.c WHERE a = 7;
SELECT count(*) FROM ixe.c WHERE a = 8;
SELECT count(*) FROM ixe.c WHERE b = 3;
SELECT count(*) FROM ixe.c WHERE b = 4;
SELECT count(*) FROM ixe.c WHERE b = 3 AND pad = repeat('x', 100) || '1';
SELECT count(*) FROM ixe.c WHERE b = 4 AND pad = repeat('x', 100) || '1';
SELECT pg_stat_force_next_flush();
SELECT indexrelname, idx_scan > 0 AS scanned FROM pg_stat_user_indexes
 WHERE relname = 'c' ORDER BY 1;
-- c_b is redundant to c_b_pad, which its statements fall back on; the a
-- twin the workload does not use is the duplicate to drop.
SELECT indexname, findings, confidence,
       substring(recommendation from 'Confidence \w+: (.*)$') AS reasons
  FROM dbopt.analyze_index_usage('ixe', '0 s') WHERE tablename = 'c' ORDER BY 1;
-- The a twin the statements use has its counters reset: now both twins
-- are unused, and the one they plan with gets a low confidence.
SELECT indexrelname AS used_twin FROM pg_stat_user_indexes
 WHERE relname = 'c' AND indexrelname LIKE 'c_a%' AND idx_scan > 0 \gset
SELECT pg_stat_reset_single_table_counters(('ixe.' || :'used_twin')::regclass);
SELECT indexname = :'used_twin' AS is_used_twin, findings, confidence,
       recommendation ~ 'statement\(s\) in pg_stat_statements plan with it although no scan was counted' AS says_planned
  FROM dbopt.analyze_index_usage('ixe', '0 s') WHERE indexname LIKE 'c_a%' ORDER BY 1;
-- c_b_pad unused while c_b is used: c_b is then not called redundant, since
-- following both verdicts would drop every index on b.
SELECT pg_stat_reset_single_table_counters('ixe.c_b_pad'::regclass);
SELECT indexname, findings FROM dbopt.analyze_index_usage('ixe', '0 s')
 WHERE indexname LIKE 'c_b%' ORDER BY 1;
-- Without pg_stat_statements' statements on the table: nothing plans with them.
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
SELECT indexname, confidence, recommendation ~ 'none of the 0 statements on its table' AS no_statements
  FROM dbopt.analyze_index_usage('ixe', '0 s') WHERE tablename = 'c' AND confidence IS NOT NULL ORDER BY 1;

-- ---------- a new index is observed from its creation ----------
-- Its file's birth time bounds the observation, even where snapshots or
-- the statistics epoch are older.
-- (The file system stamps the birth with a coarse clock: a few ms early.)
SELECT pg_sleep(0.2);
SELECT clock_timestamp() AS t0 \gset
CREATE INDEX c_new ON ixe.c (id, a);
SELECT findings, unused_for <= now() - :'t0'::timestamptz + interval '50 milliseconds' AS since_creation
  FROM dbopt.analyze_index_usage('ixe', '1 hour') WHERE indexname = 'c_new';

-- ---------- statements are planned as their role, in its search_path ----------
-- A statement of another role is planned as that role: what its functions
-- do runs with its rights, never with the caller's (a pg_monitor member's).
CREATE ROLE regress_ixe_mon IN ROLE pg_monitor;
CREATE ROLE regress_ixe_att;
CREATE SCHEMA ixe_att AUTHORIZATION regress_ixe_att;
CREATE TABLE public.ixe_secret (v text);
INSERT INTO public.ixe_secret VALUES ('the monitoring secret');
ALTER TABLE public.ixe_secret OWNER TO regress_ixe_mon;
GRANT USAGE ON SCHEMA ixe_att TO PUBLIC;
SET ROLE regress_ixe_att;
CREATE TABLE ixe_att.t (id int, x int);
GRANT SELECT ON ixe_att.t TO PUBLIC;
CREATE INDEX t_x1 ON ixe_att.t (x);
CREATE INDEX t_x2 ON ixe_att.t (x);
CREATE TABLE ixe_att.loot (who text, what text);
GRANT INSERT ON ixe_att.loot TO PUBLIC;
CREATE FUNCTION ixe_att.steal() RETURNS int LANGUAGE plpgsql VOLATILE AS $f$
BEGIN
  INSERT INTO ixe_att.loot SELECT current_user, (SELECT string_agg(v, ',') FROM public.ixe_secret);
  RETURN 1;
EXCEPTION WHEN others THEN
  INSERT INTO ixe_att.loot VALUES (current_user, 'denied');
  RETURN 1;
END $f$;
CREATE FUNCTION ixe_att.evil() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM ixe_att.steal(); RETURN 1; END $f$;
SELECT count(*) FROM ixe_att.t WHERE x = ixe_att.evil();
RESET ROLE;
TRUNCATE ixe_att.loot;
SET ROLE regress_ixe_mon;
SELECT count(*) > 0 AS reported FROM dbopt.analyze_index_usage('ixe_att', '0 s');
RESET ROLE;
SELECT who, what FROM ixe_att.loot ORDER BY 1, 2;

-- A statement written without a schema is planned in its role's
-- search_path (here the default "$user", public), not in the report's
-- pinned one: the what-if check sees it use the index.
CREATE TABLE public.ixe_p (id int, x int);
INSERT INTO public.ixe_p SELECT g, g FROM generate_series(1, 20000) g;
CREATE INDEX ixe_p_x ON public.ixe_p (x);
ANALYZE public.ixe_p;
SET search_path = public;
SELECT count(*) FROM ixe_p WHERE x = 1;
RESET search_path;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_reset_single_table_counters('public.ixe_p_x'::regclass);
SELECT findings, confidence,
       recommendation ~ '1 statement\(s\) in pg_stat_statements plan with it' AS planned_with_it
  FROM dbopt.analyze_index_usage('public', '0 s') WHERE indexname = 'ixe_p_x';
DROP TABLE public.ixe_p, public.ixe_secret;
DROP SCHEMA ixe_att CASCADE;
DROP ROLE regress_ixe_att;
DROP ROLE regress_ixe_mon;
DROP SCHEMA ixe CASCADE;
