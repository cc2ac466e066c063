#!/usr/bin/env bash
# The per-type overloads of the lookup functions (ring_shard(text, integer),
# ... (text, bigint), (text, uuid), (text, text)) against one declared for
# anyelement only, on the same C function: ms per 1M keys of each type,
# median of 5 rounds, on a 16-node ring; and whether any answer differs.
# Against the server in the PG* environment.
set -euo pipefail
psql -X -q <<'SQL'
CREATE EXTENSION IF NOT EXISTS consistent_ring;
SELECT ring_drop(ring) FROM ring_list WHERE ring = 'ov_bench';
SELECT ring_create('ov_bench');
SELECT count(ring_add_node('ov_bench', 'n' || i)) FROM generate_series(1, 16) i;
DROP FUNCTION IF EXISTS ov_shard_any(text, anyelement);
CREATE FUNCTION ov_shard_any(ring text, key anyelement) RETURNS text
    AS '$libdir/consistent_ring', 'ring_shard' LANGUAGE C STABLE STRICT PARALLEL SAFE;
DROP TABLE IF EXISTS ov_keys;
CREATE TABLE ov_keys AS SELECT i::integer AS i4, i::bigint AS i8, i::text AS t,
       md5(i::text)::uuid AS u FROM generate_series(1, 1000000) i;
VACUUM ANALYZE ov_keys;
CREATE OR REPLACE FUNCTION ov_time(q text) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE q;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
SQL
printf '%-8s %14s %14s\n' key typed_ms anyelement_ms
for ty in i4 i8 t u; do
    psql -X -q -At <<SQL
SET max_parallel_workers_per_gather = 0;
SELECT pg_catalog.format('%-8s %14s %14s', '$ty',
       round(percentile_disc(0.5) WITHIN GROUP (ORDER BY typed)::numeric),
       round(percentile_disc(0.5) WITHIN GROUP (ORDER BY anyel)::numeric))
  FROM (SELECT ov_time('SELECT count(ring_shard(''ov_bench'', $ty)) FROM ov_keys') AS typed,
               ov_time('SELECT count(ov_shard_any(''ov_bench'', $ty)) FROM ov_keys') AS anyel
          FROM generate_series(1, 5)) r;
SQL
done
psql -X -q -At -c "SELECT 'answers that differ: ' || count(*) FROM ov_keys
    WHERE ring_shard('ov_bench', i4) IS DISTINCT FROM ov_shard_any('ov_bench', i4)
       OR ring_shard('ov_bench', i8) IS DISTINCT FROM ov_shard_any('ov_bench', i8)
       OR ring_shard('ov_bench', u) IS DISTINCT FROM ov_shard_any('ov_bench', u)
       OR ring_shard('ov_bench', t) IS DISTINCT FROM ov_shard_any('ov_bench', t)"
psql -X -q -c "DROP TABLE ov_keys" -c "DROP FUNCTION ov_shard_any(text, anyelement)" -c "DROP FUNCTION ov_time(text)" -c "SELECT ring_drop('ov_bench')" > /dev/null
