#!/usr/bin/env bash
# Single lookups on a 1000-node x 256 ring while other things change:
# latency p50 / p99 of SELECT ring_shard('inv_big', key) (pgbench -M
# prepared, 1 client, 10 s, every transaction logged) when quiet, while
# another ring ('inv_small', 2 nodes) changes a weight every 20 ms, and
# while the extension's tables are analyzed every 20 ms.  Against the server
# in the PG* environment.
set -euo pipefail
dir=$(mktemp -d)
bg=
trap 'rm -rf "$dir"; [ -n "$bg" ] && kill $bg 2>/dev/null; true' EXIT

psql -X -q <<'SQL'
CREATE EXTENSION IF NOT EXISTS consistent_ring;
SELECT ring_drop(ring) FROM ring_list WHERE ring IN ('inv_big', 'inv_small');
SELECT ring_create('inv_big');
SELECT count(ring_add_node('inv_big', 'node' || i)) FROM generate_series(1, 1000) i;
SELECT ring_create('inv_small');
SELECT ring_add_node('inv_small', 'a'), ring_add_node('inv_small', 'b');
SQL
echo "\set k random(1, 10000000)" > "$dir/lookup.sql"
echo "SELECT ring_shard('inv_big', 'key-' || :k);" >> "$dir/lookup.sql"

measure() {   # label
    rm -f "$dir"/log.*
    (cd "$dir" && pgbench -n -M prepared -c 1 -T 10 -l --log-prefix=log -f lookup.sql > /dev/null 2>&1)
    cat "$dir"/log.* | awk '{ print $3 }' | sort -n |
        awk -v label="$1" '{ v[NR] = $1 } END {
            printf "%-48s %8d lookups  p50 %6.3f ms  p99 %6.3f ms  max %7.3f ms\n",
                   label, NR, v[int(NR * 0.50)] / 1000, v[int(NR * 0.99)] / 1000, v[NR] / 1000 }'
}

background() {   # sql run every 20 ms in one session, each in its own transaction
    psql -X -q -c "DO \$\$ BEGIN LOOP $1; COMMIT; PERFORM pg_sleep(0.02); END LOOP; END \$\$" > /dev/null 2>&1 &
    bg=$!
    sleep 0.5
}
stop_background() {
    kill $bg 2>/dev/null || true
    wait $bg 2>/dev/null || true
    bg=
    psql -X -q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'DO %LOOP%' AND pid <> pg_backend_pid()" > /dev/null
}

mode=private
[ "$(psql -X -At -c "SELECT current_setting('consistent_ring.shared_cache_size', true) IS NOT NULL")" = t ] && mode=shared
echo "== single lookups on a 1000-node x 256 ring, compiled rings $mode (pgbench -M prepared, 1 client, 10 s)"
measure "quiet"
background "PERFORM ring_set_weight('inv_small', 'a', 1 + random())"
measure "another ring changing every 20 ms"
stop_background
background "ANALYZE consistent_ring.rings, consistent_ring.nodes"
measure "the extension's tables analyzed every 20 ms"
stop_background
measure "quiet again"
psql -X -q -c "SELECT ring_drop('inv_big'), ring_drop('inv_small')" > /dev/null
