# Sourced by bench/run after the timed sides, with the cluster running and
# $DB, $B, $WORK set.  CALL dbopt.run_data_retention() on a 4M-row table
# (2M rows to go) next to pgbench on its own tables: pgbench's TPS alone and
# while the procedure runs, without and with a 5 ms pause between batches,
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

# Mean TPS of pgbench's per-second progress lines from second $2 to $3.
tps_between() {
  awk -v a="$2" -v b="$3" '/^progress:/ {t = $2 + 0; if (t > a && t <= b) {s += $4; n++}}
    END {if (n) printf "%.0f", s / n; else printf "n/a"}' "$1"
}

as_user pgbench -n -c 2 -j 2 -T 12 -P 1 "$DB" 2> "$WORK/base.progress" >/dev/null
base=$(tps_between "$WORK/base.progress" 2 12)
for delay in 0 5ms; do
  psql_q -d "$DB" -q -c 'TRUNCATE load' -c 'INSERT INTO load SELECT * FROM load_src' -c 'VACUUM ANALYZE load' -c 'CHECKPOINT'
  as_user pgbench -n -c 2 -j 2 -T 300 -P 1 "$DB" 2> "$WORK/load.progress" >/dev/null &
  PGB=$!
  sleep 3
  t0=$(date +%s.%N)
  as_user env PGOPTIONS="-c dbopt.retention_batch_delay=$delay" psql -X -q -d "$DB" \
    -c 'CALL dbopt.run_data_retention()' 2>/dev/null
  t1=$(date +%s.%N)
  kill -INT $PGB 2>/dev/null; wait $PGB 2>/dev/null
  dur=$(awk -v s="$t0" -v e="$t1" 'BEGIN {printf "%.1f", e - s}')
  during=$(tps_between "$WORK/load.progress" 3 "$(awk -v d="$dur" 'BEGIN {print 3 + d}')")
  longest=$(psql_q -d "$DB" -Atc "SELECT substring(detail from 'longest ([0-9.]+) ms') FROM dbopt.maintenance_log
                                   WHERE operation = 'run_data_retention' AND object_name = 'public.load'
                                   ORDER BY logged_at DESC LIMIT 1")
  kept=$(awk -v a="$base" -v b="$during" 'BEGIN {printf "%.0f", (a > 0 && b > 0 ? 100 * b / a : 0)}')
  echo "retention procedure (delay $delay): 2M of 4M rows in ${dur} s, longest batch ${longest} ms; pgbench -c 2: ${base} tps alone, ${during} tps meanwhile (${kept}%)"
  ROWS+=("| $(date -u +%Y-%m-%d) | retention procedure, 2M of 4M rows, delay $delay, next to pgbench -c 2 | ${dur} s; longest batch ${longest} ms | pgbench ${base} tps alone, ${during} meanwhile | ${kept}% of TPS kept | 1 |")
done
