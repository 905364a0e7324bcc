
-- check: cache_hit_ratio
-- Over the window between the two latest snapshots where they have this
-- database with the same statistics reset, else since that reset: the
-- cumulative ratio is mostly whatever ran first (a bulk load, say).
-- Fewer than 1000 block requests are not enough evidence.
WITH w AS (SELECT min(snap_id) AS a_id, max(snap_id) AS b_id, min(taken_at) AS a_at, max(taken_at) AS b_at
            FROM (SELECT snap_id, taken_at FROM dbopt.snapshots ORDER BY snap_id DESC LIMIT 2) s
          HAVING count(*) = 2),
win AS (SELECT b.datid, b.blks_hit - a.blks_hit AS hit, b.blks_read - a.blks_read AS rd,
               pg_catalog.format('between snapshots %s and %s (%s to %s)', w.a_id, w.b_id,
                 pg_catalog.date_trunc('second', w.a_at), pg_catalog.date_trunc('second', w.b_at)) AS since
          FROM w JOIN dbopt.snapshot_databases a ON a.snap_id = w.a_id
          JOIN dbopt.snapshot_databases b ON b.snap_id = w.b_id AND b.datid = a.datid
         WHERE b.stats_reset IS NOT DISTINCT FROM a.stats_reset
           AND b.blks_hit >= a.blks_hit AND b.blks_read >= a.blks_read)
SELECT CASE WHEN req >= 1000 AND r < $1 THEN 'warning' ELSE 'ok' END, pg_catalog.quote_ident(datname),
 CASE WHEN req < 1000 THEN pg_catalog.format('not enough evidence: %s block requests %s', req, since)
      ELSE pg_catalog.format('%s%% of %s block requests were found in shared buffers %s', round(r::numeric, 1), req, since) END,
 'Find the statements that read the most blocks (shared_blks_read in dbopt.compare_snapshots()); raise shared_buffers if the working set should fit in memory.',
 NULL, CASE WHEN req >= 1000 THEN r::float8 END
FROM (SELECT d.datname, coalesce(win.hit + win.rd, d.blks_hit + d.blks_read) AS req,
             100.0 * coalesce(win.hit, d.blks_hit) / nullif(coalesce(win.hit + win.rd, d.blks_hit + d.blks_read), 0) AS r,
             coalesce(win.since, 'since ' || coalesce('statistics were reset at ' || d.stats_reset, 'statistics started')) AS since
        FROM pg_catalog.pg_stat_database d LEFT JOIN win ON win.datid = d.datid
       WHERE d.datname IS NOT NULL) s
ORDER BY CASE WHEN req >= 1000 THEN r END NULLS LAST, req DESC;

-- check: connection_utilization
SELECT CASE WHEN u >= greatest($1, 95) THEN 'critical' WHEN u > $1 THEN 'warning' ELSE 'ok' END, NULL,
pg_catalog.format('%s client connections of %s available (max_connections %s less %s superuser_reserved_connections)',
  n, mc - res, mc, res),
