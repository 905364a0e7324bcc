-- The batched loop DBAs write for pg_cron: each batch looks for old rows
-- from the start of the index again.
DO $$
BEGIN
  LOOP
    DELETE FROM ret WHERE ctid = ANY (ARRAY(
      SELECT ctid FROM ret WHERE at < now() - interval '500000 minutes' LIMIT 10000));
    EXIT WHEN NOT FOUND;
  END LOOP;
END $$;
