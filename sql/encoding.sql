--
-- Key bytes and node tokens are UTF-8 whatever the database encoding: the
-- same ring in a LATIN1 database places keys exactly as in UTF-8.
--
SELECT ring_create('four');
SELECT ring_add_node('four', n) FROM unnest(ARRAY['db1', 'db2', 'db3', 'db4', 'é']) n;
CREATE TABLE utf8_answers AS
SELECT k, ring_hash('four', k) AS position, ring_shard('four', k) AS owner
  FROM unnest(ARRAY['é', 'song-1', 'ÀÉÎõü', '42']) k;
SELECT ring_hash('four', 'é-0') AS e_token;

CREATE DATABASE regress_ring_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'
    TEMPLATE template0;
\c regress_ring_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION consistent_ring;
SELECT ring_create('four');
SELECT ring_add_node('four', n) FROM unnest(ARRAY['db1', 'db2', 'db3', 'db4', 'é']) n;
-- the same positions and owners as in the UTF-8 database (doc/placement.md vector for é)
SELECT k, ring_hash('four', k) AS position, ring_shard('four', k) AS owner
  FROM unnest(ARRAY['é', 'song-1', 'ÀÉÎõü', '42']) k;
SELECT ring_hash('four', 'é-0') AS e_token;
SELECT ring_hash('four', 'é'::varchar) = ring_hash('four', 'é') AS varchar,
       ring_hash('four', 'é'::bytea) = ring_hash('four', 'é') AS bytea_is_raw;
-- long names grow when converted to UTF-8 (here 199 two-byte characters)
SELECT ring_create('long', 'vnode', 64);
SELECT ring_add_node('long', 'A' || repeat('é', 199));
SELECT count(ring_add_node('long', 'B' || lpad(i::text, 4, '0'))) FROM generate_series(1, 27) i;
SELECT ring_shard('long', 'x') AS looked_up,
       ring_hash('long', 'A' || repeat('é', 199) || '-0') AS long_token;
\c contrib_regression
DROP DATABASE regress_ring_latin1;
SELECT ring_hash('four', 'A' || repeat('é', 199) || '-0') AS long_token_in_utf8;

SELECT * FROM utf8_answers ORDER BY k;
DROP TABLE utf8_answers;
SELECT ring_drop('four');
