#!/usr/bin/env bash
# Comparison of the placement algorithms: builds and installs
# consistent_ring, starts a throw-away cluster and prints, for every
# algorithm at 5, 10, 100 and 1000 nodes, balance, what moves on add, remove
# and reweight against the ideal, lookup ns/key and memory.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash test/setup.sh
pg_virtualenv -t -v 15 -o shared_buffers=512MB \
    psql -X -q -f test/bench/compare.sql
