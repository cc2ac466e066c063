--
-- Key types: a key's bytes are a bytea's own bytes, or the text form of any
-- other type, so equal text forms land together.
--
SELECT ring_create('k');
SELECT ring_add_node('k', n) FROM unnest(ARRAY['a', 'b', 'c']) n;

-- the same text form, the same position
SELECT ring_hash('k', 42) = ring_hash('k', '42') AS int4,
       ring_hash('k', 42::smallint) = ring_hash('k', '42') AS int2,
       ring_hash('k', 42::bigint) = ring_hash('k', '42') AS int8,
       ring_hash('k', 42::numeric) = ring_hash('k', '42') AS numeric,
       ring_hash('k', 'x'::varchar) = ring_hash('k', 'x') AS varchar,
       ring_hash('k', 'x'::name) = ring_hash('k', 'x') AS name,
       ring_hash('k', '\x616263'::bytea) = ring_hash('k', 'abc') AS bytea,
       ring_hash('k', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid)
           = ring_hash('k', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS uuid_lower_case;

-- char(n) goes through the text cast, which drops trailing blanks
SELECT ring_hash('k', 'x  '::char(3)) = ring_hash('k', 'x') AS bpchar;

-- other types use their output function (the form psql displays), so it
-- depends on settings such as DateStyle; boolean is t or f
SELECT ring_hash('k', date '2024-02-29') = ring_hash('k', date '2024-02-29'::text) AS date,
       ring_hash('k', true) = ring_hash('k', 't') AS boolean_as_displayed,
       ring_hash('k', 1.50::numeric(5,2)) = ring_hash('k', '1.50') AS numeric_scale,
       ring_hash('k', '{1,2}'::int[]) = ring_hash('k', '{1,2}') AS array,
       ring_hash('k', '10.0.0.1'::inet) = ring_hash('k', '10.0.0.1') AS inet;

-- domains use their base type
CREATE DOMAIN song_code AS text CHECK (VALUE <> '');
SELECT ring_hash('k', 'abc'::song_code) = ring_hash('k', 'abc') AS domain;
DROP DOMAIN song_code;

-- the fast paths print exactly what the output functions print
SELECT count(*) FILTER (WHERE ring_hash('k', i) IS DISTINCT FROM ring_hash('k', i::text)) AS int4_bad,
       count(*) FILTER (WHERE ring_hash('k', i::bigint * 1000003) IS DISTINCT FROM ring_hash('k', (i::bigint * 1000003)::text)) AS int8_bad,
       count(*) FILTER (WHERE ring_hash('k', (i % 32768)::smallint) IS DISTINCT FROM ring_hash('k', (i % 32768)::text)) AS int2_bad,
       count(*) FILTER (WHERE ring_hash('k', md5(i::text)::uuid) IS DISTINCT FROM ring_hash('k', md5(i::text)::uuid::text)) AS uuid_bad
  FROM generate_series(-50000, 50000) i;
-- every number of digits, on either side of each power of ten, both signs
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ring_hash('k', v) IS DISTINCT FROM ring_hash('k', v::text)) AS int8_bad,
       count(*) FILTER (WHERE v BETWEEN -2147483648 AND 2147483647
                          AND ring_hash('k', v::int) IS DISTINCT FROM ring_hash('k', v::text)) AS int4_bad,
       count(*) FILTER (WHERE v BETWEEN -32768 AND 32767
                          AND ring_hash('k', v::smallint) IS DISTINCT FROM ring_hash('k', v::text)) AS int2_bad
  FROM (SELECT s * ((10::numeric ^ p)::bigint + d) AS v
          FROM generate_series(0, 18) p, generate_series(-1, 1) d, (VALUES (1), (-1)) sg(s)
        UNION ALL
        SELECT s * (2::numeric ^ p)::bigint + d
          FROM generate_series(0, 62) p, generate_series(-1, 1) d, (VALUES (1), (-1)) sg(s)
        UNION ALL
        SELECT i * 92233720368547 - i FROM generate_series(-100000, 100000, 7) i) keys;
SELECT v, ring_hash('k', v) = ring_hash('k', v::text) AS same
  FROM unnest(ARRAY[-9223372036854775808, 9223372036854775807, 0, -1]::bigint[]) v;
SELECT v, ring_hash('k', v) = ring_hash('k', v::text) AS same
  FROM unnest(ARRAY[-2147483648, 2147483647]::int[]) v;
SELECT v, ring_hash('k', v) = ring_hash('k', v::text) AS same
  FROM unnest(ARRAY[-32768, 32767]::smallint[]) v;

-- ring_shard, ring_shards and ring_move agree across key types too
SELECT ring_shard('k', 7) = ring_shard('k', '7') AS shard,
       ring_shards('k', 7::bigint, 2) = ring_shards('k', '7', 2) AS shards,
       ring_move('k', 7::smallint, 0, 1) = ring_move('k', '7', 0, 1) AS move;

-- empty keys and long keys are keys like any other
SELECT ring_shard('k', '') AS empty_text,
       ring_shard('k', ''::bytea) = ring_shard('k', '') AS empty_bytea,
       ring_shard('k', repeat('x', 1000000)) AS long_key;

-- a toasted key is read whole
CREATE TABLE big_keys (k text);
ALTER TABLE big_keys ALTER COLUMN k SET STORAGE EXTERNAL;
INSERT INTO big_keys SELECT repeat(md5(i::text), 1000) FROM generate_series(1, 3) i;
SELECT ring_hash('k', k) = ring_hash('k', k || '') AS same FROM big_keys;
DROP TABLE big_keys;

-- NULL keys give NULL
SELECT ring_hash('k', NULL::int), ring_shard('k', NULL::uuid), ring_shards('k', NULL::bytea, 2),
       ring_move('k', NULL::bigint, 0, 1);

SELECT ring_drop('k');
