--
-- Every error a user can cause, with its message.
--
\set VERBOSITY default
\set SHOW_CONTEXT never

SELECT ring_create('e', 'vnode', 4);
SELECT ring_add_node('e', 'n1');
SELECT ring_create('empty');
SELECT ring_create('zero');
SELECT ring_add_node('zero', 'z', 0);

-- error: unknown ring
SELECT ring_shard('nope', 'k');
-- error: unknown ring, other functions
SELECT ring_add_node('nope', 'n');
SELECT ring_remove_node('nope', 'n');
SELECT ring_set_weight('nope', 'n', 1);
SELECT ring_drop('nope');
SELECT ring_version('nope');
SELECT ring_hash('nope', 'k');
SELECT ring_shards('nope', 'k', 2);
SELECT ring_move('nope', 'k', 0, 1);
SELECT * FROM ring_moves('nope', 0, 1);
SELECT * FROM ring_moves('e', 'nope');
SELECT * FROM ring_ownership('nope');
-- error: a ring name too long to exist (the message shows its first 64 bytes)
SELECT ring_shard(repeat('x', 201), 'k');
SELECT ring_version(repeat('x', 201));
SELECT ring_route(repeat('x', 1000000), 'k'::text, 'pg_class');
SELECT ring_route(repeat('é', 500000), 42, 'pg_class');
SELECT * FROM ring_moves(repeat('x', 1000000), 0, 1);

-- error: duplicate ring
SELECT ring_create('e');
-- error: duplicate node
SELECT ring_add_node('e', 'n1');
-- error: unknown node
SELECT ring_remove_node('e', 'n9');
SELECT ring_set_weight('e', 'n9', 2);

-- error: bad weights
SELECT ring_add_node('e', 'n2', -1);
SELECT ring_add_node('e', 'n2', 'NaN');
SELECT ring_add_node('e', 'n2', 'Infinity');
SELECT ring_add_node('e', 'n2', '-Infinity');
SELECT ring_set_weight('e', 'n1', -0.5);
SELECT ring_add_node('e', 'n2', 1e308);
SELECT ring_set_weight('e', 'n1', 262145);
-- error: a ring may not grow beyond 2^24 virtual nodes
SELECT ring_create('huge', 'vnode', 65536);
SELECT ring_add_node('huge', 'h' || i, 16) FROM generate_series(1, 17) i;

-- error: a ring may not have more than 65535 nodes (rows written by hand
-- here, to get there quickly)
SELECT ring_create('crowd', 'vnode', 1);
SELECT ring_add_node('crowd', 'c0');
INSERT INTO consistent_ring.nodes (ring_id, node, weight, added_in)
SELECT ring_id, 'c' || i, 1, 1 FROM consistent_ring.rings, generate_series(1, 65534) i
 WHERE name = 'crowd';
SELECT ring_add_node('crowd', 'one-too-many');
-- error: and a version that has more anyway cannot be compiled
INSERT INTO consistent_ring.nodes (ring_id, node, weight, added_in)
SELECT ring_id, 'extra', 1, 1 FROM consistent_ring.rings WHERE name = 'crowd';
SELECT ring_shard('crowd', 'k');

-- error: bad vnodes
SELECT ring_create('v', 'vnode', 0);
SELECT ring_create('v', 'vnode', 65537);
SELECT ring_create('v', 'vnode', -1);

-- error: unknown algorithm
SELECT ring_create('v', 'modulo');

-- error: bad names
SELECT ring_create('');
SELECT ring_create(repeat('x', 201));
SELECT ring_add_node('e', '');
SELECT ring_add_node('e', repeat('é', 101));

-- error: n < 1
SELECT ring_shards('e', 'k', 0);
SELECT ring_shards('e', 'k', -3);

-- error: versions that do not exist
SELECT ring_shard('e', 'k', 2);
SELECT ring_shard('e', 'k', -1);
SELECT ring_shard('e', 'k', -2147483648);
SELECT ring_move('e', 'k', 0, 5);
SELECT * FROM ring_moves('e', 7, 1);
SELECT * FROM ring_ownership('e', 99);

-- error: lookups on a ring with no nodes, or only weight-0 nodes
SELECT ring_shard('empty', 'k');
SELECT ring_shards('empty', 'k', 1);
SELECT ring_shard('zero', 'k');
SELECT ring_shard('e', 'k', 0);
-- ... but its hash, moves and ownership are fine
SELECT ring_hash('empty', 'abc');
SELECT count(*) FROM ring_moves('empty', 0, 0);

-- error: no default ring set
SELECT ring_shard('k'::text);
SET consistent_ring.default_ring = 'nope';
-- error: default ring does not exist
SELECT ring_shard(42);
RESET consistent_ring.default_ring;

-- error: unknown setting in the reserved prefix
SET consistent_ring.no_such_setting = 1;

-- error: the invalidation trigger function is not for direct calls
SELECT consistent_ring.invalidate_cache();

-- ring_migrate's operator lookup: the key type's comparison operators
SELECT consistent_ring.key_operator('text', '<='), consistent_ring.key_operator('bigint', '='),
       consistent_ring.key_operator('varchar', '>');
-- a type of another schema: its own operators, named with their schema
CREATE SCHEMA ring_ci;
CREATE EXTENSION citext SCHEMA ring_ci;
SELECT consistent_ring.key_operator('ring_ci.citext', '<=');
DROP SCHEMA ring_ci CASCADE;
-- error: not a comparison (shown clipped), a type without a btree class,
-- no such type
SELECT consistent_ring.key_operator('text', '~~');
SELECT consistent_ring.key_operator('text', repeat('<', 100));
SELECT consistent_ring.key_operator('point', '=');
SELECT consistent_ring.key_operator(0, '=');

-- error: ring_route for a relation that does not exist
SELECT ring_route('e', 'k'::text, 0);

-- error: the catalog constraints stop bad rows written by hand
\set VERBOSITY terse
INSERT INTO consistent_ring.nodes (ring_id, node, weight, added_in)
SELECT ring_id, 'bad', -1, 0 FROM consistent_ring.rings WHERE name = 'e';
\set VERBOSITY default

SELECT ring_drop(r) FROM unnest(ARRAY['e', 'empty', 'zero', 'huge', 'crowd']) r;
