#!/usr/bin/env bash
# Planning time of ring_rebalance_report on big 'vnode' rings: the Zipf
# table of test/bench/rebalance.sh (~1M rows, 100,000 tenants) on 64 and
# 1,000 nodes of 256 virtual nodes, with heavy keys pinned (max_pins 64,
# the default) and weights only (max_pins 0).  Against the server in the
# PG* environment.
set -euo pipefail

psql -X -q <<'SQL'
CREATE EXTENSION IF NOT EXISTS consistent_ring;
SELECT ring_drop(ring) FROM ring_list WHERE ring IN ('rbb_64', 'rbb_1000');
DROP TABLE IF EXISTS rbb_tenants;
CREATE TABLE rbb_tenants (tenant bigint, id bigint, payload text);
INSERT INTO rbb_tenants
SELECT k, g, pg_catalog.repeat('x', 80)
  FROM (SELECT k, round(1000000 * k ^ -1.1 / (SELECT sum(j ^ -1.1) FROM generate_series(1, 100000) j))::int AS n
          FROM generate_series(1, 100000) k) s,
       generate_series(1, s.n) g;
VACUUM ANALYZE rbb_tenants;
SELECT ring_create('rbb_64', 'vnode', 256);
SELECT count(ring_add_node('rbb_64', 'node' || i)) FROM generate_series(1, 64) i;
SELECT ring_create('rbb_1000', 'vnode', 256);
SELECT count(ring_add_node('rbb_1000', 'node' || i)) FROM generate_series(1, 1000) i;
SQL

printf '%-9s %-8s %10s %10s %10s %14s %14s %8s\n' ring max_pins before after floor moved_bytes lower_bound plan_ms
for run in rbb_64:64 rbb_64:0 rbb_1000:64 rbb_1000:0; do
  IFS=: read -r ring pins <<< "$run"
  psql -X -q -At -F ' ' <<SQL
\set QUIET on
SELECT clock_timestamp() AS t0 \gset
SELECT ratio, ratio_after, ratio_floor, bytes_out, must_move
  FROM ring_rebalance_report('$ring', 'rbb_tenants', 'tenant', max_pins => $pins) WHERE node IS NULL \gset
SELECT pg_catalog.format('%-9s %-8s %10s %10s %10s %14s %14s %8s', '$ring', '$pins',
       round(:ratio::numeric, 3), round(:ratio_after::numeric, 3), round(:ratio_floor::numeric, 3),
       :bytes_out, :must_move, round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000));
SQL
done
psql -X -q -c "DROP TABLE rbb_tenants" -c "SELECT ring_drop(ring) FROM ring_list WHERE ring IN ('rbb_64', 'rbb_1000')" > /dev/null
