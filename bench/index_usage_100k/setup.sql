-- :ntables tables (default 20,000) with 5 indexes each (100,000 indexes),
-- built in one DO block (one transaction; see postgresql.conf for the lock
-- table).  Realistic key types: bigint, int, timestamptz, text, uuid.
-- Each table has a primary key, an index on account_id, a composite on
-- (account_id, created_at) that makes it redundant, one on created_at, and
-- a fifth that varies: a duplicate of the account_id index, a unique uuid,
-- an expression on lower(email), or a partial index on created_at.  Every
-- tenth table gets 200 rows, is analyzed (so the bloat estimate runs) and
-- has its primary key scanned once (so not every index is unused).
\if :{?ntables}
\else
\set ntables 20000
\endif
SELECT set_config('bench.ntables', :'ntables', false);
DO $$
DECLARE
  n int := current_setting('bench.ntables')::int;
  fifth text;
BEGIN
  PERFORM set_config('enable_seqscan', 'off', true);
  FOR i IN 1 .. n LOOP
    fifth := CASE i % 4
      WHEN 0 THEN format('CREATE INDEX t%s_dup ON public.t%s (account_id)', i, i)
      WHEN 1 THEN format('CREATE UNIQUE INDEX t%s_token ON public.t%s (token)', i, i)
      WHEN 2 THEN format('CREATE INDEX t%s_lower_email ON public.t%s (lower(email))', i, i)
      ELSE format('CREATE INDEX t%s_open ON public.t%s (created_at) WHERE status = 0', i, i)
    END;
    EXECUTE format($f$
      CREATE TABLE public.t%1$s (id bigint PRIMARY KEY, account_id int NOT NULL,
                                 created_at timestamptz NOT NULL, email text,
                                 token uuid, status smallint NOT NULL DEFAULT 0);
      CREATE INDEX t%1$s_account ON public.t%1$s (account_id);
      CREATE INDEX t%1$s_account_created ON public.t%1$s (account_id, created_at);
      CREATE INDEX t%1$s_created ON public.t%1$s (created_at);
      %2$s$f$, i, fifth);
    IF i % 10 = 0 THEN
      EXECUTE format($f$
        INSERT INTO public.t%1$s
          SELECT g, g %% 17, '2026-01-01'::timestamptz + g * interval '1 hour',
                 'user' || g || '@example.com', md5(g::text)::uuid, g %% 3
            FROM generate_series(1, 200) g;
        ANALYZE public.t%1$s;
        SELECT * FROM public.t%1$s WHERE id = 7$f$, i);
    END IF;
  END LOOP;
END $$;
