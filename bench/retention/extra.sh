# Sourced by bench/run after the timed sides, with the cluster running and
# $DB, $B set: CALL dbopt.run_data_retention() next to a pgbench load on
# other tables.  Prints pgbench's TPS alone and while the procedure runs,
# and the procedure's longest batch (its longest transaction).
as_user pgbench -q -i -s 10 "$DB" >/dev/null 2>&1
base=$(as_user pgbench -n -c 2 -j 2 -T 15 "$DB" 2>/dev/null | awk '/^tps/ {print $3; exit}')
psql_q -d "$DB" -f "$B/reset.sql"
as_user pgbench -n -c 2 -j 2 -T 600 -P 1 "$DB" 2> "$WORK/pgbench.progress" >/dev/null &
PGB=$!
sleep 2
start=$(date +%s.%N)
as_user psql -X -q -d "$DB" -c 'CALL dbopt.run_data_retention()' 2> "$WORK/call.notice"
end=$(date +%s.%N)
sleep 1
kill -INT $PGB 2>/dev/null; wait $PGB 2>/dev/null
# Progress lines that fall inside the procedure's run (2 s of warm-up before).
dur=$(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.1f", e - s}')
during=$(awk -v d="$dur" '/^progress:/ {t = $2 + 0; if (t > 2 && t <= 2 + d) {s += $4; n++}} END {if (n) printf "%.1f", s / n}' "$WORK/pgbench.progress")
longest=$(psql_q -d "$DB" -Atc "SELECT substring(detail from 'longest ([0-9.]+) ms') FROM dbopt.maintenance_log WHERE operation = 'run_data_retention' ORDER BY logged_at DESC LIMIT 1")
keep=$(awk -v a="$base" -v b="$during" 'BEGIN {printf "%.0f", (a > 0 ? 100 * b / a : 0)}')
echo "retention procedure: ${dur} s for the same rows; longest batch ${longest} ms; pgbench ${base} tps alone, ${during} tps during the procedure (${keep}%)"
ROWS+=("| $(date -u +%Y-%m-%d) | retention (procedure next to pgbench -c 2) | ${dur} s, longest batch ${longest} ms | pgbench ${base} → ${during} tps | ${keep}% kept | 1 |")
