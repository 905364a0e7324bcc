-- pg_partman 4.7 (Debian postgresql-15-partman) beside dbopt.
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
