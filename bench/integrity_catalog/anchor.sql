-- NOT VALID constraints (would need a scan each; here there are none).
SELECT conrelid::regclass, conname FROM pg_constraint
 WHERE NOT convalidated AND contype IN ('f', 'c');
-- Disabled constraint triggers.
SELECT tgrelid::regclass, tgname FROM pg_trigger
 WHERE tgconstraint <> 0 AND tgenabled = 'D';
-- Invalid unique indexes.
SELECT indexrelid::regclass FROM pg_index WHERE indisunique AND NOT indisvalid;
-- Sequences against the columns they feed (serial and identity).
SELECT s.schemaname, s.sequencename, s.last_value, s.max_value, a.atttypid::regtype
  FROM pg_sequences s
  LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass
        AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass
        AND d.deptype IN ('a', 'i')
  LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
 WHERE s.last_value IS NOT NULL
   AND s.last_value::numeric / CASE a.atttypid WHEN 'int2'::regtype THEN 32767
                                              WHEN 'int4'::regtype THEN 2147483647
                                              ELSE s.max_value END >= 0.75;
-- Freeze age of tables and of the database.
SELECT oid::regclass, age(relfrozenxid) FROM pg_class
 WHERE relkind IN ('r', 'm')
   AND age(relfrozenxid) >= current_setting('autovacuum_freeze_max_age')::int;
SELECT datname, age(datfrozenxid) FROM pg_database WHERE datname = current_database();
-- Collation versions of collations that indexes use.
SELECT collname FROM pg_collation
 WHERE oid IN (SELECT refobjid FROM pg_depend WHERE refclassid = 'pg_collation'::regclass)
   AND collversion IS DISTINCT FROM pg_collation_actual_version(oid);
