-- dbopt 0.11 -> 0.12: the architecture step (issue #21).  The SQL of each
-- capability now lives beside its C file (src/*.sql) and the Makefile
-- builds dbopt--0.12.sql from them; this delta carries the changes to
-- objects that the step made.
\echo Use "ALTER EXTENSION dbopt UPDATE TO '0.12'" to load this file. \quit