'Put a connection pooler such as PgBouncer in front of the server, and look for idle sessions that hold connections in pg_stat_activity.',
NULL, u::float8
FROM (SELECT n, mc, res, 100.0 * n / greatest(mc - res, 1) AS u
       FROM (SELECT count(*) AS n FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend') a,
            (SELECT pg_catalog.current_setting('max_connections')::int AS mc,
                    pg_catalog.current_setting('superuser_reserved_connections')::int AS res) s) x;

-- check: role_connection_limit
SELECT CASE WHEN n >= rolconnlimit THEN 'critical' WHEN u > $1 THEN 'warning' ELSE 'ok' END,
pg_catalog.quote_ident(rolname),
pg_catalog.format('%s of the %s connections the role may open', n, rolconnlimit),
'Raise the limit with ALTER ROLE ... CONNECTION LIMIT, or pool the role''s connections: at the limit its next login fails.',
NULL, u::float8
FROM (SELECT r.rolname, r.rolconnlimit, coalesce(c.n, 0) AS n, 100.0 * coalesce(c.n, 0) / r.rolconnlimit AS u
       FROM pg_catalog.pg_roles r
       LEFT JOIN (SELECT usesysid, count(*) AS n FROM pg_catalog.pg_stat_activity
                   WHERE backend_type = 'client backend' GROUP BY usesysid) c ON c.usesysid = r.oid
      WHERE r.rolconnlimit > 0 AND r.rolcanlogin AND NOT r.rolsuper) x
ORDER BY u DESC;

-- check: idle_in_transaction
SELECT CASE WHEN s.age <= $1 THEN 'ok' WHEN s.blocking THEN 'critical' ELSE 'warning' END, s.object_name, s.detail,
 'End the transaction in the application. It holds its locks and keeps vacuum from removing dead rows; idle_in_transaction_session_timeout makes the server end such sessions.',
 pg_catalog.format('SELECT pg_catalog.pg_terminate_backend(%s)', s.pid), s.age
FROM dbopt.session_ages s WHERE s.check_name = 'idle_in_transaction'
ORDER BY s.age DESC;

-- check: long_running_query
SELECT CASE WHEN s.age <= $1 THEN 'ok' WHEN s.blocking THEN 'critical' ELSE 'warning' END, s.object_name, s.detail,
 'Read its plan with EXPLAIN; statement_timeout bounds how long a statement may run.',
 pg_catalog.format('SELECT pg_catalog.pg_cancel_backend(%s)', s.pid), s.age
FROM dbopt.session_ages s WHERE s.check_name = 'long_running_query'
ORDER BY s.age DESC;

-- check: slow_queries
SELECT CASE WHEN n > $1 THEN 'warning' ELSE 'ok' END, NULL,
pg_catalog.format('%s statements of this database have a mean execution time of at least %s ms%s', n, $2,
  CASE WHEN n > 0 THEN pg_catalog.format('; the slowest, queryid %s, averages %s ms over %s calls',
    wq, round(worst::numeric, 1), wc) ELSE '' END),
'List them with SELECT * FROM dbopt.slow_queries(), then read their plans with EXPLAIN (ANALYZE, BUFFERS).',
NULL, n::float8
FROM (SELECT count(*) AS n, max(mean_exec_time) AS worst,
             (array_agg(queryid ORDER BY mean_exec_time DESC))[1] AS wq,
             (array_agg(calls ORDER BY mean_exec_time DESC))[1] AS wc
        FROM @pgss@.pg_stat_statements(false)
       WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
         AND mean_exec_time >= $2) s;

-- check: replication_lag
WITH cur AS (SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
                        ELSE pg_catalog.pg_current_wal_lsn() END AS lsn)
SELECT CASE WHEN lag > $1 THEN 'warning' ELSE 'ok' END, obj, det,
 'Find what holds the standby back (network, its disk, a long query with hot_standby_feedback), or drop a slot nobody uses: WAL it keeps cannot be removed from pg_wal.',
 fix, lag
FROM (SELECT pg_catalog.format('standby %s', pg_catalog.quote_ident(coalesce(nullif(r.application_name, ''), 'pid ' || r.pid))) AS obj,
             pg_catalog.format('%s of WAL not yet replayed; state %s, replay_lag %s, from %s',
               pg_catalog.pg_size_pretty(pg_catalog.pg_wal_lsn_diff(cur.lsn, r.replay_lsn)), r.state,
               coalesce(r.replay_lag::text, 'unknown'), coalesce(r.client_addr::text, 'a local socket')) AS det,
             NULL AS fix, pg_catalog.pg_wal_lsn_diff(cur.lsn, r.replay_lsn)::float8 AS lag
        FROM pg_catalog.pg_stat_replication r, cur
      UNION ALL
      SELECT pg_catalog.format('replication slot %s', pg_catalog.quote_ident(s.slot_name)),
             pg_catalog.format('inactive %s slot keeps %s of WAL', s.slot_type,
               pg_catalog.pg_size_pretty(pg_catalog.pg_wal_lsn_diff(cur.lsn, s.restart_lsn))),
             pg_catalog.format('SELECT pg_catalog.pg_drop_replication_slot(%L)', s.slot_name),
             pg_catalog.pg_wal_lsn_diff(cur.lsn, s.restart_lsn)::float8
        FROM pg_catalog.pg_replication_slots s, cur
       WHERE NOT s.active AND s.restart_lsn IS NOT NULL) x
ORDER BY lag DESC NULLS LAST;

-- check: xid_wraparound
SELECT CASE WHEN a > greatest($1, pg_catalog.current_setting('vacuum_failsafe_age')::float8) THEN 'critical'
           WHEN a > $1 THEN 'warning' ELSE 'ok' END,
pg_catalog.quote_ident(datname),
pg_catalog.format('transaction ID age %s, multixact age %s: %s%% of the way to wraparound; autovacuum_freeze_max_age is %s',
  xa, ma, round((100 * a / 2147483648)::numeric, 1), pg_catalog.current_setting('autovacuum_freeze_max_age')),
'Make sure autovacuum keeps up there and that no old transaction, prepared transaction or replication slot holds the horizon back; then VACUUM (FREEZE) its oldest tables, which dbopt.check_data_integrity() in that database lists.',
NULL, a
FROM (SELECT datname, pg_catalog.age(datfrozenxid) AS xa, pg_catalog.mxid_age(datminmxid) AS ma,
             greatest(pg_catalog.age(datfrozenxid), pg_catalog.mxid_age(datminmxid))::float8 AS a
        FROM pg_catalog.pg_database) d
ORDER BY a DESC;

-- check: archiving_failing
SELECT CASE WHEN off THEN 'info'
           WHEN last_failed_time IS NOT NULL AND (last_archived_time IS NULL OR last_failed_time > last_archived_time)
           THEN 'critical' ELSE 'ok' END, NULL,
CASE WHEN off THEN 'archive_mode is off: WAL is not archived, so this server cannot be recovered to a point in time'
     ELSE pg_catalog.format('%s WAL files archived and %s failures since %s; last archived %s at %s; last failed %s at %s',
       archived_count, failed_count, coalesce('statistics were reset at ' || stats_reset, 'statistics started'),
       coalesce(last_archived_wal, 'none'), coalesce(last_archived_time::text, 'never'),
       coalesce(last_failed_wal, 'none'), coalesce(last_failed_time::text, 'never')) END,
CASE WHEN off THEN 'Set archive_mode and archive_command, or use a backup tool such as pgBackRest or WAL-G, if backups must recover to a point in time.'
     ELSE 'Read the server log for the archive_command error and fix it: WAL piles up in pg_wal until archiving succeeds, and the disk can fill.' END,
NULL, CASE WHEN NOT off THEN failed_count::float8 END
FROM (SELECT *, pg_catalog.current_setting('archive_mode') = 'off' AS off FROM pg_catalog.pg_stat_archiver) a;

-- check: archive_lag
SELECT CASE WHEN off THEN 'info' WHEN n > 0 AND lag > $1 THEN 'warning' ELSE 'ok' END, NULL,
CASE WHEN off THEN 'archive_mode is off: there is no archive to lag'
     WHEN n = 0 THEN pg_catalog.format('no WAL file waits to be archived; the last was archived at %s', coalesce(last_archived_time::text, 'no time yet'))
     ELSE pg_catalog.format('%s WAL files wait to be archived; the newest archived recovery point, %s, is %s s old',
       n, coalesce(last_archived_wal, 'none'), round(lag::numeric)) END,
'Until waiting WAL is archived, a restore from the archive loses everything after the last archived file: fix archiving (see archiving_failing) or its throughput, and set archive_timeout for a bounded recovery point.',
NULL, CASE WHEN off THEN NULL WHEN n = 0 THEN 0 ELSE lag END
FROM (SELECT a.*, w.n, pg_catalog.current_setting('archive_mode') = 'off' AS off,
             extract(epoch FROM pg_catalog.clock_timestamp() - coalesce(a.last_archived_time, w.oldest))::float8 AS lag
        FROM pg_catalog.pg_stat_archiver a,
             (SELECT count(*) AS n, min(modification) AS oldest FROM pg_catalog.pg_ls_archive_statusdir()
               WHERE name LIKE '%.ready') w) x;

-- check: dead_tuple_ratio
SELECT CASE WHEN r > $1 THEN 'warning' ELSE 'ok' END,
pg_catalog.quote_ident(schemaname) || '.' || pg_catalog.quote_ident(relname),
pg_catalog.format('%s dead of %s tuples (%s%%); last vacuum %s',
  n_dead_tup, n_live_tup + n_dead_tup, round(r::numeric, 1),
  coalesce(greatest(last_vacuum, last_autovacuum)::text, 'never')),
'VACUUM it; if this recurs, lower its autovacuum_vacuum_scale_factor so autovacuum comes sooner.',
pg_catalog.format('VACUUM (ANALYZE) %I.%I', schemaname, relname), r::float8
FROM (SELECT *, 100.0 * n_dead_tup / (n_live_tup + n_dead_tup) AS r
        FROM pg_catalog.pg_stat_user_tables WHERE n_dead_tup >= 1000) t
ORDER BY r DESC;

-- check: table_bloat
-- Expected pages from the planner's statistics: rows times the tuple
-- width (aligned header, null bitmap, average column widths) plus a
-- line pointer, packed to the fillfactor.  Padding between columns is
-- ignored, so the estimate errs towards more bloat.  NULL when there
-- is nothing to estimate from.
WITH t AS (
 SELECT c.oid, n.nspname, c.relname, c.reltuples,
        CASE WHEN c.reltuples < 0 THEN pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::int
             ELSE c.relpages END AS relpages,
        coalesce((SELECT o.option_value::int FROM pg_catalog.pg_options_to_table(c.reloptions) o
                   WHERE o.option_name = 'fillfactor'), 100) AS ff
   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
    AND (c.relpages >= 128 OR (c.reltuples < 0 AND pg_catalog.pg_relation_size(c.oid) >= 128 * pg_catalog.current_setting('block_size')::int))
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'),
a AS (
 SELECT t.oid, count(*) AS natts, count(s.attname) AS nstats,
        sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)) AS width,
        bool_or(coalesce(s.null_frac, 0) > 0) AS nulls
   FROM t JOIN pg_catalog.pg_attribute att ON att.attrelid = t.oid AND att.attnum > 0 AND NOT att.attisdropped
   LEFT JOIN pg_catalog.pg_stats s ON s.schemaname = t.nspname AND s.tablename = t.relname
        AND s.attname = att.attname AND NOT s.inherited
  GROUP BY t.oid),
