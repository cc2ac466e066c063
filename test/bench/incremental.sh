#!/usr/bin/env bash
# Compile time of a 1000-node x 256 ring after a one-node change: the first
# lookup of the new version in a backend that has the previous one compiled
# (built from it), against the same with consistent_ring.incremental_compile
# off (compiled from the catalog alone), and when another backend looked
# the new version up first; a node added, one reweighted, one removed;
# median of 5 changes in one backend.  Against the server in the PG* environment.
set -euo pipefail
psql -X -q <<'SQL'
CREATE EXTENSION IF NOT EXISTS consistent_ring;
SELECT ring_drop(ring) FROM ring_list WHERE ring = 'inc_bench';
SELECT ring_create('inc_bench');
SELECT count(ring_add_node('inc_bench', 'node' || i)) FROM generate_series(1, 1000) i;
SQL
# one backend, as an application's: compile the current version, then 6
# times have another session change the ring and time the first lookup of
# the new version; the first of the 6 is left out (a backend's first large
# allocations cost it page faults that later ones reuse the memory of)
#
# "elsewhere": another backend looks the new version up first, then this
# backend's first lookup is timed: with the library preloaded it finds the
# version compiled in shared memory; without, it compiles its own.
# "elsewhere, in the server": the same, timed inside the server by
# clock_timestamp() around the lookup in a DO block (without the round
# trip, parsing and planning that psql's \timing also shows).
changes() {   # setting kind first-number
    local elsewhere= timed="SELECT ring_shard('inc_bench', 'x')"
    if [ "$1" = elsewhere ] || [ "$1" = elsewhere-server ]; then
        elsewhere="-c \"SELECT ring_shard('inc_bench', 'y')\""
        [ "$1" = elsewhere-server ] &&
            timed="DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN PERFORM ring_shard('inc_bench', 'x'); RAISE NOTICE 'Time: % ms', round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 3); END \$\$"
        set -- on "$2" "$3"
    fi
    local args=(-c "SET consistent_ring.incremental_compile = $1" -c "SELECT ring_shard('inc_bench', 'x')" -c '\timing on')
    for i in 0 1 2 3 4 5; do
        local n=$(($3 + i)) sql
        case $2 in
            add) sql="SELECT ring_add_node('inc_bench', 'extra$n')" ;;
            weight) sql="SELECT ring_set_weight('inc_bench', 'node$n', 2)" ;;
            remove) sql="SELECT ring_remove_node('inc_bench', 'node$n')" ;;
        esac
        args+=(-c "\\! psql -X -q -At -c \"$sql\" $elsewhere > /dev/null" -c "$timed")
    done
    if [[ "$timed" == DO* ]]; then
        psql -X -q -At "${args[@]}" 2>&1 | sed -n 's/^NOTICE:  Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2
    else
        psql -X -q -At "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2
    fi
}
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
mode=private
[ "$(psql -X -At -c "SELECT current_setting('consistent_ring.shared_cache_size', true) IS NOT NULL")" = t ] && mode=shared
echo "== first lookup after a one-node change, 1000-node x 256 ring, one backend, compiled rings $mode (ms, median of 5)"
n=0
for change in add weight remove; do
    for setting in on off elsewhere elsewhere-server; do
        n=$((n + 10))
        mapfile -t t < <(changes "$setting" "$change" "$n")
        label="incremental $setting"
        [ "$setting" = elsewhere ] && label="compiled by another backend"
        [ "$setting" = elsewhere-server ] && label="the same, in the server"
        printf '%-8s %-28s %8s ms   runs: %s\n' "$change" "$label" "$(median "${t[@]}")" "${t[*]}"
    done
done
psql -X -q -c "SELECT ring_drop('inc_bench')" > /dev/null
