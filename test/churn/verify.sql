-- Check every logged answer against the owner at the version its statement
-- saw, computed here in SQL from the catalog's node history and the
-- placement rules (tokens "<node>-<i>", first token at or after the key).
-- The positions of the keys and tokens are test/vectors/churn.csv's, which
-- test/vectors/hostile_reference.py computed outside the extension
-- (python3-xxhash): no reference answer comes from ring_hash.
\set ON_ERROR_STOP 1
\c churn
SET client_min_messages = warning;
SELECT ring_id AS rid FROM consistent_ring.rings WHERE name = 'churn' \gset

CREATE TEMP TABLE ref_positions (string text PRIMARY KEY, position bigint NOT NULL);
\copy ref_positions FROM '../vectors/churn.csv' WITH (FORMAT csv, HEADER)

CREATE TEMP TABLE ref_tokens AS
SELECT v.version AS v, p.position AS token, n.node
  FROM consistent_ring.versions v
  JOIN consistent_ring.nodes n ON n.ring_id = v.ring_id AND n.added_in <= v.version
                              AND (n.removed_in IS NULL OR n.removed_in > v.version)
  CROSS JOIN LATERAL generate_series(0, CASE WHEN n.weight > 0 THEN greatest(1, round(16 * n.weight)::int) ELSE 0 END - 1) i
  LEFT JOIN ref_positions p ON p.string = n.node || '-' || i
 WHERE v.ring_id = :rid;
CREATE INDEX ON ref_tokens (v, token);
ANALYZE ref_tokens;

CREATE FUNCTION ref_owner(ver int, pos bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT node FROM ref_tokens WHERE v = ver AND token >= pos ORDER BY token, node COLLATE "C" LIMIT 1),
        (SELECT node FROM ref_tokens WHERE v = ver ORDER BY token, node COLLATE "C" LIMIT 1))
$$;

CREATE TEMP TABLE checked AS
SELECT l.*, p.position, ref_owner(l.v, p.position) AS ref,
       ref_owner(greatest(l.v - 3, 0), p.position) AS ref_old
  FROM churn_log l LEFT JOIN ref_positions p ON p.string = 'key-' || l.k;

-- tokens and keys the reference has no position for: 0, or the vectors
-- need regenerating
SELECT (SELECT count(*) FROM ref_tokens WHERE token IS NULL)
       + (SELECT count(*) FROM checked WHERE position IS NULL) AS unreferenced \gset
SELECT count(*) AS lookups,
       count(DISTINCT v) AS versions_seen,
       count(*) FILTER (WHERE owner IS DISTINCT FROM ref) AS wrong_owner,
       count(*) FILTER (WHERE (moved IS NULL) <> (ref_old IS NOT DISTINCT FROM ref)
                           OR (moved IS NOT NULL AND ((moved).from_node IS DISTINCT FROM ref_old
                                                      OR (moved).to_node IS DISTINCT FROM ref))) AS wrong_move
  FROM checked \gset
\echo lookups=:lookups versions_seen=:versions_seen wrong_owner=:wrong_owner wrong_move=:wrong_move unreferenced=:unreferenced

-- versions: 0 .. max with no gap and no repeat
SELECT count(*) AS versions, max(version) AS max_version,
       count(*) = max(version) + 1 AS no_gaps
  FROM consistent_ring.versions WHERE ring_id = :rid \gset
\echo versions=:versions max_version=:max_version no_gaps=:no_gaps
