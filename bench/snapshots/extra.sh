# Sourced by bench/run: the space a snapshot takes per statement, without
# texts (dbopt.snapshot_statements with its indexes, divided by its rows).
per=$(psql_q -d "$DB" -Atc "SELECT round(pg_total_relation_size('dbopt.snapshot_statements')::numeric / count(*)) FROM dbopt.snapshot_statements")
n=$(psql_q -d "$DB" -Atc "SELECT count(*) FROM dbopt.snapshots")
echo "snapshots: $per bytes per statement per snapshot (table and its indexes, no text), over $n snapshots"
ROWS+=("| $(date -u +%Y-%m-%d) | snapshots: storage | $per bytes per statement per snapshot | (no text) | - | $n |")
