-- bench/retention at the issue's full size: 10M rows, the oldest 5M go.
\set rows 10000000
\ir ../retention/setup.sql
