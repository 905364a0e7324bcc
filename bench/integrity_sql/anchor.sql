-- The hand-written orphan query a DBA would run: count, then a few keys.
SELECT count(*) FROM bench_child c
 WHERE c.parent_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM bench_parent p WHERE p.id = c.parent_id);
SELECT c.parent_id FROM bench_child c
 WHERE c.parent_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM bench_parent p WHERE p.id = c.parent_id)
 LIMIT 5;
