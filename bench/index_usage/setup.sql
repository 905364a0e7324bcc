-- 2,000 tables with 5 indexes each (10,000 indexes): a primary key, two
-- single-column indexes, a composite that makes one of them redundant, and
-- a duplicate.  A few rows each, analyzed, so the bloat estimate runs too.
DO $$
BEGIN
  FOR i IN 1..2000 LOOP
    EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, a int, b int, c text)', i);
    EXECUTE format('CREATE INDEX ON public.t%s (a)', i);
    EXECUTE format('CREATE INDEX ON public.t%s (b)', i);
    EXECUTE format('CREATE INDEX ON public.t%s (a, b)', i);
    EXECUTE format('CREATE INDEX ON public.t%s (b)', i);
    EXECUTE format('INSERT INTO public.t%s SELECT g, g, g, g::text FROM generate_series(1, 10) g', i);
  END LOOP;
END $$;
ANALYZE;
