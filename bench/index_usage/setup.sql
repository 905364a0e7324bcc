-- :ntables tables (default 2,000) with 5 indexes each: a primary key, two
-- single-column indexes, a composite that makes one of them redundant, and
-- a duplicate.  A few rows each, analyzed, so the bloat estimate runs too.
-- One transaction per table, so set-up needs no lock-table tuning.
\if :{?ntables}
\else
\set ntables 2000
\endif
SELECT format($f$
  CREATE TABLE public.t%1$s (id int PRIMARY KEY, a int, b int, c text);
  CREATE INDEX ON public.t%1$s (a);
  CREATE INDEX ON public.t%1$s (b);
  CREATE INDEX ON public.t%1$s (a, b);
  CREATE INDEX ON public.t%1$s (b);
  INSERT INTO public.t%1$s SELECT g, g, g, g::text FROM generate_series(1, 10) g$f$, i)
  FROM generate_series(1, :ntables) i
\gexec
ANALYZE;
