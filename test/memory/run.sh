#!/usr/bin/env bash
# A backend's private memory (RssAnon) while it runs ring_shard, ring_move
# and ring_shards over 5M rows, three times over: after the ring is compiled it must not
# grow (nothing per row outlives the row).  Runs against the server in the
# PG* environment (test/check.sh's cluster).
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d ring_memory "$@"; }
psql -X -q -c "DROP DATABASE IF EXISTS ring_memory" -c "CREATE DATABASE ring_memory"
q -c "CREATE EXTENSION consistent_ring" \
  -c "SELECT ring_create('m')" -c "SELECT count(ring_add_node('m', 'n' || i)) FROM generate_series(1, 50) i" \
  -c "SELECT ring_add_node('m', 'late')" \
  -c "CREATE TABLE k AS SELECT 'key-' || i AS k FROM generate_series(1, 5000000) i" > /dev/null

query="SELECT count(ring_shard('m', k)), count(ring_move('m', k, 1, 2)), count(ring_shards('m', k, 3)) FROM k, generate_series(1, 3)"
psql -X -q -At -d ring_memory -c "SET max_parallel_workers_per_gather = 0" -c "$query" > /dev/null &
client=$!
pid=""
for _ in $(seq 1 100); do
    pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT count(ring_shard(%' AND pid <> pg_backend_pid()")
    [ -n "$pid" ] && break
    sleep 0.05
done
samples=()
while kill -0 "$client" 2>/dev/null && [ -r "/proc/$pid/status" ]; do
    kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$kb" ] && samples+=("$kb")
    sleep 0.1
done
wait "$client"
psql -X -q -c "DROP DATABASE ring_memory"
n=${#samples[@]}
[ "$n" -ge 20 ] || { echo "memory test: too few samples ($n)"; echo "memory test ... FAILED"; exit 1; }
# skip the first second (compiling, plan, buffers); then no growth over 1 MB
first=${samples[10]}
last=${samples[$((n - 1))]}
max=$(printf "%s\n" "${samples[@]:10}" | sort -n | tail -1)
echo "memory: 15M rows x 3 lookups, $n samples; RssAnon after 1 s $first kB, max $max kB, at the end $last kB"
if [ $((max - first)) -lt 1024 ]; then echo "memory test ... ok"; else echo "memory test ... FAILED"; exit 1; fi
