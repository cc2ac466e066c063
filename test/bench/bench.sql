-- consistent_ring benchmark: ns/row of lookups over 1,000,000 keys.
-- Run by test/bench/bench.sh in a throw-away cluster.
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS consistent_ring;

-- 1M text keys 'song-N'; for the key-type rows, one-column tables of
-- integers, uuids and their text forms (same bytes hashed)
CREATE TABLE keys AS SELECT 'song-' || i AS k FROM generate_series(1, 1000000) i;
CREATE TABLE int_keys AS SELECT i FROM generate_series(1, 1000000) i;
CREATE TABLE int_text_keys AS SELECT i::text AS k FROM generate_series(1, 1000000) i;
CREATE TABLE uuid_keys AS SELECT md5(i::text)::uuid AS u FROM generate_series(1, 1000000) i;
CREATE TABLE uuid_text_keys AS SELECT md5(i::text)::uuid::text AS k FROM generate_series(1, 1000000) i;
VACUUM ANALYZE keys, int_keys, int_text_keys, uuid_keys, uuid_text_keys;

SELECT ring_create('r4to5');
SELECT count(ring_add_node('r4to5', 'db' || i)) FROM generate_series(1, 4) i;
SELECT ring_add_node('r4to5', 'db5');
SELECT ring_create('r5');
SELECT count(ring_add_node('r5', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('r1000');
SELECT count(ring_add_node('r1000', 'node' || i)) FROM generate_series(1, 1000) i;
SELECT ring_add_node('r1000', 'node1001');
-- the other algorithms, 5 nodes and 1000 nodes
SELECT ring_create('b5', 'vnode', 16, token_allocation => 'balanced');
SELECT count(ring_add_node('b5', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('s5', 'slots');
SELECT count(ring_add_node('s5', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('m5', 'maglev');
SELECT count(ring_add_node('m5', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('s1000', 'slots');
SELECT count(ring_add_node('s1000', 'node' || i)) FROM generate_series(1, 1000) i;
SELECT ring_create('m1000', 'maglev');
SELECT count(ring_add_node('m1000', 'node' || i)) FROM generate_series(1, 1000) i;
SELECT ring_create('h5', 'rendezvous');
SELECT count(ring_add_node('h5', 'db' || i)) FROM generate_series(1, 5) i;
-- the modes of other systems
SELECT ring_create('redis5', 'redis');
SELECT count(ring_add_node('redis5', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('ketama5', 'ketama');
SELECT count(ring_add_node('ketama5', 'db' || i || ':11211')) FROM generate_series(1, 5) i;
SELECT ring_create('ketama100', 'ketama');
SELECT count(ring_add_node('ketama100', 'db' || i || ':11211')) FROM generate_series(1, 100) i;
SELECT ring_create('libketama5', 'libketama');
SELECT count(ring_add_node('libketama5', 'db' || i || ':11211')) FROM generate_series(1, 5) i;
SELECT ring_create('cassandra5', 'cassandra');
SELECT count(ring_add_node('cassandra5', 'db' || i)) FROM generate_series(1, 5) i;
SELECT ring_create('j4to5', 'jump');
SELECT count(ring_add_node('j4to5', 'db' || i)) FROM generate_series(1, 4) i;
SELECT ring_add_node('j4to5', 'db5');
SELECT ring_create('j1000', 'jump');
SELECT count(ring_add_node('j1000', 'node' || i)) FROM generate_series(1, 1000) i;
SELECT ring_remove_node('j1000', 'node500');
SELECT ring_create('cassandra1000', 'cassandra', 16);
SELECT count(ring_add_node('cassandra1000', 'node' || i)) FROM generate_series(1, 1000) i;

-- the plain-SQL ring a strong SQL user can write: width_bucket over a
-- sorted token array, owners as node numbers (fixed-width, O(1) subscript)
CREATE TABLE sql_ring AS
SELECT array_agg(t ORDER BY t) AS tokens, array_agg(n ORDER BY t) AS owners
  FROM (SELECT hashtextextended('db' || n || '-' || v, 0) AS t, n
          FROM generate_series(1, 5) n, generate_series(0, 255) v) s;

-- run SELECT count(expr) FROM from_clause: one warm-up, then `runs` timed runs
CREATE FUNCTION bench(label text, expr text, from_clause text DEFAULT 'keys', runs int DEFAULT 5)
RETURNS TABLE (what text, ns_per_row_median numeric, ns_min numeric, ns_max numeric)
LANGUAGE plpgsql AS $$
DECLARE
    q text := format('SELECT count(%s) FROM %s', expr, from_clause);
    t0 timestamptz;
    n bigint;
    ns float8[] := '{}';
BEGIN
    EXECUTE q INTO n;
    FOR r IN 1..runs LOOP
        t0 := clock_timestamp();
        EXECUTE q INTO n;
        ns := ns || (extract(epoch FROM clock_timestamp() - t0) * 1e9 / 1000000);
    END LOOP;
    SELECT array_agg(x ORDER BY x) INTO ns FROM unnest(ns) x;
    what := label;
    ns_per_row_median := round(ns[(runs + 1) / 2]::numeric, 0);
    ns_min := round(ns[1]::numeric, 0);
    ns_max := round(ns[runs]::numeric, 0);
    RETURN NEXT;
END $$;

SET max_parallel_workers_per_gather = 0;
SET jit = off;

\echo '== ns per row, SELECT count(expr) FROM 1M keys, one backend, median of 5'
CREATE TEMP TABLE results AS
SELECT * FROM bench('count(k): scan only', 'k')
UNION ALL SELECT * FROM bench('hashtextextended(k, 0): the hashing limit', 'hashtextextended(k, 0)')
UNION ALL SELECT * FROM bench('abs(hashtextextended(k, 0)) % 5: modulo', 'abs(hashtextextended(k, 0)) % 5')
UNION ALL SELECT * FROM bench('ring_hash(r, k)', 'ring_hash(''r5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), 5 nodes x 256', 'ring_shard(''r5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), 1001 nodes x 256', 'ring_shard(''r1000'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), vnode 16 balanced, 5 nodes', 'ring_shard(''b5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), slots 4096, 5 nodes', 'ring_shard(''s5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), slots 4096, 1000 nodes', 'ring_shard(''s1000'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), maglev 65537, 5 nodes', 'ring_shard(''m5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), maglev 65537, 1000 nodes', 'ring_shard(''m1000'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), rendezvous, 5 nodes', 'ring_shard(''h5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), redis, 5 masters', 'ring_shard(''redis5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), ketama, 5 servers', 'ring_shard(''ketama5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), ketama, 100 servers', 'ring_shard(''ketama100'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), libketama, 5 servers', 'ring_shard(''libketama5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), cassandra, 5 nodes x 256', 'ring_shard(''cassandra5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), cassandra, 1000 nodes x 16', 'ring_shard(''cassandra1000'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, integer), cassandra, 5 nodes', 'ring_shard(''cassandra5'', i)', 'int_keys')
UNION ALL SELECT * FROM bench('ring_shard(r, k), jump, 5 nodes', 'ring_shard(''j4to5'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k), jump, 999 of 1000 nodes (one removed)', 'ring_shard(''j1000'', k)')
UNION ALL SELECT * FROM bench('ring_shard(r, k, version), 5 nodes', 'ring_shard(''r4to5'', k, 2)')
UNION ALL SELECT * FROM bench('ring_shard, ring name varying per row (2 rings)',
    'ring_shard(CASE WHEN right(k, 1) < ''5'' THEN ''r5'' ELSE ''r4to5'' END, k)')
UNION ALL SELECT * FROM bench('ring_shard(r, integer), 5 nodes', 'ring_shard(''r5'', i)', 'int_keys')
UNION ALL SELECT * FROM bench('ring_shard(r, text), same keys as text', 'ring_shard(''r5'', k)', 'int_text_keys')
UNION ALL SELECT * FROM bench('ring_shard(r, uuid), 5 nodes', 'ring_shard(''r5'', u)', 'uuid_keys')
UNION ALL SELECT * FROM bench('ring_shard(r, text), same keys as text', 'ring_shard(''r5'', k)', 'uuid_text_keys')
UNION ALL SELECT * FROM bench('ring_shards(r, k, 3), 5 nodes', 'ring_shards(''r5'', k, 3)')
UNION ALL SELECT b.* FROM sql_ring, bench('plain-SQL ring, width_bucket, 5 x 256',
    format('(%L::int[])[coalesce(nullif(width_bucket(hashtextextended(k, 0), %L::bigint[]) + 1, 1281), 1)]',
           owners, tokens)) b
UNION ALL SELECT * FROM bench('migration count, modulo 4 -> 5',
    'CASE WHEN abs(hashtextextended(k, 0)) % 4 <> abs(hashtextextended(k, 0)) % 5 THEN 1 END')
UNION ALL SELECT * FROM bench('migration count, ring_move 4 -> 5', 'ring_move(''r4to5'', k, 1, 2)')
UNION ALL SELECT * FROM bench('migration count, ring_move 1000 -> 1001', 'ring_move(''r1000'', k, 1, 2)')
UNION ALL SELECT * FROM bench('migration count, ring_move jump 4 -> 5', 'ring_move(''j4to5'', k, 1, 2)');

SELECT what, ns_per_row_median AS "ns/row",
       round(ns_per_row_median / (SELECT ns_per_row_median FROM results
                                   WHERE what LIKE 'hashtextextended%'), 2) AS "x hashing",
       ns_min || ' - ' || ns_max AS "min - max"
  FROM results;

\echo '== whole-ring operations, 1000 -> 1001 nodes x 256 virtual nodes'
CREATE FUNCTION time_ms(q text, runs int DEFAULT 5) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; ms float8[] := '{}'; n bigint;
BEGIN
    FOR r IN 1..runs LOOP
        t0 := clock_timestamp();
        EXECUTE q INTO n;
        ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
    END LOOP;
    SELECT array_agg(x ORDER BY x) INTO ms FROM unnest(ms) x;
    RETURN round(ms[(runs + 1) / 2]::numeric, 1);
END $$;
SELECT time_ms('SELECT count(*) FROM ring_moves(''r1000'', 1, 2)') AS ring_moves_ms,
       (SELECT count(*) FROM ring_moves('r1000', 1, 2)) AS moving_ranges;
SELECT ring, version, nodes, tokens, bytes, round(bytes::numeric / tokens, 1) AS bytes_per_token
  FROM ring_cache_info() WHERE ring IN ('r5', 'r1000') ORDER BY ring, version;

\echo '== parallel query: count(ring_shard(r, k)) over 10M keys, 5 nodes (ms, median of 3)'
CREATE TABLE big_keys AS SELECT 'song-' || i AS k FROM generate_series(1, 10000000) i;
VACUUM ANALYZE big_keys;
SET max_parallel_workers_per_gather = 0;
SELECT time_ms('SELECT count(ring_shard(''r5'', k)) FROM big_keys', 3) AS no_workers_ms \gset
SET max_parallel_workers_per_gather = 2;
SELECT time_ms('SELECT count(ring_shard(''r5'', k)) FROM big_keys', 3) AS two_workers_ms \gset
SELECT :no_workers_ms AS no_workers_ms, :two_workers_ms AS two_workers_ms,
       round(:no_workers_ms / :two_workers_ms, 2) AS speedup;
RESET max_parallel_workers_per_gather;
