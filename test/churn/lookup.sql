-- keys key-1 .. key-5000: those whose positions test/vectors/churn.csv has
\set k random(1, 5000)
INSERT INTO churn_log (v, k, owner, moved)
SELECT v, :k, ring_shard('churn', 'key-' || :k),
       ring_move('churn', 'key-' || :k, greatest(v - 3, 0), v)
  FROM (SELECT ring_version('churn') AS v) s;
