-- consistent_ring: every algorithm side by side at 5, 10, 100 and 1000
-- nodes.  Run by test/bench/compare.sh in a throw-away cluster.
--
-- balance   largest share / fair share of the token space (ring_quality;
--           'rendezvous', 'jump': of 2^18 evenly spaced positions)
-- add       fraction of the token space moved when node N+1 joins, / 1/(N+1)
--           ('rendezvous', 'jump': fraction of the 1M keys; 'jump' has
--           no reweight)
-- remove    the same when node1 then leaves, / its fair share 1/(N+1)
-- reweight  the same when node2's weight goes 1 -> 2, / the change of its
--           fair share 2/(N+1) - 1/N
-- only      whether every move of those three went to or from the changed node
-- ns/key    SELECT count(ring_shard(ring, k)) over 1M text keys, median of 5
--           (the hashing limit, hashtextextended, is printed first)
-- bytes     the compiled ring in the backend cache (ring_cache_info)
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;
SET jit = off;
CREATE EXTENSION IF NOT EXISTS consistent_ring;
CREATE TABLE keys AS SELECT 'song-' || i AS k FROM generate_series(1, 1000000) i;
VACUUM ANALYZE keys;

CREATE FUNCTION ns_per_row(expr text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    n bigint;
    ns float8[] := '{}';
BEGIN
    EXECUTE format('SELECT count(%s) FROM keys', expr) INTO n;
    FOR r IN 1..5 LOOP
        t0 := clock_timestamp();
        EXECUTE format('SELECT count(%s) FROM keys', expr) INTO n;
        ns := ns || (extract(epoch FROM clock_timestamp() - t0) * 1e9 / 1000000);
    END LOOP;
    SELECT array_agg(x ORDER BY x) INTO ns FROM unnest(ns) x;
    RETURN round(ns[3]::numeric, 0);
END $$;

-- fraction of the token space that moves between two versions (of the 1M
-- keys, for 'rendezvous', which has no ranges); ring_moves speaks in slots
-- on 'redis' rings, in 32-bit values on 'ketama' and 'libketama' rings
CREATE FUNCTION moved(ring text, a int, b int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    alg text := (SELECT algorithm FROM ring_list WHERE ring_list.ring = moved.ring);
BEGIN
    IF alg IN ('rendezvous', 'jump') THEN
        RETURN (SELECT count(ring_move(ring, k, a, b))::float8 / count(*) FROM keys);
    END IF;
    RETURN (SELECT coalesce(sum(range_end::numeric - range_start + 1), 0)::float8 /
                   CASE alg WHEN 'redis' THEN 16384 WHEN 'ketama' THEN 2::float8 ^ 32 WHEN 'twemproxy' THEN 2::float8 ^ 32
                            WHEN 'libketama' THEN 2::float8 ^ 32 ELSE 2::float8 ^ 64 END
              FROM ring_moves(ring, a, b));
END $$;
-- whether every move between two versions involves node
CREATE FUNCTION moves_involve_only(ring text, a int, b int, node text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT algorithm FROM ring_list WHERE ring_list.ring = moves_involve_only.ring) IN ('rendezvous', 'jump') THEN
        RETURN (SELECT coalesce(bool_and((m).from_node = node OR (m).to_node = node), true)
                  FROM (SELECT ring_move(ring, k, a, b) AS m FROM keys) s WHERE m IS NOT NULL);
    END IF;
    RETURN (SELECT coalesce(bool_and(from_node = node OR to_node = node), true)
              FROM ring_moves(ring, a, b));
END $$;

CREATE TABLE results (algorithm text, nodes int, balance numeric, add numeric, remove numeric,
                      reweight numeric, only_changed boolean, ns_per_key numeric, bytes bigint,
                      ord int);

-- one transaction per change, so that each is a version of its own
CREATE PROCEDURE measure(label text, ord int, n int, create_sql text, suffix text)
LANGUAGE plpgsql AS $$
DECLARE
    rname text := format('cmp_%s_%s', ord, n);
    v1 int;
    v2 int;
    v3 int;
    v4 int;
    bal float8;
    ns numeric;
    mem bigint;
BEGIN
    EXECUTE format(create_sql, quote_literal(rname));
    PERFORM ring_add_node(rname, 'node' || i || suffix) FROM generate_series(1, n) i;
    COMMIT;
    v1 := ring_version(rname);
    SELECT max_share_ratio INTO bal FROM ring_quality(rname);
    ns := ns_per_row(format('ring_shard(%L, k)', rname));
    SELECT c.bytes INTO mem FROM ring_cache_info() c WHERE c.ring = rname AND c.version = v1;
    v2 := ring_add_node(rname, 'node' || (n + 1) || suffix);
    COMMIT;
    v3 := ring_remove_node(rname, 'node1' || suffix);
    COMMIT;
    -- a 'jump' ring has weight 1 only
    IF label <> 'jump' THEN
        v4 := ring_set_weight(rname, 'node2' || suffix, 2);
        COMMIT;
    END IF;
    INSERT INTO results VALUES (
        label, n, round(bal::numeric, 3),
        round((moved(rname, v1, v2) * (n + 1))::numeric, 3),
        round((moved(rname, v2, v3) * (n + 1))::numeric, 3),
        CASE WHEN v4 IS NOT NULL THEN round((moved(rname, v3, v4) / (2.0 / (n + 1) - 1.0 / n))::numeric, 3) END,
        moves_involve_only(rname, v1, v2, 'node' || (n + 1) || suffix)
            AND moves_involve_only(rname, v2, v3, 'node1' || suffix)
            AND (v4 IS NULL OR moves_involve_only(rname, v3, v4, 'node2' || suffix)),
        ns, mem, ord);
END $$;

\echo '== hashing limit: hashtextextended(k, 0), ns/key'
SELECT ns_per_row('hashtextextended(k, 0)') AS ns_per_key;

SELECT format('CALL measure(%L, %s, %s, %L, %L)', a.label, a.ord, n.n, a.create_sql, a.suffix)
  FROM (VALUES (1, 'vnode 256 (hashed)', 'SELECT ring_create(%s, ''vnode'', 256)', ''),
               (2, 'vnode 16 (hashed)', 'SELECT ring_create(%s, ''vnode'', 16)', ''),
               (3, 'vnode 16 balanced', 'SELECT ring_create(%s, ''vnode'', 16, token_allocation => ''balanced'')', ''),
               (4, 'slots 4096', 'SELECT ring_create(%s, ''slots'')', ''),
               (5, 'maglev 65537', 'SELECT ring_create(%s, ''maglev'')', ''),
               (6, 'rendezvous', 'SELECT ring_create(%s, ''rendezvous'')', ''),
               (7, 'redis', 'SELECT ring_create(%s, ''redis'')', ''),
               (8, 'ketama', 'SELECT ring_create(%s, ''ketama'')', ':11211'),
               (9, 'libketama', 'SELECT ring_create(%s, ''libketama'')', ':11211'),
               (10, 'cassandra 16', 'SELECT ring_create(%s, ''cassandra'', 16)', ''),
               (11, 'jump', 'SELECT ring_create(%s, ''jump'')', ''))
       AS a(ord, label, create_sql, suffix),
       (VALUES (5), (10), (100), (1000)) AS n(n)
 ORDER BY a.ord, n.n \gexec

\echo '== every algorithm: balance (max/mean), moved / ideal on add, remove, reweight, lookup ns/key, memory'
SELECT algorithm, nodes, balance AS "max/mean", add AS "add/ideal", remove AS "remove/ideal",
       reweight AS "reweight/ideal", only_changed AS "only changed node", ns_per_key AS "ns/key",
       pg_size_pretty(bytes) AS memory
  FROM results ORDER BY ord, nodes;
