-- The same 5,000 statements as bench/snapshots.
\ir ../snapshots/setup.sql