e AS (
 SELECT t.*, a.natts, a.nstats, round(a.width) AS width,
        CASE WHEN t.reltuples >= 0 AND a.nstats = a.natts THEN
          ceil(t.reltuples * (8 * ceil((8 * ceil((23 + CASE WHEN a.nulls THEN (a.natts + 7) / 8 ELSE 0 END) / 8.0) + a.width) / 8.0) + 4)
               / ((pg_catalog.current_setting('block_size')::int - 24) * t.ff / 100.0)) END AS expected
   FROM t JOIN a ON a.oid = t.oid)
SELECT CASE WHEN expected IS NULL THEN 'info' WHEN b > $1 THEN 'warning' ELSE 'ok' END,
 pg_catalog.quote_ident(nspname) || '.' || pg_catalog.quote_ident(relname),
 CASE WHEN expected IS NULL THEN pg_catalog.format('%s pages; bloat cannot be estimated: %s', relpages,
        CASE WHEN reltuples < 0 THEN 'the table was never vacuumed or analyzed'
             ELSE pg_catalog.format('%s of its %s columns have statistics you may read', nstats, natts) END)
      ELSE pg_catalog.format('about %s of %s pages (%s) are bloat, estimated from %s rows of about %s bytes of data',
        greatest(relpages - expected, 0), relpages,
        pg_catalog.pg_size_pretty(greatest(relpages - expected, 0)::bigint * pg_catalog.current_setting('block_size')::int),
        reltuples::bigint, width) END,
 CASE WHEN expected IS NULL THEN 'ANALYZE it, so that its bloat can be estimated.'
      ELSE 'Rewrite it without a long lock with pg_repack, or with VACUUM FULL in a maintenance window (it holds an ACCESS EXCLUSIVE lock throughout).' END,
 CASE WHEN expected IS NULL THEN pg_catalog.format('ANALYZE %I.%I', nspname, relname) END,
 b
