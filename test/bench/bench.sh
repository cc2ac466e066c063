#!/usr/bin/env bash
# Benchmark: builds and installs consistent_ring, starts a throw-away
# cluster and prints ns/row for lookups against hashtextextended(k, 0)
# over 1M keys, the migration count, ring_moves and compile times, single-key
# statements' tps (test/bench/routing.sh), lookup latency while other rings
# change (test/bench/invalidation.sh), compile time after a one-node change
# (test/bench/incremental.sh), memory at 1, 50 and 200 connections
# (test/bench/sharing.sh) - these three also with the library preloaded
# (compiled rings in shared memory) -, a Zipf-skewed table balanced by data
# (test/bench/rebalance.sh, rebalance_big.sh), the per-type overloads against anyelement
# (test/bench/overloads.sh), ring_migrate against a hand-made COPY job
# (test/bench/migrate.sh), then
# instructions per row counted by callgrind (test/bench/instructions.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash test/setup.sh
pg_virtualenv -t -v 15 -o shared_buffers=512MB -o max_connections=250 \
    bash -c 'psql -X -q -f test/bench/bench.sql && bash test/bench/compile_time.sh && bash test/memory/run.sh && bash test/bench/routing.sh && bash test/bench/invalidation.sh && bash test/bench/incremental.sh && bash test/bench/sharing.sh && bash test/bench/rebalance.sh && bash test/bench/rebalance_big.sh && bash test/bench/overloads.sh'
# the same with compiled rings in shared memory
pg_virtualenv -t -v 15 -o shared_buffers=512MB -o max_connections=250 -o shared_preload_libraries=consistent_ring \
    bash -c 'bash test/bench/invalidation.sh && bash test/bench/incremental.sh && bash test/bench/sharing.sh'
bash test/bench/migrate.sh
echo "== instructions per row (callgrind, stable where timings are noisy)"
bash test/bench/instructions.sh
