#!/usr/bin/env bash
# Single-key statements at OLTP rates: pgbench -M prepared, 4 clients,
# 6 s per statement, three interleaved rounds (the medians are compared),
# against the server in the PG* environment.  Prints tps for SELECT 1, hashtextextended, ring_shard and
# ring_route on a 1000-node x 256 ring (no migration, then during one whose
# progress commits every 100 ms), and the ratios the routing goals are
# stated in.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"; kill $progress 2>/dev/null || true' EXIT
progress=

psql -X -q <<'SQL'
CREATE EXTENSION IF NOT EXISTS consistent_ring;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
DROP TABLE IF EXISTS acc;
CREATE TABLE acc (id text PRIMARY KEY, v integer);
SELECT ring_drop('bench_route') FROM ring_list WHERE ring = 'bench_route';
DO $$
BEGIN
    FOR i IN 1..4 LOOP
        EXECUTE format('DROP SERVER IF EXISTS bench_srv%s CASCADE', i);
        EXECUTE format('CREATE SERVER bench_srv%s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname %L)', i, 'bench' || i);
    END LOOP;
END $$;
SELECT ring_create('bench_route');
SELECT count(ring_add_node('bench_route', 'node' || i, server => 'bench_srv' || (1 + i % 4)))
  FROM generate_series(1, 1000) i;
SELECT ring_add_node('bench_route', 'node1001', server => 'bench_srv1');
SQL

bench() {   # name sql
    echo "\set k random(1, 10000000)" > "$dir/$1.sql"
    echo "$2" >> "$dir/$1.sql"
    pgbench -n -M prepared -c 4 -j 4 -T 6 -f "$dir/$1.sql" 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1
}

declare -A tps
run_round() {   # suffix
    for name in select1 hash shard route; do
        case $name in
            select1) sql='SELECT 1;' ;;
            hash) sql="SELECT hashtextextended('key-' || :k, 0);" ;;
            shard) sql="SELECT ring_shard('bench_route', 'key-' || :k);" ;;
            route) sql="SELECT ring_route('bench_route', 'key-' || :k, 'acc');" ;;
        esac
        t=$(bench "$name" "$sql")
        tps[$name$1]="${tps[$name$1]:-} $t"
    done
}

# no migration
psql -X -q -c "DELETE FROM consistent_ring.migrations WHERE ring = 'bench_route'"
run_round ""
run_round ""
run_round ""
# during a migration from version 1 to 2 (node1001 joins): progress rows, the last key
# of one source advancing every 100 ms (as ring_migrate's batches do)
psql -X -q <<'SQL'
INSERT INTO consistent_ring.migrations (ring, table_schema, table_name, key_column, old_version, new_version)
     VALUES ('bench_route', 'public', 'acc', 'id', 1, 2);
INSERT INTO consistent_ring.migration_servers (migration_id, ring, server, source, last_key)
SELECT migration_id, ring, 'bench_srv' || i, true, 'key-1'
  FROM consistent_ring.migrations, generate_series(1, 4) i WHERE ring = 'bench_route';
SQL
( n=1; while true; do
      psql -X -q -c "UPDATE consistent_ring.migration_servers SET last_key = 'key-$n' WHERE ring = 'bench_route' AND server = 'bench_srv2'" >/dev/null
      n=$((n + 1000)); sleep 0.1
  done ) &
progress=$!
run_round "_mig"
run_round "_mig"
run_round "_mig"
kill $progress; wait $progress 2>/dev/null || true
progress=
commits=$(psql -X -At -c "SELECT (regexp_replace(last_key, '^key-', ''))::int / 1000 FROM consistent_ring.migration_servers WHERE ring = 'bench_route' AND server = 'bench_srv2'")

med() { printf '%s\n' $1 | sort -n | sed -n 2p; }
echo "== single-key statements, pgbench -M prepared, 4 clients, 6 s each, 3 rounds (tps; ratios of the medians)"
printf '%-58s %s\n' "SELECT 1" "${tps[select1]}"
printf '%-58s %s\n' "SELECT hashtextextended('key-' || :k, 0)" "${tps[hash]}"
printf '%-58s %s\n' "SELECT ring_shard('bench_route', 'key-' || :k)" "${tps[shard]}"
printf '%-58s %s\n' "SELECT ring_route(...), no migration" "${tps[route]}"
printf '%-58s %s\n' "SELECT ring_shard(...), during a migration" "${tps[shard_mig]}"
printf '%-58s %s\n' "SELECT ring_route(...), during a migration ($commits progress commits)" "${tps[route_mig]}"
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.2f", a / b }'; }
echo "ring_shard / hashtextextended: $(ratio "${tps[shard]}" "${tps[hash]}") (goal >= 0.9)"
echo "ring_route / ring_shard, no migration: $(ratio "${tps[route]}" "${tps[shard]}") (goal >= 0.8)"
echo "ring_route / ring_shard, during a migration: $(ratio "${tps[route_mig]}" "${tps[shard_mig]}") (goal >= 0.8)"
psql -X -q -c "SELECT ring_drop('bench_route')" -c "DROP TABLE acc" >/dev/null
