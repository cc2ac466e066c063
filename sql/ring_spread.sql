--
-- ring_spread: the owners of a hot key salted with suffixes #0 .. #n-1.
--
SELECT ring_create('s', 'vnode', 64);
SELECT ring_add_node('s', 'n' || i) FROM generate_series(1, 6) i;

-- the distinct owners of 'hot#0' .. 'hot#7', in order of the suffix
SELECT ring_spread('s', 'hot', 8);
SELECT array_agg(o ORDER BY first) AS expected
  FROM (SELECT o, min(i) AS first
          FROM (SELECT i, ring_shard('s', 'hot#' || i) AS o FROM generate_series(0, 7) i) x
         GROUP BY o) y;
SELECT count(*) FILTER (WHERE ring_spread('s', 'key' || k, 5) IS DISTINCT FROM (
           SELECT array_agg(o ORDER BY first) FROM (
               SELECT o, min(i) AS first
                 FROM (SELECT i, ring_shard('s', 'key' || k || '#' || i) AS o FROM generate_series(0, 4) i) x
                GROUP BY o) y)) AS disagree
  FROM generate_series(1, 2000) k;

-- a writer picks one suffix, a reader gathers from all: every suffix's
-- owner is among them
SELECT bool_and(ring_shard('s', 'hot#' || i) = ANY (ring_spread('s', 'hot', 8))) AS covered
  FROM generate_series(0, 7) i;

-- keys of other types salt their text form (bytea its bytes)
SELECT ring_spread('s', 42, 6) = ring_spread('s', '42', 6) AS integer_as_text,
       ring_spread('s', '\x616263'::bytea, 6) = ring_spread('s', 'abc', 6) AS bytea_as_bytes,
       ring_spread('s', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 6)
           = ring_spread('s', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 6) AS uuid_as_text;

-- fanout 1 is the owner of the one salted key; a large fanout reaches at
-- most every node
SELECT ring_spread('s', 'hot', 1) = ARRAY[ring_shard('s', 'hot#0')] AS one;
SELECT cardinality(ring_spread('s', 'hot', 1024)) AS at_most_all_nodes;

-- NULL in, NULL out
SELECT ring_spread('s', NULL::text, 3), ring_spread('s', 'k', NULL), ring_spread(NULL, 'k', 3);

-- error: fanout out of range
SELECT ring_spread('s', 'k', 0);
SELECT ring_spread('s', 'k', 1025);
-- error: no nodes
SELECT ring_create('s_empty');
SELECT ring_spread('s_empty', 'k', 2);

SELECT ring_drop('s');
SELECT ring_drop('s_empty');
