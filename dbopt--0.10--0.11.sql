-- dbopt 0.10 -> 0.11: index verdicts a DBA can act on (issue #20): evidence
-- that survives crashes and resets, confidence, a what-if drop, standbys,
-- partition-level duplicates and an advisor that reads real workloads.
\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.11'" to load this file. \quit
