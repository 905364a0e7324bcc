-- bench/partition_table (issue #22): a table of :rows rows (default 1M;
-- BENCH_ROWS or bench/partition_table/run --rows N) spread over 36 months,
-- with a primary key and two indexes, into monthly partitions.  bench_src
-- holds the rows; reset.sql copies them into one table per side.
\getenv rows BENCH_ROWS
\if :{?rows}
\else
\set rows 1000000
\endif
SET client_min_messages = warning;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE TABLE bench_src AS
SELECT g::bigint AS id,
       timestamptz '2023-01-01 00:00+00' + (g::float8 / :rows) * interval '1095 days' AS at,
       ((g::bigint * 7919) % 100000)::int AS v,
       md5(g::text) AS note
  FROM generate_series(1, :rows) g;
-- The partitions the offline anchor makes by hand: the same months as the
-- dbopt plan (January 2023 up to now plus two), and a default.
CREATE FUNCTION make_monthly(t text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE m date;
BEGIN
    FOR m IN SELECT generate_series(date '2023-01-01', date_trunc('month', now()) + interval '2 months', '1 month')::date LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       t || '_p' || to_char(m, 'YYYYMMDD'), t, m::timestamptz, (m + interval '1 month')::timestamptz);
    END LOOP;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t || '_default', t);
END $$;
