#!/usr/bin/env bash
# pg_dump / pg_restore: rings, nodes, weights, servers, version history and
# migration progress come back
# and give the same answers, in plain and custom format, and when the
# extension was created in the target database first.  Runs against the
# server in the PG* environment (test/check.sh's cluster).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export PGOPTIONS="-c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
for db in ring_dump_src ring_dump_plain ring_dump_custom ring_dump_precreated; do
    q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
q -d ring_dump_src -f setup.sql > /dev/null
q -d ring_dump_src -At -f answers.sql > "$tmp/src.out"

pg_dump -d ring_dump_src -Fp -f "$tmp/plain.sql"
pg_dump -d ring_dump_src -Fc -f "$tmp/custom.dump"
q -d ring_dump_plain -f "$tmp/plain.sql" > /dev/null
pg_restore -d ring_dump_custom --exit-on-error "$tmp/custom.dump"
# the extension already there: its CREATE EXTENSION is skipped, data loads
q -d ring_dump_precreated -c "CREATE EXTENSION consistent_ring"
pg_restore -d ring_dump_precreated "$tmp/custom.dump" 2> "$tmp/precreated.err" || true

ok=1
for db in ring_dump_plain ring_dump_custom ring_dump_precreated; do
    q -d "$db" -At -f answers.sql > "$tmp/$db.out"
    if diff -u "$tmp/src.out" "$tmp/$db.out" > "$tmp/$db.diff"; then
        echo "$db: same answers ($(wc -l < "$tmp/src.out") lines: every version of every ring for 2000 keys, moves, history)"
    else
        echo "$db: DIFFERENT answers"; cat "$tmp/$db.diff"; ok=0
    fi
    # the restored ring can be changed further, and versions carry on
    v=$(q -d "$db" -At -c "SELECT ring_add_node('songs', 'db9')")
    [ "$v" = 6 ] || { echo "$db: next version is $v, expected 6"; ok=0; }
    # and the ring id sequence came back too: a new ring does not collide
    q -d "$db" -c "SELECT ring_create('after_restore')" > /dev/null || ok=0
done
grep -v "already exists" "$tmp/precreated.err" | grep -i "error" && { echo "unexpected restore errors"; ok=0; }
for db in ring_dump_src ring_dump_plain ring_dump_custom ring_dump_precreated; do
    q -c "DROP DATABASE $db"
done
if [ "$ok" = 1 ]; then echo "dump and restore test ... ok"; else echo "dump and restore test ... FAILED"; exit 1; fi
