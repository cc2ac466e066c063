#!/usr/bin/env bash
# ring_shard's time by ring size (test/bench/ring_size.sql) in a throw-away
# cluster; uses the installed consistent_ring (run test/setup.sh first).
set -euo pipefail
cd "$(dirname "$0")"
pg_virtualenv -t -v 15 -o shared_buffers=512MB psql -X -q -f ring_size.sql
