-- dbopt 0.9 -> 0.10: truth (issue #19): every dry run predicts its real run,
-- and no advice does harm.
\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.10'" to load this file. \quit

-- ==== partitions: one plan for dry and real runs; coexistence ====

-- ==== retention: referenced rows ====

-- ==== health, snapshots, regressions ====

-- ==== integrity, status, fix_sql ====

-- ==== compliance ====