FROM (SELECT e.*, CASE WHEN expected IS NOT NULL THEN greatest(100.0 * (relpages - expected) / relpages, 0)::float8 END AS b
        FROM e) x
ORDER BY b DESC NULLS FIRST;

-- check: autovacuum_stale
SELECT CASE WHEN NOT av OR age IS NULL OR age > $1 THEN 'warning' ELSE 'ok' END,
pg_catalog.quote_ident(schemaname) || '.' || pg_catalog.quote_ident(relname),
pg_catalog.format('%s dead tuples, past its autovacuum trigger of %s; %s', n_dead_tup, round(trig),
  CASE WHEN NOT table_av THEN 'autovacuum is disabled for this table'
       WHEN NOT av THEN 'autovacuum is off'
       WHEN age IS NULL THEN 'never vacuumed since statistics started'
       ELSE pg_catalog.format('last vacuumed %s s ago', round(age::numeric)) END),
'VACUUM it now, then find what keeps autovacuum away: disabled for the table, every autovacuum worker busy on big tables, or locks that cancel it (the server log says "canceling autovacuum task").',
pg_catalog.format('VACUUM (ANALYZE) %I.%I', schemaname, relname), age
FROM (SELECT t.*, table_av AND pg_catalog.current_setting('autovacuum')::boolean AS av
        FROM (SELECT s.schemaname, s.relname, s.n_dead_tup,
                     extract(epoch FROM pg_catalog.clock_timestamp() - greatest(s.last_vacuum, s.last_autovacuum))::float8 AS age,
                     coalesce(o.av, 'true')::boolean AS table_av,
                     coalesce(o.thr::float8, pg_catalog.current_setting('autovacuum_vacuum_threshold')::float8)
                     + coalesce(o.sf::float8, pg_catalog.current_setting('autovacuum_vacuum_scale_factor')::float8)
                       * greatest(c.reltuples, 0) AS trig
                FROM pg_catalog.pg_stat_user_tables s JOIN pg_catalog.pg_class c ON c.oid = s.relid
                LEFT JOIN LATERAL (SELECT max(option_value) FILTER (WHERE option_name = 'autovacuum_enabled') AS av,
                                          max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_threshold') AS thr,
                                          max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_scale_factor') AS sf
                                     FROM pg_catalog.pg_options_to_table(c.reloptions)) o ON true) t
       WHERE n_dead_tup > trig) x
