#!/usr/bin/env bash
# Time the first lookup in a new backend (which compiles the ring) and the
# next one (cached), for ring r1000 made by bench.sql; median of 5 backends.
set -euo pipefail
first=()
again=()
for i in 1 2 3 4 5; do
    mapfile -t t < <(psql -X -q -At -c '\timing on' \
                          -c "SELECT ring_shard('r1000', 'x')" \
                          -c "SELECT ring_shard('r1000', 'x')" |
                     sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
    first+=("${t[0]}")
    again+=("${t[1]}")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
echo "== first lookup in a new backend, 1001 x 256 ring (compiles it)"
echo "median $(median "${first[@]}") ms, runs: ${first[*]}"
echo "== next lookup, ring cached"
echo "median $(median "${again[@]}") ms, runs: ${again[*]}"
