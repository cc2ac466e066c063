--
-- jump_consistent_hash: Lamping and Veach's jump consistent hash, checked
-- against test/vectors/jump_reference.py (the paper's reference code).
--
CREATE TEMP TABLE jump_vectors (key bigint, buckets int, bucket int);
\copy jump_vectors FROM 'test/vectors/jump.csv' WITH (FORMAT csv, HEADER)
SELECT count(*) AS vectors,
       count(*) FILTER (WHERE jump_consistent_hash(key, buckets) IS DISTINCT FROM bucket) AS wrong
  FROM jump_vectors;
SELECT key, buckets, jump_consistent_hash(key, buckets)
  FROM (VALUES (0::bigint, 1), (42, 10), (-1, 1000), (9223372036854775807, 65536)) v(key, buckets);

-- one more bucket: each key stays, or moves to the new bucket, and about
-- 1/(n+1) of them move
SELECT n, count(*) FILTER (WHERE a IS DISTINCT FROM b AND b IS DISTINCT FROM n) AS moved_elsewhere,
       round(avg((a IS DISTINCT FROM b)::int), 2) AS moved_fraction, round(1.0 / (n + 1), 2) AS ideal
  FROM (SELECT n, jump_consistent_hash(k, n) AS a, jump_consistent_hash(k, n + 1) AS b
          FROM generate_series(1, 20000) k, (VALUES (4), (9), (99)) v(n)) x
 GROUP BY n ORDER BY n;

-- buckets come out evenly
SELECT max(c) < 1.1 * avg(c) AS even
  FROM (SELECT count(*) AS c FROM generate_series(1, 100000) k
         GROUP BY jump_consistent_hash(hashint8extended(k, 0), 10)) x;

-- NULL in, NULL out
SELECT jump_consistent_hash(NULL, 3), jump_consistent_hash(1, NULL);

-- error: no buckets
SELECT jump_consistent_hash(1, 0);
SELECT jump_consistent_hash(1, -5);
