#!/usr/bin/env bash
# ALTER EXTENSION consistent_ring UPDATE from every released version (every
# consistent_ring--V.sql install script but the current default_version's)
# to the current default_version must give the same objects as a fresh
# install (test/upgrade/objects.sql: members, function definitions,
# columns, constraints, indexes, triggers, views, privileges, dump
# registrations), and keep the rings: the same version and the same owners
# of 200 keys before and after the update.
#
# The versions upgraded from are counted and listed: the run fails unless
# they are exactly the releases of the source tree, the server offers the
# same releases (pg_available_extension_versions: every install script was
# installed), each database really was at the old version before its
# update and at the current one after it, and the update followed a chain
# of upgrade scripts (pg_extension_update_paths).
# Runs against the server in the PG* environment (test/check.sh's cluster).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PGOPTIONS="-c client_min_messages=warning"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" consistent_ring.control)
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
[ -n "$current" ] || { echo "no default_version in consistent_ring.control"; echo "upgrade test ... FAILED"; exit 1; }

# the releases before the current one: from the source tree, and as the
# server offers them
releases=$(for script in consistent_ring--*.sql; do
               v=${script#consistent_ring--}; v=${v%.sql}
               case "$v" in *--*) continue ;; esac      # an upgrade script, not a release
               [ "$v" = "$current" ] || echo "$v"
           done | sort -V | tr '\n' ' ')
releases=${releases% }
offered=$(q -At -c "SELECT string_agg(version, ' ' ORDER BY string_to_array(version, '.')::int[])
                      FROM pg_available_extension_versions
                     WHERE name = 'consistent_ring' AND version <> '$current'")
echo "releases before $current: ${releases:-none}; the server offers: ${offered:-none}"

q -c "DROP DATABASE IF EXISTS ring_fresh" -c "CREATE DATABASE ring_fresh"
q -d ring_fresh -c "CREATE EXTENSION consistent_ring"
q -d ring_fresh -f test/upgrade/objects.sql > "$tmp/fresh.sql"
q -c "DROP DATABASE ring_fresh"

# the rings' answers: version and the owners of 200 keys
answers() { q -d ring_upgrade -At -c "SELECT ring_version('kept') || ' ' || md5(string_agg(ring_shard('kept', 'k' || i), ',' ORDER BY i))
                                        FROM generate_series(1, 200) i"; }

ok=1
upgraded=""
for from in $releases; do
    q -c "DROP DATABASE IF EXISTS ring_upgrade" -c "CREATE DATABASE ring_upgrade"
    q -d ring_upgrade -c "CREATE EXTENSION consistent_ring VERSION '$from'" \
                      -c "SELECT ring_create('kept')" \
                      -c "SELECT ring_add_node('kept', n) FROM unnest(ARRAY['a', 'b', 'c']) n" \
                      -c "SELECT ring_set_weight('kept', 'b', 2)" > /dev/null
    installed=$(q -d ring_upgrade -At -c "SELECT extversion FROM pg_extension WHERE extname = 'consistent_ring'")
    path=$(q -d ring_upgrade -At -c "SELECT path FROM pg_extension_update_paths('consistent_ring')
                                      WHERE source = '$from' AND target = '$current'")
    before=$(answers)
    q -d ring_upgrade -c "ALTER EXTENSION consistent_ring UPDATE TO '$current'"
    version=$(q -d ring_upgrade -At -c "SELECT extversion FROM pg_extension WHERE extname = 'consistent_ring'")
    after=$(answers)
    q -d ring_upgrade -f test/upgrade/objects.sql > "$tmp/upgraded.sql"
    q -c "DROP DATABASE ring_upgrade"
    if [ "$installed" = "$from" ] && [ -n "$path" ] && [ "$version" = "$current" ] &&
       [ "$before" = "$after" ] && [ "${before%% *}" = 2 ] &&
       diff -u "$tmp/fresh.sql" "$tmp/upgraded.sql" > "$tmp/diff"; then
        echo "$from -> $current (scripts $path): same objects as a fresh install, rings kept ($after)"
        upgraded="$upgraded${upgraded:+ }$from"
    else
        echo "$from -> $current: installed $installed, path ${path:-none}, updated to $version, answers $before -> $after"
        cat "$tmp/diff" 2> /dev/null || true
        ok=0
    fi
    rm -f "$tmp/diff"
done

count=$(echo "$upgraded" | wc -w)
echo "upgraded from $count versions: ${upgraded:-none}"
[ -n "$releases" ] || { echo "no release before $current found"; ok=0; }
[ "$offered" = "$releases" ] || { echo "the server offers '$offered', the source tree has '$releases'"; ok=0; }
[ "$upgraded" = "$releases" ] || { echo "upgraded from '$upgraded', expected every release: '$releases'"; ok=0; }
if [ "$ok" = 1 ]; then echo "upgrade test ... ok"; else echo "upgrade test ... FAILED"; exit 1; fi
