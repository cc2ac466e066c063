--
-- ring_quality: balance, and what would move on adding or removing a node.
--
SELECT ring_create('q', 'vnode', 64);
SELECT ring_add_node('q', 'n' || i, 1 + i % 2) FROM generate_series(1, 9) i;

SELECT nodes, round(max_share_ratio::numeric, 3) AS max_ratio, round(min_share_ratio::numeric, 3) AS min_ratio,
       round(add_moved::numeric, 4) AS add_moved, round(add_ideal::numeric, 4) AS add_ideal,
       round(remove_moved::numeric, 4) AS remove_moved, round(remove_ideal::numeric, 4) AS remove_ideal
  FROM ring_quality('q');

-- the balance figures are those of ring_ownership
SELECT abs(q.max_share_ratio - o.max_ratio) < 1e-12 AS max_matches,
       abs(q.min_share_ratio - o.min_ratio) < 1e-12 AS min_matches,
       abs(q.remove_moved - o.max_share) < 1e-12 AS remove_is_largest_share
  FROM ring_quality('q') q,
       (SELECT max(share / ideal_share) AS max_ratio, min(share / ideal_share) AS min_ratio,
               max(share) AS max_share FROM ring_ownership('q') WHERE weight > 0) o;

-- adding the hypothetical node, '(new node)' with the mean weight, for real
-- moves exactly add_moved of the token space, and all of it to that node
CREATE TEMP TABLE before AS SELECT * FROM ring_quality('q');
SELECT ring_add_node('q', '(new node)', (SELECT avg(weight) FROM ring_nodes WHERE ring = 'q'));
SELECT abs(b.add_moved - (SELECT sum(range_end::numeric - range_start + 1) / 2^64
                            FROM ring_moves('q', 1, 2))) < 1e-12 AS add_moved_exact,
       (SELECT bool_and(to_node = '(new node)') FROM ring_moves('q', 1, 2)) AS all_to_the_new_node,
       abs(b.add_ideal - 1.0 / 10) < 1e-12 AS ideal_is_one_in_n_plus_one
  FROM before b;

-- a real node called '(new node)' does not get in the way of the hypothetical one
SELECT round(add_moved::numeric, 6) AS add_moved FROM ring_quality('q');

-- at a version; all-zero weights give no figures
SELECT nodes FROM ring_quality('q', 1);
SELECT ring_create('q0');
SELECT * FROM ring_quality('q0');
SELECT count(*) FROM ring_quality(NULL);

-- error: unknown ring or version
SELECT * FROM ring_quality('nope');
SELECT * FROM ring_quality('q', 99);

SELECT ring_drop('q');
SELECT ring_drop('q0');
