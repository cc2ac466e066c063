-- Check every logged answer against the owner at the version its statement
-- saw, computed here in SQL from the catalog's node history and the
-- placement rules (tokens "<node>-<i>", first token at or after the key).
\set ON_ERROR_STOP 1
\c churn
SET client_min_messages = warning;
SELECT ring_id AS rid FROM consistent_ring.rings WHERE name = 'churn' \gset

CREATE TEMP TABLE ref_tokens AS
SELECT v.version AS v, ring_hash('churn', n.node || '-' || i) AS token, n.node
  FROM consistent_ring.versions v
  JOIN consistent_ring.nodes n ON n.ring_id = v.ring_id AND n.added_in <= v.version
                              AND (n.removed_in IS NULL OR n.removed_in > v.version)
  CROSS JOIN LATERAL generate_series(0, CASE WHEN n.weight > 0 THEN greatest(1, round(16 * n.weight)::int) ELSE 0 END - 1) i
 WHERE v.ring_id = :rid;
CREATE INDEX ON ref_tokens (v, token);
ANALYZE ref_tokens;

CREATE FUNCTION ref_owner(ver int, key text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT node FROM ref_tokens WHERE v = ver AND token >= ring_hash('churn', key) ORDER BY token LIMIT 1),
        (SELECT node FROM ref_tokens WHERE v = ver ORDER BY token LIMIT 1))
$$;

CREATE TEMP TABLE checked AS
SELECT l.*, ref_owner(l.v, 'key-' || l.k) AS ref,
       ref_owner(greatest(l.v - 3, 0), 'key-' || l.k) AS ref_old
  FROM churn_log l;

SELECT count(*) AS lookups,
       count(DISTINCT v) AS versions_seen,
       count(*) FILTER (WHERE owner IS DISTINCT FROM ref) AS wrong_owner,
       count(*) FILTER (WHERE (moved IS NULL) <> (ref_old IS NOT DISTINCT FROM ref)
                           OR (moved IS NOT NULL AND ((moved).from_node IS DISTINCT FROM ref_old
                                                      OR (moved).to_node IS DISTINCT FROM ref))) AS wrong_move
  FROM checked \gset
\echo lookups=:lookups versions_seen=:versions_seen wrong_owner=:wrong_owner wrong_move=:wrong_move

-- versions: 0 .. max with no gap and no repeat
SELECT count(*) AS versions, max(version) AS max_version,
       count(*) = max(version) + 1 AS no_gaps
  FROM consistent_ring.versions WHERE ring_id = :rid \gset
\echo versions=:versions max_version=:max_version no_gaps=:no_gaps
