-- The index_usage set-up at 400 tables (2,000 indexes), to show growth.
\set ntables 400
\ir ../index_usage/setup.sql
