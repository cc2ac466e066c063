#!/usr/bin/env bash
# ALTER EXTENSION consistent_ring UPDATE from every released version (every
# consistent_ring--V.sql install script) to the current default_version
# must give the same objects as a fresh install (test/upgrade/objects.sql:
# members, function definitions, columns, constraints, indexes, triggers,
# views, privileges, dump registrations), and keep the rings.
# Runs against the server in the PG* environment (test/check.sh's cluster).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PGOPTIONS="-c client_min_messages=warning"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" consistent_ring.control)
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

q -c "DROP DATABASE IF EXISTS ring_fresh" -c "CREATE DATABASE ring_fresh"
q -d ring_fresh -c "CREATE EXTENSION consistent_ring"
q -d ring_fresh -f test/upgrade/objects.sql > "$tmp/fresh.sql"
q -c "DROP DATABASE ring_fresh"

ok=1
checked=0
for script in consistent_ring--*.sql; do
    from=${script#consistent_ring--}
    from=${from%.sql}
    case "$from" in *--*) continue ;; esac      # an upgrade script, not a release
    q -c "DROP DATABASE IF EXISTS ring_upgrade" -c "CREATE DATABASE ring_upgrade"
    q -d ring_upgrade -c "CREATE EXTENSION consistent_ring VERSION '$from'" \
                      -c "SELECT ring_create('kept')" -c "SELECT ring_add_node('kept', 'a')" > /dev/null
    q -d ring_upgrade -c "ALTER EXTENSION consistent_ring UPDATE TO '$current'"
    version=$(q -d ring_upgrade -At -c "SELECT extversion FROM pg_extension WHERE extname = 'consistent_ring'")
    owner=$(q -d ring_upgrade -At -c "SELECT ring_shard('kept', 'k')")
    q -d ring_upgrade -f test/upgrade/objects.sql > "$tmp/upgraded.sql"
    q -c "DROP DATABASE ring_upgrade"
    if [ "$version" = "$current" ] && [ "$owner" = a ] && diff -u "$tmp/fresh.sql" "$tmp/upgraded.sql" > "$tmp/diff"; then
        echo "$from -> $current: same objects as a fresh install, rings kept"
    else
        echo "$from -> $current: differs (version $version, owner $owner)"; cat "$tmp/diff"; ok=0
    fi
    checked=$((checked + 1))
done
[ "$checked" -gt 0 ] || ok=0
if [ "$ok" = 1 ]; then echo "upgrade test ... ok"; else echo "upgrade test ... FAILED"; exit 1; fi
