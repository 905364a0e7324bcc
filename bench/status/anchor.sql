-- The same facts from plain SQL: versions, preload list, pg_stat_statements
-- fill and evictions, companion extensions, dbopt settings.
SELECT extversion FROM pg_extension WHERE extname = 'dbopt';
SELECT current_setting('shared_preload_libraries');
SELECT count(*), current_setting('pg_stat_statements.max') FROM pg_stat_statements(false);
SELECT dealloc FROM pg_stat_statements_info;
SELECT a.name, a.installed_version, a.default_version
  FROM pg_available_extensions a
 WHERE a.name IN ('amcheck', 'hypopg', 'pg_cron', 'pg_partman', 'pgstattuple');
SELECT name, setting, unit FROM pg_settings WHERE name LIKE 'dbopt.%';
