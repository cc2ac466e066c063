#!/usr/bin/env bash
# Memory of compiled rings with 1, 50 and 200 connections: each connection
# (pgbench, idle between statements) looks keys up on a 1000-node x 256
# ring, against the same connections looking keys up on a 2-node ring (the
# baseline: same catalog caches, plans and connections).  A process's own
# memory is its anonymous memory (Anonymous in /proc/PID/smaps_rollup),
# summed over every process of the server while the connections are open;
# the compiled rings in shared memory (with the library preloaded) are
# added once, at their size (ring_shared_cache), whatever part of them the
# processes touched.  Against the server in the PG* environment
# (max_connections of at least 210); medians of three rounds; prints
# whether the library is preloaded (compiled rings shared).
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
[ "$(id -u)" -eq 0 ] || { echo "sharing.sh reads every server process's /proc: run it as root"; exit 1; }

psql -X -q > /dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS consistent_ring;
SELECT ring_drop(ring) FROM ring_list WHERE ring IN ('mem_big', 'mem_small');
SELECT ring_create('mem_big');
SELECT count(ring_add_node('mem_big', 'node' || i)) FROM generate_series(1, 1000) i;
SELECT ring_create('mem_small');
SELECT ring_add_node('mem_small', 'a'), ring_add_node('mem_small', 'b');
SQL
mode=private
[ "$(psql -X -At -c "SELECT current_setting('consistent_ring.shared_cache_size', true) IS NOT NULL")" = t ] && mode=shared
datadir=$(psql -X -At -c "SHOW data_directory")
postmaster=$(head -1 "$datadir/postmaster.pid")
one_copy=$(psql -X -At -c "SELECT ring_shard('mem_big', 'x') IS NOT NULL; SELECT bytes FROM ring_cache_info() WHERE ring = 'mem_big'" | tail -1)

anon_kb() {   # the server's processes, summed
    local total=0 pid v
    for pid in $postmaster $(pgrep -P "$postmaster"); do
        v=$(awk '/^Anonymous:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# connections that look up 20 keys of a ring, then stay idle (pg_sleep)
# while the memory is read
hold() {   # ring clients -> kB
    printf '\\set k random(1, 10000000)\nSELECT ring_shard(%s, %s || :k) FROM generate_series(1, 20);\nSELECT pg_sleep(2);\n' \
        "'$1'" "'key-'" > "$dir/hold.sql"
    pgbench -n -c "$2" -j 2 -T 300 -f "$dir/hold.sql" > "$dir/pgbench.out" 2>&1 &
    local bg=$! connected=0 tries=0
    # all connected, then a lookup by each (each statement pair takes 2 s)
    while [ "$connected" -lt "$2" ] && [ $tries -lt 120 ]; do
        sleep 0.5
        tries=$((tries + 1))
        connected=$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")
    done
    [ "$connected" -eq "$2" ] || { echo "only $connected of $2 pgbench connections" >&2; cat "$dir/pgbench.out" >&2; exit 1; }
    sleep 3
    anon_kb
    kill -TERM $bg
    wait $bg || true
    # the backends end at their next read (after their pg_sleep)
    while [ "$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")" != 0 ]; do
        sleep 0.5
    done
}

shared_kb() {
    psql -X -At -c "SELECT (coalesce(sum(bytes), 0) / 1024)::bigint FROM ring_shared_cache() WHERE ring = 'mem_big'"
}
echo "== memory of a 1000-node x 256 ring, compiled rings $mode (one compiled copy: $((one_copy / 1024)) kB)"
printf '%-12s %16s %12s %14s %16s %18s\n' connections "processes' kB" "shared kB" "added kB" "added per conn" "added / one copy"
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
for n in 1 50 200; do
    # three rounds, big then small, and the medians: a process's memory
    # moves by a page or two between runs
    bigs=() smalls=()
    for round in 1 2 3; do
        bigs+=("$(hold mem_big "$n")")
        smalls+=("$(hold mem_small "$n")")
    done
    big=$(median3 "${bigs[@]}")
    small=$(median3 "${smalls[@]}")
    shared=$(shared_kb)
    added=$((big - small + shared))
    printf '%-12s %16s %12s %14s %13s kB %17.2fx\n' "$n" "$((big - small))" "$shared" "$added" "$((added / n))" \
        "$(awk -v a="$added" -v c="$one_copy" 'BEGIN { print a * 1024 / c }')"
done
[ "$mode" = shared ] && psql -X -c "SELECT ring, version, backends, bytes FROM ring_shared_cache() ORDER BY ring, version"
psql -X -q -c "SELECT ring_drop('mem_big'), ring_drop('mem_small')" > /dev/null
