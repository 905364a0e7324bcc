-- The hand-kept monitoring queries a DBA runs for the same sixteen
-- questions (the kind PgHero and check_postgres run), one statement each.
SELECT datname, 100.0 * blks_hit / nullif(blks_hit + blks_read, 0) AS hit_pct
  FROM pg_stat_database WHERE datname IS NOT NULL AND blks_hit + blks_read >= 1000;
SELECT count(*) * 100.0 / (current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int)
  FROM pg_stat_activity WHERE backend_type = 'client backend';
SELECT r.rolname, count(a.pid), r.rolconnlimit FROM pg_roles r LEFT JOIN pg_stat_activity a ON a.usesysid = r.oid
 WHERE r.rolconnlimit > 0 GROUP BY r.rolname, r.rolconnlimit;
SELECT pid, usename, now() - state_change AS idle FROM pg_stat_activity
 WHERE state LIKE 'idle in transaction%' AND now() - state_change > interval '5 minutes';
SELECT pid, usename, now() - query_start AS running, query FROM pg_stat_activity
 WHERE state = 'active' AND pid <> pg_backend_pid() AND now() - query_start > interval '5 minutes';
SELECT count(*) FROM pg_stat_statements WHERE mean_exec_time >= 1000
   AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database());
SELECT application_name, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication;
SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) FROM pg_replication_slots WHERE NOT active;
SELECT datname, age(datfrozenxid), mxid_age(datminmxid) FROM pg_database ORDER BY 2 DESC;
SELECT archived_count, failed_count, last_archived_time, last_failed_time FROM pg_stat_archiver;
SELECT count(*), min(modification) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready';
SELECT schemaname, relname, 100.0 * n_dead_tup / nullif(n_live_tup + n_dead_tup, 0) FROM pg_stat_user_tables
 WHERE n_dead_tup >= 1000 ORDER BY 3 DESC;
-- Table bloat, estimated from pg_stats the way the widely shared bloat queries do.
SELECT c.oid::regclass, c.relpages,
       ceil(c.reltuples * (24 + sum((1 - s.null_frac) * s.avg_width) + 4) / (current_setting('block_size')::int - 24)) AS expected
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND NOT s.inherited
 WHERE c.relkind = 'r' AND c.relpages >= 128 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 GROUP BY c.oid, c.relpages, c.reltuples;
SELECT s.schemaname, s.relname, s.n_dead_tup, greatest(s.last_vacuum, s.last_autovacuum) FROM pg_stat_user_tables s
  JOIN pg_class c ON c.oid = s.relid
 WHERE n_dead_tup > current_setting('autovacuum_vacuum_threshold')::int
                    + current_setting('autovacuum_vacuum_scale_factor')::float8 * c.reltuples;
SELECT checkpoints_req * 100.0 / nullif(checkpoints_req + checkpoints_timed, 0) FROM pg_stat_bgwriter;
SELECT datname, temp_files, temp_bytes FROM pg_stat_database WHERE datname IS NOT NULL;
SELECT dealloc, stats_reset FROM pg_stat_statements_info;
