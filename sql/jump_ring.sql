--
-- 'jump' rings: jump consistent hash over the nodes in the order they
-- joined; removing a node that is not the last moves only its keys
-- (MementoHash), adding one back takes the bucket freed last.
--
SELECT ring_create('jr', 'jump');
SELECT count(ring_add_node('jr', 'b' || i)) FROM generate_series(0, 9) i;
CREATE TEMP TABLE jkeys AS SELECT 'key-' || i AS k FROM generate_series(1, 100000) i;
-- with no node removed it is plain jump hash of the key's position
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_shard('jr', k) IS DISTINCT FROM 'b' || jump_consistent_hash(ring_hash('jr', k), 10)) AS not_jump
  FROM jkeys;
SELECT ring_remove_node('jr', 'b3');
SELECT ring_remove_node('jr', 'b7');
SELECT ring_remove_node('jr', 'b0');
SELECT ring_add_node('jr', 'n1');
SELECT ring_add_node('jr', 'n2');
SELECT ring_add_node('jr', 'n3');
SELECT ring_add_node('jr', 'n4');
SELECT ring_remove_node('jr', 'b9');
-- every change moves only the changed node's keys
SELECT v, string_agg(DISTINCT (m).from_node, ',') AS from_nodes, string_agg(DISTINCT (m).to_node, ',') AS to_nodes,
       round(count(*) / 100000.0, 3) AS moved
  FROM generate_series(2, 9) v, LATERAL (SELECT ring_move('jr', k, v - 1, v) AS m FROM jkeys) s
 WHERE m IS NOT NULL GROUP BY v ORDER BY v;
-- adding back undoes the removals: version 7 is version 1 with b0, b7 and
-- b3 renamed n1, n2 and n3
SELECT count(*) FILTER (WHERE replace(replace(replace(ring_shard('jr', k, 1), 'b0', 'n1'), 'b7', 'n2'), 'b3', 'n3')
                              IS DISTINCT FROM ring_shard('jr', k, 7)) AS differ
  FROM jkeys;
-- balance
SELECT min(c) > 100000 / 10 * 0.95 AS min_ok, max(c) < 100000 / 10 * 1.05 AS max_ok
  FROM (SELECT ring_shard('jr', k), count(*) AS c FROM jkeys GROUP BY 1) s;

-- 100 nodes, 30 removed one at a time from the middle, then 10 added
SELECT ring_create('jr100', 'jump');
SELECT count(ring_add_node('jr100', 'node' || i)) FROM generate_series(1, 100) i;
DO $$
BEGIN
    FOR i IN 1..30 LOOP
        PERFORM ring_remove_node('jr100', 'node' || (1 + (i * 37) % 97));
        COMMIT;
    END LOOP;
    FOR i IN 1..10 LOOP
        PERFORM ring_add_node('jr100', 'new' || i);
        COMMIT;
    END LOOP;
END $$;
SELECT ring_version('jr100');
SELECT count(*) AS changes,
       count(*) FILTER (WHERE only_changed) AS only_changed_node_moved,
       round(min(moved / ideal)::numeric, 2) AS min_moved_vs_ideal,
       round(max(moved / ideal)::numeric, 2) AS max_moved_vs_ideal
  FROM (SELECT v, bool_and(CASE WHEN v <= 31 THEN (m).from_node = 'node' || (1 + ((v - 1) * 37) % 97)
                                ELSE (m).to_node = 'new' || (v - 31) END) AS only_changed,
               count(*)::float8 / 100000 AS moved,
               1.0 / CASE WHEN v <= 31 THEN 100 - (v - 2) ELSE 70 + (v - 31) END AS ideal
          FROM generate_series(2, 41) v, LATERAL (SELECT ring_move('jr100', k, v - 1, v) AS m FROM jkeys) s
         WHERE m IS NOT NULL GROUP BY v) c;
SELECT count(*) AS nodes_used,
       round(max(c) / (100000 / 80.0), 2) < 1.15 AS balanced
  FROM (SELECT ring_shard('jr100', k) AS node, count(*) AS c FROM jkeys GROUP BY 1) s;

-- replicas: the owner, then the owners once those are removed; with zones
-- the rack rule of every algorithm
SELECT ring_shards('jr', 'abc', 4) AS replicas, ring_shard('jr', 'abc') AS owner,
       cardinality(ring_shards('jr', 'abc', 50)) AS at_most;
CREATE TEMP TABLE jreplicas AS SELECT k, ring_shards('jr', k, 3) AS r FROM jkeys WHERE ring_shard('jr', k) = 'b4';
SELECT ring_remove_node('jr', 'b4');
SELECT count(*) AS keys_of_b4,
       count(*) FILTER (WHERE ring_shards('jr', k, 2) IS DISTINCT FROM r[2:3]) AS replicas_not_next_owners
  FROM jreplicas;
SELECT ring_add_node('jr', 'b4');
SELECT ring_create('jz', 'jump');
SELECT count(ring_add_node('jz', 'z' || i, zone => 'rack' || (i % 3))) FROM generate_series(1, 9) i;
SELECT bool_and(cardinality(ARRAY(SELECT DISTINCT right(x, 1)::int % 3 FROM unnest(ring_shards('jz', k, 3)) x)) = 3) AS distinct_racks
  FROM (SELECT k FROM jkeys LIMIT 2000) s;
SELECT round(max_share_ratio::numeric, 2) < 1.05 AS balanced, round(add_moved::numeric, 3) AS add_moved,
       round(add_ideal::numeric, 3) AS add_ideal FROM ring_quality('jr');

-- errors
SELECT ring_add_node('jr', 'heavy', 2);
SELECT ring_add_node('jr', 'drained', 0);
SELECT ring_set_weight('jr', 'n1', 0.5);
SELECT ring_set_weight('jr', 'n1', 1) = ring_version('jr') AS same_weight_no_change;
SELECT * FROM ring_moves('jr', 1, 2);
SELECT ring_svg('jr');
SELECT ring_pin('jr', 'hot', 'n1');
