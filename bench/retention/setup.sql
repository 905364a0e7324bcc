-- :rows rows (1M unless set, as bench/retention_10m does), one a minute back
-- from now; the policy keeps the newest half.  Both sides delete the same
-- rows from a copy reloaded before each run.
\if :{?rows}
\else
\set rows 1000000
\endif
CREATE TABLE ret_src AS
SELECT g::bigint AS id, now() - g * interval '1 minute' AS at, md5(g::text) AS payload
  FROM generate_series(1, :rows) g;
CREATE TABLE ret (id bigint PRIMARY KEY, at timestamptz NOT NULL, payload text);
CREATE INDEX ret_at ON ret (at);
SELECT dbopt.add_retention_policy('ret', 'at', make_interval(mins => :rows / 2));