ORDER BY (CASE WHEN NOT av OR age IS NULL THEN 1 ELSE 0 END) DESC, age DESC;

-- check: checkpoints_requested
-- The server counts every requested checkpoint alike: WAL past
-- max_wal_size, but also CHECKPOINT, CREATE and DROP DATABASE, a base
-- backup and the end of crash recovery.  So the share means something
-- only over many checkpoints (dbopt.health_checkpoints_min_sample), and
-- the detail says what is counted.
SELECT CASE WHEN n >= m AND r > $1 THEN 'warning' ELSE 'ok' END, NULL,
CASE WHEN n < m THEN pg_catalog.format('not enough evidence: %s checkpoints since %s (%s requested), fewer than dbopt.health_checkpoints_min_sample = %s',
       n, since, req, m)
     ELSE pg_catalog.format('%s of %s checkpoints since %s were requested rather than timed; max_wal_size is %s, checkpoint_timeout %s',
       req, n, since, pg_catalog.current_setting('max_wal_size'), pg_catalog.current_setting('checkpoint_timeout')) END
|| '; requested checkpoints include CHECKPOINT, CREATE and DROP DATABASE, base backups and the end of crash recovery, which the server does not count apart from WAL past max_wal_size',
'Raise max_wal_size so that checkpoint_timeout paces checkpoints: fewer full-page writes and steadier I/O. First rule out the other requests: the server log says why each checkpoint started when log_checkpoints is on.',
NULL, CASE WHEN n >= m THEN r END
FROM (SELECT *, req + timed AS n, CASE WHEN req + timed > 0 THEN 100.0 * req / (req + timed) END::float8 AS r,
             coalesce('statistics were reset at ' || stats_reset, 'statistics started') AS since,
             $2::bigint AS m
        FROM (@checkpoint_counts@) c) b;

