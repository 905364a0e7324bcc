# Sourced by bench/run: the same set-up at 2,000 tables (10,000 indexes) in
# a second database, timed the same way, and the growth from 10,000 to
# 100,000 indexes of each side (10x more indexes: linear growth is 10x).
d100=$d; a100=$a
DB10=bench_index_usage_10k
psql_q -d postgres -c "CREATE DATABASE $DB10"
psql_q -d "$DB10" -c 'CREATE EXTENSION dbopt CASCADE' 2>/dev/null
psql_q -d "$DB10" -o /dev/null -v ntables=2000 -f "$B/setup.sql"
DB_SAVE=$DB; DB=$DB10
for side in dbopt anchor; do time_file "$B/$side.sql" >/dev/null; : > "$WORK/$side.10k.t"; done
for i in $(seq "$n"); do
  if [ $((i % 2)) -eq 0 ]; then order=(dbopt anchor); else order=(anchor dbopt); fi
  for side in "${order[@]}"; do time_file "$B/$side.sql" >> "$WORK/$side.10k.t"; done
done
DB=$DB_SAVE
d10=$(median < "$WORK/dbopt.10k.t"); a10=$(median < "$WORK/anchor.10k.t")
r10=$(awk -v d="$d10" -v a="$a10" 'BEGIN {printf "%.2f", (a > 0 ? d / a : 0)}')
gd=$(awk -v x="$d100" -v y="$d10" 'BEGIN {printf "%.2f", (y > 0 ? x / y : 0)}')
ga=$(awk -v x="$a100" -v y="$a10" 'BEGIN {printf "%.2f", (y > 0 ? x / y : 0)}')
printf '%s (10k): dbopt %s ms, anchor %s ms (medians of %d), ratio dbopt/anchor %s\n' \
  "$NAME" "$d10" "$a10" "$n" "$r10"
echo "$NAME: growth 10,000 -> 100,000 indexes: dbopt ${gd}x, anchor ${ga}x (linear: 10x)"
ROWS+=("| $(date -u +%Y-%m-%d) | $NAME (10k) | $d10 | $a10 | $r10 | $n |")
ROWS+=("| $(date -u +%Y-%m-%d) | $NAME: growth 10k to 100k | ${gd}x | ${ga}x | - | $n |")
