-- src/partition_migrate.sql: partitioning an existing table online (the SQL of src/partition_migrate.c)

-- One row per conversion of a plain table into a range-partitioned one:
-- its plan lives in partition_migration_steps, the writes captured while
-- it copies in partition_migration_changes.  original and copy are the
-- two tables by OID: after the swap, original is <name>_premigration and
-- copy carries the name.
CREATE TABLE dbopt.partition_migrations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    original           oid NOT NULL,
    copy               oid,
    schema_name        name NOT NULL,
    table_name         name NOT NULL,
    copy_name          name NOT NULL,          -- the partitioned copy until the swap
    premigration_name  name NOT NULL,          -- the original after the swap
    partition_column   name NOT NULL,
    partition_interval text NOT NULL,
    premake            integer NOT NULL,
    batch_size         integer NOT NULL CHECK (batch_size BETWEEN 1 AND 1000000),
    state              text NOT NULL DEFAULT 'planned' CHECK (state IN
                       ('planned', 'copying', 'replaying', 'verifying', 'swapped', 'finished', 'undone', 'failed')),
    rows_copied        bigint NOT NULL DEFAULT 0,
    batches            integer NOT NULL DEFAULT 0,
    last_key           jsonb,
    changes_replayed   bigint NOT NULL DEFAULT 0,
    errors             integer NOT NULL DEFAULT 0,
    last_error         text,
    planned_by         name NOT NULL DEFAULT CURRENT_USER,
    started            timestamptz,
    updated            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    swapped_at         timestamptz,
    finished_at        timestamptz
);
-- One conversion under way per table.
CREATE UNIQUE INDEX partition_migrations_open ON dbopt.partition_migrations (original)
    WHERE state NOT IN ('finished', 'undone', 'failed');
COMMENT ON TABLE dbopt.partition_migrations IS
    'Conversions of tables into range-partitioned ones by partition_table() and run_partition_migration(): state, rows copied, batches, last key copied, errors';
REVOKE ALL ON dbopt.partition_migrations FROM PUBLIC;
GRANT SELECT ON dbopt.partition_migrations TO pg_monitor;

CREATE TABLE dbopt.partition_migration_steps (
    migration  bigint NOT NULL REFERENCES dbopt.partition_migrations ON DELETE CASCADE,
    step       integer NOT NULL,
    phase      text NOT NULL,
    action     text NOT NULL,
    object     text,
    detail     text,
    sql        text,
    run_as     text NOT NULL CHECK (run_as IN ('owner', 'dbopt', 'none')),
    done_at    timestamptz,
    PRIMARY KEY (migration, step)
);
COMMENT ON TABLE dbopt.partition_migration_steps IS
    'The plan of each partition migration, step by step, and when each step was done';
REVOKE ALL ON dbopt.partition_migration_steps FROM PUBLIC;
GRANT SELECT ON dbopt.partition_migration_steps TO pg_monitor;

-- Keys of the rows written to a table while its migration is open, by the
-- OID of the original table (reverse: written to the partitioned table
-- after the swap, for undo).  Replay deletes what it has applied.
CREATE TABLE dbopt.partition_migration_changes (
    id        bigint GENERATED ALWAYS AS IDENTITY,
    original  oid NOT NULL,
    reverse   boolean NOT NULL DEFAULT false,
    key       jsonb NOT NULL
);
CREATE INDEX ON dbopt.partition_migration_changes (original, reverse, id);
COMMENT ON TABLE dbopt.partition_migration_changes IS
    'Keys of rows written during a partition migration, captured by its trigger and replayed into the copy';
REVOKE ALL ON dbopt.partition_migration_changes FROM PUBLIC;

CREATE TYPE dbopt.partition_migration_step AS (
    step integer, action text, object text, detail text, sql text);
COMMENT ON TYPE dbopt.partition_migration_step IS
    'One step of partition_table(), finish_partition_migration() or undo_partition_migration()';

CREATE FUNCTION dbopt.partition_table(
    relation regclass, partition_column name, partition_interval text,
    premake integer DEFAULT 4, batch_size integer DEFAULT 10000, dry_run boolean DEFAULT true)
RETURNS SETOF dbopt.partition_migration_step
AS 'MODULE_PATHNAME', 'dbopt_partition_table'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.partition_table(regclass,name,text,integer,integer,boolean) IS
    'Plan the online conversion of a table into one range-partitioned on partition_column: partitions from the data''s min to max plus premake, keys widened by the partition column, and every index, constraint, trigger, policy, grant, comment, sequence and foreign key carried over; refuses what cannot be carried safely; dry_run => false records the plan for CALL run_partition_migration()';
REVOKE ALL ON FUNCTION dbopt.partition_table(regclass,name,text,integer,integer,boolean) FROM PUBLIC;

-- No SET clause: a procedure with one cannot commit.  Its statements run
-- under the pinned search_path all the same (dbopt_run_unit).
CREATE PROCEDURE dbopt.run_partition_migration(IN relation regclass)
AS 'MODULE_PATHNAME', 'dbopt_run_partition_migration'
LANGUAGE C;
COMMENT ON PROCEDURE dbopt.run_partition_migration(regclass) IS
    'Carry out a recorded partition_table() plan: create the partitioned copy, capture writes by trigger, copy in batches committing each (resumable), replay, verify counts and checksums per range, then swap names in one short transaction under dbopt.lock_timeout, keeping the original as <name>_premigration';
REVOKE ALL ON PROCEDURE dbopt.run_partition_migration(regclass) FROM PUBLIC;

CREATE FUNCTION dbopt.finish_partition_migration(
    relation regclass, drop_original boolean DEFAULT false, dry_run boolean DEFAULT false)
RETURNS SETOF dbopt.partition_migration_step
AS 'MODULE_PATHNAME', 'dbopt_finish_partition_migration'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.finish_partition_migration(regclass,boolean,boolean) IS
    'End a swapped partition migration: drop the capture triggers and their log, and with drop_original the <name>_premigration table; undo is no longer possible';
REVOKE ALL ON FUNCTION dbopt.finish_partition_migration(regclass,boolean,boolean) FROM PUBLIC;

CREATE FUNCTION dbopt.undo_partition_migration(relation regclass, dry_run boolean DEFAULT false)
RETURNS SETOF dbopt.partition_migration_step
AS 'MODULE_PATHNAME', 'dbopt_undo_partition_migration'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dbopt.undo_partition_migration(regclass,boolean) IS
    'Swap a partition migration back while the original is kept: the writes made since the swap are carried back, names, sequences and foreign keys restored, and the partitioned copy dropped; before the swap, abandon it: the capture trigger and the copy go';
REVOKE ALL ON FUNCTION dbopt.undo_partition_migration(regclass,boolean) FROM PUBLIC;
