-- 2,000 tables, each with a serial key, a validated foreign key, a CHECK
-- and an index: the whole-database catalog checks of check_data_integrity()
-- (no NOT VALID constraint, so no data scan) against the catalog queries a
-- DBA would write for the same facts.  One transaction per table.
CREATE TABLE public.org (id int PRIMARY KEY);
INSERT INTO public.org SELECT generate_series(1, 100);
SELECT format($f$
  CREATE TABLE public.c%1$s (id serial PRIMARY KEY, org_id int REFERENCES public.org,
                             qty int CHECK (qty >= 0), note text);
  CREATE INDEX ON public.c%1$s (org_id);
  INSERT INTO public.c%1$s (org_id, qty, note) SELECT 1 + g %% 100, g, 'n' FROM generate_series(1, 10) g$f$, i)
  FROM generate_series(1, 2000) i
\gexec
ANALYZE;
