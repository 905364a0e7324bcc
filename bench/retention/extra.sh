# Sourced by bench/run after the timed sides, with the cluster running and
# $DB, $B, $WORK set.  CALL dbopt.run_data_retention() on a 4M-row table
# (2M rows to go) next to pgbench on its own tables: pgbench's TPS alone and
# while the procedure runs, with no pause and 5, 20 and 50 ms between batches,
# and the procedure's longest batch, i.e. its longest transaction.
psql_q -d "$DB" -o /dev/null <<'SQL'
SELECT dbopt.add_retention_policy('ret', 'at', '500000 minutes', enabled => false);
CREATE TABLE load_src AS
SELECT g::bigint AS id, now() - g * interval '15 seconds' AS at, md5(g::text) AS payload
  FROM generate_series(1, 4000000) g;
CREATE TABLE load (id bigint PRIMARY KEY, at timestamptz NOT NULL, payload text);
CREATE INDEX load_at ON load (at);
SELECT dbopt.add_retention_policy('load', 'at', '500000 minutes');
SQL
as_user pgbench -q -i -s 10 "$DB" >/dev/null 2>&1

# Transactions per second that pgbench's per-transaction logs ($1*) show
# completing between epoch times $2 and $3.
tps_between() {
  cat "$1"* | awk -v a="$2" -v b="$3" '{t = $5 + $6 / 1e6; if (t >= a && t <= b) n++}
    END {printf "%.0f", n / (b - a)}'
}

as_user pgbench -n -c 2 -j 2 -T 12 -l --log-prefix="$B/pgb_base" "$DB" >/dev/null 2>&1
b0=$(cat "$B"/pgb_base* | awk 'NR == 1 || $5 < m {m = $5} END {print m + 2}')
base=$(tps_between "$B/pgb_base" "$b0" "$(awk -v s="$b0" 'BEGIN {print s + 8}')")
for delay in 0 5ms 20ms 50ms; do
  psql_q -d "$DB" -q -c 'TRUNCATE load' -c 'INSERT INTO load SELECT * FROM load_src' -c 'VACUUM ANALYZE load' -c 'CHECKPOINT'
  rm -f "$B"/pgb_load*
  # pgbench runs 20 s and ends by itself (a killed pgbench loses its log's
  # tail); the procedure starts 3 s in and takes a few seconds.
  as_user pgbench -n -c 2 -j 2 -T 20 -l --log-prefix="$B/pgb_load" "$DB" >/dev/null 2>&1 &
  sleep 3
  t0=$(date +%s.%N)
  as_user env PGOPTIONS="-c dbopt.retention_batch_delay=$delay" psql -X -q -d "$DB" \
    -c 'CALL dbopt.run_data_retention()' 2>/dev/null
  t1=$(date +%s.%N)
  wait
  dur=$(awk -v s="$t0" -v e="$t1" 'BEGIN {printf "%.1f", e - s}')
  during=$(tps_between "$B/pgb_load" "$t0" "$t1")
  longest=$(psql_q -d "$DB" -Atc "SELECT substring(detail from 'longest ([0-9.]+) ms') FROM dbopt.maintenance_log
                                   WHERE operation = 'run_data_retention' AND object_name = 'public.load'
                                   ORDER BY logged_at DESC LIMIT 1")
  kept=$(awk -v a="$base" -v b="$during" 'BEGIN {printf "%.0f", (a > 0 && b > 0 ? 100 * b / a : 0)}')
  echo "retention procedure (delay $delay): 2M of 4M rows in ${dur} s, longest batch ${longest} ms; pgbench -c 2: ${base} tps alone, ${during} tps meanwhile (${kept}%)"
  ROWS+=("| $(date -u +%Y-%m-%d) | retention procedure, 2M of 4M rows, delay $delay, next to pgbench -c 2 | ${dur} s; longest batch ${longest} ms | pgbench ${base} tps alone, ${during} meanwhile | ${kept}% of TPS kept | 1 |")
done
