--
-- The 'slots' and 'maglev' algorithms, and balanced token allocation for
-- 'vnode' rings: placement rules, balance, what moves, options and errors.
--

-- slots: 4096 by default; slot = top bits of the biased position
SELECT ring_create('slots', 'slots');
SELECT ring, algorithm, slots, table_size, token_allocation FROM ring_list WHERE ring = 'slots';
SELECT ring_add_node('slots', 'n' || i) FROM generate_series(1, 3) i;
-- every node within one slot of its share (4096 / 3 = 1365.33)
SELECT node, vnodes AS slots FROM ring_nodes WHERE ring = 'slots' ORDER BY node;

-- the rule, checked from the catalog: the owner of a key is the node of the
-- token row ending its slot, slot = (position XOR 2^63) >> (64 - 12)
CREATE FUNCTION slot_of(h bigint, bits int) RETURNS bigint LANGUAGE sql IMMUTABLE
    AS $$ SELECT (h >> (64 - bits)) + (1::bigint << (bits - 1)) $$;
CREATE FUNCTION slot_end(s bigint, bits int) RETURNS bigint LANGUAGE sql IMMUTABLE
    AS $$ SELECT ((s << (64 - bits)) | ((1::bigint << (64 - bits)) - 1)) # (1::bigint << 63) $$;
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_shard('slots', k) IS DISTINCT FROM t.node) AS wrong
  FROM (SELECT 'key-' || i AS k FROM generate_series(1, 5000) i) keys
  LEFT JOIN consistent_ring.tokens t
    ON t.token = slot_end(slot_of(ring_hash('slots', k), 12), 12)
   AND t.removed_in IS NULL
   AND t.ring_id = (SELECT ring_id FROM consistent_ring.rings WHERE name = 'slots');

-- adding a node moves the fewest slots, all to the new node, from the most
-- loaded nodes first (1365/1365/1366 -> 1024 each)
SELECT ring_add_node('slots', 'n4');
SELECT from_node, to_node, sum((range_end::numeric - range_start + 1) / 2::numeric ^ 52)::bigint AS slots
  FROM ring_moves('slots', 1, 2) GROUP BY 1, 2 ORDER BY 1, 2;
SELECT node, vnodes AS slots FROM ring_nodes WHERE ring = 'slots' ORDER BY node;

-- reweighting: only what is needed to get back within one slot
SELECT ring_set_weight('slots', 'n1', 2);
SELECT from_node, to_node, sum((range_end::numeric - range_start + 1) / 2::numeric ^ 52)::bigint AS slots
  FROM ring_moves('slots', 2, 3) GROUP BY 1, 2 ORDER BY 1, 2;
SELECT node, weight, vnodes AS slots FROM ring_nodes WHERE ring = 'slots' ORDER BY node;

-- removing a node: only its slots move
SELECT ring_remove_node('slots', 'n3');
SELECT from_node, to_node, sum((range_end::numeric - range_start + 1) / 2::numeric ^ 52)::bigint AS slots
  FROM ring_moves('slots', 3, 4) GROUP BY 1, 2 ORDER BY 1, 2;

-- weight 0 gives up every slot; back to a weight takes its share again
SELECT ring_set_weight('slots', 'n2', 0);
SELECT node, weight, vnodes AS slots FROM ring_nodes WHERE ring = 'slots' ORDER BY node;

