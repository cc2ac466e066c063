#!/usr/bin/env bash
# Private memory (RssAnon) of a backend while it runs lookups over the 10M
# keys of bench.sql: sampled every 0.2 s; it must stay flat after the start.
set -euo pipefail
query="SELECT count(ring_shard('r5', k)), count(ring_move('r4to5', k, 1, 2)), count(ring_shards('r5', k, 3)) FROM big_keys"
psql -X -q -At -c "SET max_parallel_workers_per_gather = 0" -c "$query" >/dev/null &
client=$!
pid=""
for _ in $(seq 1 50); do
    pid=$(psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT count(ring_shard(%' AND pid <> pg_backend_pid()")
    [ -n "$pid" ] && break
    sleep 0.1
done
samples=()
while kill -0 "$client" 2>/dev/null && [ -r "/proc/$pid/status" ]; do
    kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$kb" ] && samples+=("$kb")
    sleep 0.2
done
wait "$client"
n=${#samples[@]}
echo "== backend private memory over 10M rows of ring_shard, ring_move and ring_shards"
if [ "$n" -ge 4 ]; then
    echo "samples: $n; RssAnon at 0.2 s: ${samples[0]} kB, at 0.4 s: ${samples[1]} kB, at the end: ${samples[$((n - 1))]} kB, max: $(printf '%s\n' "${samples[@]}" | sort -n | tail -1) kB"
else
    echo "too few samples ($n)"
fi
