-- The PL/pgSQL trigger: 200,000 single-row INSERTs, then 200,000 UPDATEs.
DO $$
BEGIN
  FOR i IN 1..200000 LOOP
    INSERT INTO t_plpgsql VALUES (i, i % 100, i / 7.0, 'note ' || i, timestamptz '2001-01-01' + i * interval '1 second');
  END LOOP;
END $$;
DO $$
BEGIN
  FOR i IN 1..200000 LOOP
    UPDATE t_plpgsql SET amount = amount + 1 WHERE id = i;
  END LOOP;
END $$;
