-- 200,000 single-row INSERTs, then 200,000 single-row UPDATEs, on t_plain.
DO $$
BEGIN
  FOR i IN 1..200000 LOOP
    INSERT INTO t_plain VALUES (i, i % 100, i / 7.0, 'note ' || i, timestamptz '2001-01-01' + i * interval '1 second');
  END LOOP;
END $$;
DO $$
BEGIN
  FOR i IN 1..200000 LOOP
    UPDATE t_plain SET amount = amount + 1 WHERE id = i;
  END LOOP;
END $$;
