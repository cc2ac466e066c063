#!/usr/bin/env bash
# consistent_ring's code under valgrind memcheck: a workload that calls every
# function (lookups of every key type, versions, moves, ownership, a 300-node
# ring, errors, rollback) runs in a single-user backend under valgrind; any
# report not suppressed in postgres.supp (PostgreSQL's own) fails the run.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chown postgres "$tmp"
cp workload.sql postgres.supp "$tmp/"
chmod 644 "$tmp"/*
bindir=$(${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config} --bindir)
# LATIN1, so that key and node text goes through the UTF-8 conversion too
runuser -u postgres -- "$bindir/initdb" -D "$tmp/data" -A trust -E LATIN1 --locale=C > /dev/null
rc=0
runuser -u postgres -- valgrind --quiet --error-exitcode=3 --suppressions="$tmp/postgres.supp" \
    --log-file="$tmp/valgrind.log" \
    "$bindir/postgres" --single -D "$tmp/data" postgres < "$tmp/workload.sql" > "$tmp/out.log" 2>&1 || rc=$?
errors=$(grep -c "ERROR:" "$tmp/out.log" || true)
if [ "$rc" = 0 ] && [ ! -s "$tmp/valgrind.log" ]; then
    echo "valgrind: $(grep -c . "$tmp/workload.sql") statements ($errors of them errors on purpose), no reports"
    echo "valgrind test ... ok"
else
    cat "$tmp/valgrind.log"; tail -20 "$tmp/out.log"
    echo "valgrind test ... FAILED (exit $rc)"; exit 1
fi