-- check: temp_file_usage
-- Since the last snapshot at least a minute old, else since statistics
-- started; counters lower than the snapshot's (a crash discards
-- statistics) mean the snapshot is no base.
WITH base AS (SELECT snap_id, taken_at FROM dbopt.snapshots
              WHERE taken_at < pg_catalog.clock_timestamp() - interval '1 minute'
              ORDER BY taken_at DESC LIMIT 1)
SELECT CASE WHEN b > $1 THEN 'warning' ELSE 'ok' END, pg_catalog.quote_ident(datname),
 pg_catalog.format('%s in %s temporary files since %s', pg_catalog.pg_size_pretty(b::bigint), f, since),
 'Find the statements that spill (temp_blks_written in dbopt.compare_snapshots()) and give them more work_mem, or an index that spares the sort or hash.',
 NULL, b
FROM (SELECT d.datname, (d.temp_bytes - coalesce(p.temp_bytes, 0))::float8 AS b,
             d.temp_files - coalesce(p.temp_files, 0) AS f,
             CASE WHEN p.datid IS NOT NULL THEN pg_catalog.format('snapshot %s at %s', base.snap_id, base.taken_at)
                  ELSE coalesce('statistics were reset at ' || d.stats_reset, 'statistics started') END AS since
        FROM pg_catalog.pg_stat_database d
        LEFT JOIN base ON true
        LEFT JOIN dbopt.snapshot_databases p ON p.snap_id = base.snap_id AND p.datid = d.datid
             AND p.stats_reset IS NOT DISTINCT FROM d.stats_reset
             AND d.temp_bytes >= p.temp_bytes AND d.temp_files >= p.temp_files
       WHERE d.datname IS NOT NULL) x
ORDER BY b DESC;

-- check: pg_stat_statements_full
SELECT CASE WHEN i.dealloc > $1 THEN 'warning' ELSE 'ok' END, NULL,
pg_catalog.format('%s entries evicted since %s; %s of pg_stat_statements.max = %s in use', i.dealloc,
  coalesce('the reset at ' || i.stats_reset, 'statistics started'), c.n, pg_catalog.current_setting('pg_stat_statements.max')),
'Raise pg_stat_statements.max (it takes a restart): evicted statements lose their counters, and snapshot windows with evictions are flagged evicted_or_reset.',
CASE WHEN i.dealloc > $1 THEN pg_catalog.format('ALTER SYSTEM SET pg_stat_statements.max = %s',
  2 * pg_catalog.current_setting('pg_stat_statements.max')::int) END,
i.dealloc::float8
FROM @pgss@.pg_stat_statements_info i, (SELECT count(*) AS n FROM @pgss@.pg_stat_statements(false)) c;
