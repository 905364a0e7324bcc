# Sourced by bench/run after the timed sides, with the cluster running and
# $DB, $B, $WORK set.  The dbopt migration once more, now next to pgbench
# -c 2 (scale 10) on its own tables: pgbench's TPS alone and while the
# migration runs, and the migration's time meanwhile.
psql_q -d "$DB" -o /dev/null -v side=dbopt -f "$B/reset.sql"
as_user pgbench -q -i -s 10 "$DB" >/dev/null 2>&1

# Transactions per second that pgbench's per-transaction logs ($1*) show
# completing between epoch times $2 and $3.
tps_between() {
  cat "$1"* | awk -v a="$2" -v b="$3" '{t = $5 + $6 / 1e6; if (t >= a && t <= b) n++}
    END {printf "%.0f", n / (b - a)}'
}

rm -f "$B"/pgb_pt_*
as_user pgbench -n -c 2 -j 2 -T 12 -l --log-prefix="$B/pgb_pt_base" "$DB" >/dev/null 2>&1
b0=$(cat "$B"/pgb_pt_base* | awk 'NR == 1 || $5 < m {m = $5} END {print m + 2}')
base=$(tps_between "$B/pgb_pt_base" "$b0" "$(awk -v s="$b0" 'BEGIN {print s + 8}')")
psql_q -d "$DB" -q -c 'CHECKPOINT'
# pgbench ends by itself (a killed pgbench loses its log's tail): long
# enough for the migration, which starts 3 s in.
secs=$(psql_q -d "$DB" -Atc "SELECT greatest(60, (SELECT count(*) FROM bench_dbopt) / 50000)")
as_user pgbench -n -c 2 -j 2 -T "$secs" -l --log-prefix="$B/pgb_pt_load" "$DB" >/dev/null 2>&1 &
sleep 3
t0=$(date +%s.%N)
as_user psql -X -q -d "$DB" -o /dev/null -f "$B/dbopt.sql" 2>/dev/null
t1=$(date +%s.%N)
wait
dur=$(awk -v s="$t0" -v e="$t1" 'BEGIN {printf "%.1f", e - s}')
during=$(tps_between "$B/pgb_pt_load" "$t0" "$t1")
kept=$(awk -v a="$base" -v b="$during" 'BEGIN {printf "%.0f", (a > 0 && b > 0 ? 100 * b / a : 0)}')
state=$(psql_q -d "$DB" -Atc "SELECT state || ', ' || rows_copied || ' rows' FROM dbopt.partition_migrations")
rows=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM bench_src")
echo "partition_table next to pgbench -c 2: ${rows} rows in ${dur} s (${state}); pgbench ${base} tps alone, ${during} tps meanwhile (${kept}%)"
ROWS+=("| $(date -u +%Y-%m-%d) | partition_table, ${rows} rows, next to pgbench -c 2 on other tables | ${dur} s | pgbench ${base} tps alone, ${during} meanwhile | ${kept}% of TPS kept | 1 |")
