-- The bare read the goal is measured against (at most 2x this).
SELECT count(indexrelid), sum(idx_scan), sum(pg_relation_size(indexrelid))
  FROM pg_stat_user_indexes;
