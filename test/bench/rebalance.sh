#!/usr/bin/env bash
# Balancing by data: a table of ~1M rows keyed by tenant (all of a tenant's
# rows share its key) whose tenant sizes follow Zipf's law (s = 1.1, 100,000
# tenants: tenant k has round(1M * k^-1.1 / H) rows of ~120 bytes), on 8
# nodes of a 'slots' ring (4096 slots), a 'redis' ring, a 'vnode' ring
# (256 virtual nodes each) and a 'cassandra' ring (256 tokens each).  For each ring: max/mean bytes per node as the
# ring places them (balanced by slot or token count, as
# redis-cli --cluster rebalance balances), after ring_rebalance (threshold
# 0.05), the floor no assignment of whole slots (keys) can beat, the bytes
# the plan moves against the lower bound, the time to plan (one scan), and
# the same from a 10% sample; on the 'vnode' ring with heavy keys pinned
# (max_pins 64, the default) and with weights only (max_pins 0).  Against
# the server in the PG* environment.
set -euo pipefail

psql -X -q <<'SQL'
CREATE EXTENSION IF NOT EXISTS consistent_ring;
SELECT ring_drop(ring) FROM ring_list WHERE ring IN ('rb_slots', 'rb_redis', 'rb_vnode', 'rb_cass');
DROP TABLE IF EXISTS rb_tenants;
CREATE TABLE rb_tenants (tenant bigint, id bigint, payload text);
INSERT INTO rb_tenants
SELECT k, g, pg_catalog.repeat('x', 80)
  FROM (SELECT k, round(1000000 * k ^ -1.1 / (SELECT sum(j ^ -1.1) FROM generate_series(1, 100000) j))::int AS n
          FROM generate_series(1, 100000) k) s,
       generate_series(1, s.n) g;
VACUUM ANALYZE rb_tenants;
SELECT ring_create('rb_slots', 'slots', slots => 4096);
SELECT ring_create('rb_redis', 'redis');
SELECT ring_create('rb_vnode', 'vnode', 256);
SELECT ring_create('rb_cass', 'cassandra', 256);
SELECT count(ring_add_node(r, 'node' || i)) FROM unnest(ARRAY['rb_slots', 'rb_redis', 'rb_vnode', 'rb_cass']) r,
       generate_series(1, 8) i;
SQL

psql -X -q -At <<'SQL'
SELECT format('table: %s rows, %s bytes (pg_column_size), %s tenants with rows; heaviest tenant %s%% of the bytes',
              count(*), sum(pg_column_size(t.*)), count(DISTINCT tenant),
              round(100 * max(b) / sum(sum(pg_column_size(t.*))) OVER (), 2))
  FROM rb_tenants t,
       LATERAL (SELECT sum(pg_column_size(u.*)) AS b FROM rb_tenants u WHERE u.tenant = 1) h;
SQL

printf '%-9s %-13s %10s %10s %10s %14s %14s %8s %8s\n' ring sample before after floor moved_bytes lower_bound moved/lb plan_ms
# ring, sample_percent, max_pins ('vnode': 0 = weights only)
for run in rb_slots:100:64 rb_slots:10:64 rb_redis:100:64 rb_redis:10:64 rb_vnode:100:64 rb_vnode:10:64 \
           rb_vnode:100:0 rb_vnode:10:0 rb_cass:100:64 rb_cass:10:64; do
  IFS=: read -r ring sample pins <<< "$run"
  label="$sample%"
  if [ "$ring" = rb_vnode ]; then label="$sample% pins<=$pins"; fi
  psql -X -q -At -F ' ' <<SQL
\set QUIET on
SELECT clock_timestamp() AS t0 \gset
SELECT ratio, ratio_after, ratio_floor, bytes_out, must_move
  FROM ring_rebalance_report('$ring', 'rb_tenants', 'tenant', sample_percent => $sample, max_pins => $pins)
 WHERE node IS NULL \gset
SELECT pg_catalog.format('%-9s %-13s %10s %10s %10s %14s %14s %8s %8s', '$ring', '$label',
       round(:ratio::numeric, 3), round(:ratio_after::numeric, 3), round(:ratio_floor::numeric, 3),
       :bytes_out, :must_move, CASE WHEN :must_move > 0 THEN round(:bytes_out::numeric / :must_move, 3) END,
       round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000));
SQL
done
(psql -X -q -At -c "SELECT format('rb_vnode plan at 100%%: %s pins (%s kept where they are)', count(key), count(key) FILTER (WHERE from_node = to_node)) FROM ring_rebalance_plan('rb_vnode', 'rb_tenants', 'tenant')")

echo "applied (ring_rebalance at 100%), bytes per node as ring_shard places them afterwards:"
for ring in rb_slots rb_redis rb_vnode rb_cass; do
  psql -X -q -At <<SQL
SELECT ring_rebalance('$ring', 'rb_tenants', 'tenant') \gset
SELECT pg_catalog.format('%-9s version %s: max/mean %s, bytes per node %s', '$ring', :ring_rebalance,
       round(max(b) / avg(b), 3), string_agg(b::text, ' ' ORDER BY node))
  FROM (SELECT ring_shard('$ring', tenant) AS node, sum(pg_column_size(t.*)) AS b
          FROM rb_tenants t GROUP BY 1) s;
SQL
done
psql -X -q -c "DROP TABLE rb_tenants" -c "SELECT ring_drop(ring) FROM ring_list WHERE ring IN ('rb_slots', 'rb_redis', 'rb_vnode', 'rb_cass')" > /dev/null