-- doubling the slots moves nothing; each slot's halves keep its owner
SELECT ring_split_slots('slots');
SELECT ring, slots, version FROM ring_list WHERE ring = 'slots';
SELECT count(*) AS moved_ranges FROM ring_moves('slots', 5, 6);
SELECT node, vnodes AS slots FROM ring_nodes WHERE ring = 'slots' ORDER BY node;
SELECT count(*) FILTER (WHERE ring_shard('slots', k, 5) IS DISTINCT FROM ring_shard('slots', k, 6)) AS changed
  FROM (SELECT 'key-' || i AS k FROM generate_series(1, 5000) i) keys;
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_shard('slots', k) IS DISTINCT FROM t.node) AS wrong
  FROM (SELECT 'key-' || i AS k FROM generate_series(1, 5000) i) keys
  LEFT JOIN consistent_ring.tokens t
    ON t.token = slot_end(slot_of(ring_hash('slots', k), 13), 13)
   AND t.removed_in IS NULL
   AND t.ring_id = (SELECT ring_id FROM consistent_ring.rings WHERE name = 'slots');

-- several changes in one transaction: one version, as always; they apply
-- one after the other (n5's slots, taken from everyone, go back to everyone)
BEGIN;
SELECT ring_add_node('slots', 'n5');
SELECT ring_add_node('slots', 'n6', 0.5);
SELECT ring_remove_node('slots', 'n5');
COMMIT;
SELECT ring_version('slots');
SELECT node, weight, vnodes AS slots FROM ring_nodes WHERE ring = 'slots' ORDER BY node;
SELECT DISTINCT to_node FROM ring_moves('slots', 6, 7) ORDER BY 1;
-- split and change in one transaction: as if the split came first
BEGIN;
SELECT ring_split_slots('slots');
SELECT ring_add_node('slots', 'n7');
COMMIT;
SELECT DISTINCT to_node FROM ring_moves('slots', 7, 8);
SELECT node, weight, vnodes AS slots FROM ring_nodes WHERE ring = 'slots' ORDER BY node;

-- a rolled-back change leaves the slots as they were
BEGIN;
SELECT ring_remove_node('slots', 'n1');
ROLLBACK;
SELECT node, vnodes AS slots FROM ring_nodes WHERE ring = 'slots' ORDER BY node;

-- 100 nodes, default slots: balance and movement
SELECT ring_create('slots100', 'slots');
SELECT count(ring_add_node('slots100', 'node' || i)) FROM generate_series(1, 100) i;
SELECT nodes, round(max_share_ratio::numeric, 4) AS max_ratio, round(min_share_ratio::numeric, 4) AS min_ratio,
       round((add_moved / add_ideal)::numeric, 4) AS add_vs_ideal,
       round((remove_moved / remove_ideal)::numeric, 4) AS remove_vs_ideal
  FROM ring_quality('slots100');

-- a one-slot ring
SELECT ring_create('one_slot', 'slots', slots => 1);
SELECT ring_add_node('one_slot', 'a'), ring_add_node('one_slot', 'b');
SELECT node, vnodes AS slots FROM ring_nodes WHERE ring = 'one_slot' ORDER BY node;
SELECT ring_split_slots('one_slot');
SELECT node, vnodes AS slots FROM ring_nodes WHERE ring = 'one_slot' ORDER BY node;
SELECT range_start, range_end, from_node, to_node FROM ring_moves('one_slot', 1, 2);

--
-- balanced token allocation
--
SELECT ring_create('balanced', 'vnode', 16, token_allocation => 'balanced');
SELECT count(ring_add_node('balanced', 'node' || i)) FROM generate_series(1, 20) i;
SELECT nodes, round(max_share_ratio::numeric, 4) AS max_ratio, round(min_share_ratio::numeric, 4) AS min_ratio,
       round((add_moved / add_ideal)::numeric, 4) AS add_vs_ideal,
       round((remove_moved / remove_ideal)::numeric, 4) AS remove_vs_ideal
  FROM ring_quality('balanced');
SELECT count(*) AS tokens, count(DISTINCT node) AS nodes
  FROM consistent_ring.tokens WHERE removed_in IS NULL
   AND ring_id = (SELECT ring_id FROM consistent_ring.rings WHERE name = 'balanced');
-- the same ring with hashed tokens, for comparison
SELECT ring_create('hashed', 'vnode', 16);
SELECT count(ring_add_node('hashed', 'node' || i)) FROM generate_series(1, 20) i;
SELECT round(max_share_ratio::numeric, 4) AS max_ratio FROM ring_quality('hashed');
-- a new node only gains keys; a removed node only loses them; a lighter
-- node only gives up keys
SELECT ring_add_node('balanced', 'new');
SELECT DISTINCT to_node FROM ring_moves('balanced', 1, 2);
SELECT ring_remove_node('balanced', 'node7');
SELECT DISTINCT from_node FROM ring_moves('balanced', 2, 3);
SELECT ring_set_weight('balanced', 'node1', 0.5);
SELECT DISTINCT from_node FROM ring_moves('balanced', 3, 4);
SELECT node, weight, vnodes FROM ring_nodes WHERE ring = 'balanced' AND node IN ('node1', 'new') ORDER BY 1;
-- heavier: more tokens, only gains
SELECT ring_set_weight('balanced', 'node2', 3);
SELECT DISTINCT to_node FROM ring_moves('balanced', 4, 5);
SELECT node, round(share::numeric / ideal_share::numeric, 2) AS share_vs_ideal
  FROM ring_ownership('balanced') WHERE node IN ('node2', 'new', 'node1') ORDER BY 1;
-- the first node's tokens are evenly spaced
SELECT ring_create('even', 'vnode', 4, token_allocation => 'balanced');
SELECT ring_add_node('even', 'a');
SELECT token FROM consistent_ring.tokens
 WHERE ring_id = (SELECT ring_id FROM consistent_ring.rings WHERE name = 'even') ORDER BY token;

--
-- maglev
--
SELECT ring_create('maglev', 'maglev');
SELECT count(ring_add_node('maglev', 'node' || i)) FROM generate_series(1, 10) i;
SELECT nodes, round(max_share_ratio::numeric, 4) AS max_ratio, round(min_share_ratio::numeric, 4) AS min_ratio,
       round((add_moved / add_ideal)::numeric, 4) AS add_vs_ideal,
       round((remove_moved / remove_ideal)::numeric, 4) AS remove_vs_ideal
  FROM ring_quality('maglev');
-- the table's entries, 65537 of them, one per node in turn
SELECT sum(round(share * 65537)) AS entries FROM ring_ownership('maglev');
-- weights: shares follow them
SELECT ring_set_weight('maglev', 'node1', 3);
SELECT node, weight, round(share::numeric / ideal_share::numeric, 3) AS share_vs_ideal
  FROM ring_ownership('maglev') WHERE node IN ('node1', 'node2') ORDER BY 1;
-- a small table: each entry is a range of 2^64 / 7 positions
SELECT ring_create('tiny', 'maglev', table_size => 7);
SELECT ring_add_node('tiny', 'a'), ring_add_node('tiny', 'b');
SELECT node, round(share * 7) AS entries FROM ring_ownership('tiny') ORDER BY 1;
SELECT ring_shard('tiny', 'k1'), ring_shard('tiny', 'k2'), ring_shard('tiny', 'k3');

--
-- every lookup function works on every algorithm
--
SELECT a.name,
       ring_shard(a.name, 'song-1') AS shard,
       cardinality(ring_shards(a.name, 'song-1', 2)) AS shards,
       cardinality(ring_spread(a.name, 'song-1', 3)) AS spread,
       (ring_move(a.name, 'song-1', 0, ring_version(a.name))).to_node = ring_shard(a.name, 'song-1') AS move,
       length(ring_svg(a.name)) AS svg_length
  FROM (VALUES ('slots'), ('balanced'), ('maglev')) a(name);

--
-- errors
--
SELECT ring_create('bad', 'slots', slots => 3);
SELECT ring_create('bad', 'slots', slots => 0);
SELECT ring_create('bad', 'slots', slots => 2097152);
SELECT ring_create('bad', 'vnode', slots => 64);
SELECT ring_create('bad', 'maglev', table_size => 65536);
SELECT ring_create('bad', 'maglev', table_size => 1);
SELECT ring_create('bad', 'maglev', table_size => 16777259);
SELECT ring_create('bad', 'slots', table_size => 7);
SELECT ring_create('bad', 'vnode', token_allocation => 'random');
SELECT ring_create('bad', 'slots', token_allocation => 'balanced');
SELECT ring_create('bad', 'maglev', token_allocation => 'hashed');
SELECT ring_split_slots('balanced');
SELECT ring_split_slots('no_such_ring');
SELECT ring_create('big', 'slots', slots => 1048576);
SELECT ring_split_slots('big');
SELECT ring_add_node('tiny', 'c'), ring_add_node('tiny', 'd'), ring_add_node('tiny', 'e'),
       ring_add_node('tiny', 'f'), ring_add_node('tiny', 'g');
SELECT ring_add_node('tiny', 'h');
-- a NULL ring, algorithm or vnodes creates nothing
SELECT ring_create(NULL), ring_create('x', NULL), ring_create('x', 'vnode', NULL);
SELECT count(*) FROM ring_list WHERE ring = 'x';

--
-- rendezvous (weighted highest random weight)
--
SELECT ring_create('hrw', 'rendezvous');
SELECT count(ring_add_node('hrw', 'node' || i, CASE WHEN i <= 2 THEN 2 ELSE 1 END)) FROM generate_series(1, 8) i;
-- shares of 100,000 keys against weights
SELECT ring_shard('hrw', 'key-' || i) AS node, count(*),
       round(count(*) / 100000.0 / (CASE WHEN ring_shard('hrw', 'key-' || i) IN ('node1', 'node2') THEN 2 ELSE 1 END / 10.0), 2) AS share_vs_ideal
  FROM generate_series(1, 100000) i GROUP BY 1 ORDER BY 1;
-- replicas: the nodes by descending score; zones apply as on the other algorithms
SELECT ring_shards('hrw', 'abc', 8) AS all_nodes, cardinality(ring_shards('hrw', 'abc', 20)) AS at_most,
       (ring_shards('hrw', 'abc', 1))[1] = ring_shard('hrw', 'abc') AS owner_first;
-- adding a node: keys move only to it, about 1/(total weight + 1) of them
SELECT ring_add_node('hrw', 'node9');
SELECT (ring_move('hrw', 'key-' || i, 1, 2)).to_node, count(*) AS keys
  FROM generate_series(1, 100000) i GROUP BY 1 ORDER BY 1;
-- removing one: only its keys move; a weight change: only to or from it
SELECT ring_remove_node('hrw', 'node3');
SELECT DISTINCT (ring_move('hrw', 'key-' || i, 2, 3)).from_node
  FROM generate_series(1, 100000) i ORDER BY 1;
SELECT ring_set_weight('hrw', 'node4', 3);
SELECT DISTINCT (ring_move('hrw', 'key-' || i, 3, 4)).to_node
  FROM generate_series(1, 100000) i ORDER BY 1;
-- sampled shares and quality (2^18 evenly spaced positions)
SELECT node, weight, round((share / ideal_share)::numeric, 1) AS share_vs_ideal FROM ring_ownership('hrw') ORDER BY 1;
SELECT nodes, round(max_share_ratio::numeric, 1) AS max_ratio,
       round((add_moved / add_ideal)::numeric, 1) AS add_vs_ideal
  FROM ring_quality('hrw');
-- no ranges: ring_moves, ring_svg and pins are refused
SELECT * FROM ring_moves('hrw', 1, 2);
SELECT ring_svg('hrw');
SELECT ring_svg('hrw', 1, 2);
SELECT ring_pin('hrw', 'k', 'node1');
SELECT ring_create('hrw_empty', 'rendezvous');
SELECT ring_shard('hrw_empty', 'k');
