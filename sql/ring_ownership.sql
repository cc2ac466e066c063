--
-- ring_ownership: the exact share of the token space each node owns.
--

SELECT ring_create('own', 'vnode', 100);
BEGIN;
SELECT ring_add_node('own', 'a', 1);
SELECT ring_add_node('own', 'b', 2);
SELECT ring_add_node('own', 'c', 1);
SELECT ring_add_node('own', 'drained', 0);
COMMIT;

-- shares add up to 1; ideal shares are weight / total weight
SELECT node, weight, vnodes, round(share::numeric, 4) AS share, round(ideal_share::numeric, 4) AS ideal_share,
       abs(share - ideal_share) < 0.1 AS near_ideal
  FROM ring_ownership('own') ORDER BY node;
SELECT abs(sum(share) - 1) < 1e-12 AS shares_sum_to_one,
       abs(sum(ideal_share) - 1) < 1e-12 AS ideal_sum_to_one
  FROM ring_ownership('own');

-- the share is the fraction of keys a node gets, on many keys
SELECT o.node, abs(o.share - coalesce(k.fraction, 0)) < 0.01 AS matches_keys
  FROM ring_ownership('own') o
  LEFT JOIN (SELECT ring_shard('own', i) AS node, count(*) / 200000.0 AS fraction
               FROM generate_series(1, 200000) i GROUP BY 1) k ON k.node = o.node
 ORDER BY o.node;

-- at a version, and NULL for the newest
SELECT ring_remove_node('own', 'b');
SELECT node FROM ring_ownership('own', 1) ORDER BY node;
SELECT node FROM ring_ownership('own', NULL) ORDER BY node;
SELECT count(*) FROM ring_ownership('own', 0);
SELECT count(*) FROM ring_ownership(NULL);

-- one node owns everything
SELECT ring_create('solo', 'vnode', 1);
SELECT ring_add_node('solo', 'x', 3);
SELECT * FROM ring_ownership('solo');

-- all weights 0: no ideal share
SELECT ring_set_weight('solo', 'x', 0);
SELECT * FROM ring_ownership('solo');

SELECT ring_drop('own');
SELECT ring_drop('solo');
