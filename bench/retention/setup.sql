-- 1M rows, one a minute back from now; the policy keeps the newest half.
-- Both sides delete the same ~500k rows from a copy reloaded before each run.
CREATE TABLE ret_src AS
SELECT g::bigint AS id, now() - g * interval '1 minute' AS at, md5(g::text) AS payload
  FROM generate_series(1, 1000000) g;
CREATE TABLE ret (id bigint PRIMARY KEY, at timestamptz NOT NULL, payload text);
CREATE INDEX ret_at ON ret (at);
SELECT dbopt.add_retention_policy('ret', 'at', '500000 minutes');
