-- The plain loop a DBA writes by hand: bounds from pg_get_expr, DROP each.
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS part
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'bench_plain'::regclass AND NOT c.relpartbound IS NULL
           AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
           AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']*)''\)'))[1]::timestamptz
               <= now() - interval '500 days'
    LOOP
        EXECUTE format('DROP TABLE %s', r.part);
    END LOOP;
END $$;
