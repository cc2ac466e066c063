#!/usr/bin/env bash
# consistent_ring's code under valgrind memcheck: a workload that calls every
# function (lookups of every key type, versions, moves, ownership, a 300-node
# ring, errors, rollback) runs in a single-user backend under valgrind; then
# a second single-user backend on the same data directory runs a sample of
# the hostile calls of test/hostile/ (its objects.sql and calls.sql, then
# hostile.sql here, read with -j).  Any report not suppressed in
# postgres.supp (PostgreSQL's own) fails the run.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chown postgres "$tmp"
cp workload.sql postgres.supp "$tmp/"
# (a blank line after each file ends its last statement, for -j)
for f in ../hostile/objects.sql ../hostile/calls.sql hostile.sql; do cat "$f"; echo; done > "$tmp/hostile.sql"
chmod 644 "$tmp"/*
bindir=$(${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config} --bindir)
# LATIN1, so that key and node text goes through the UTF-8 conversion too
runuser -u postgres -- "$bindir/initdb" -D "$tmp/data" -A trust -E LATIN1 --locale=C > /dev/null
# with RING_SHARED=1 (test/check.sh's second pass) the library is preloaded:
# compiled rings go through shared memory
preload=()
[ "${RING_SHARED:-0}" = 1 ] && preload=(-c shared_preload_libraries=consistent_ring)
memcheck() {
    local name=$1
    shift
    runuser -u postgres -- valgrind --quiet --error-exitcode=3 --suppressions="$tmp/postgres.supp" \
        --log-file="$tmp/valgrind-$name.log" \
        "$bindir/postgres" --single "${preload[@]}" "$@" -D "$tmp/data" postgres < "$tmp/$name.sql" > "$tmp/$name.out" 2>&1
}
rc=0
memcheck workload || rc=$?
errors=$(grep -c "ERROR:" "$tmp/workload.out" || true)
if [ "$rc" = 0 ]; then
    memcheck hostile -j || rc=$?
fi
# the hostile part catches every error of its calls: an ERROR there is its
# own setup failing
hostile=$(sed -n 's/.*WARNING:  \(hostile calls: .*\)/\1/p' "$tmp/hostile.out" 2> /dev/null || true)
hostile_errors=$(grep -c "ERROR:" "$tmp/hostile.out" 2> /dev/null || true)
if [ "$rc" = 0 ] && [ ! -s "$tmp/valgrind-workload.log" ] && [ ! -s "$tmp/valgrind-hostile.log" ] &&
   [ -n "$hostile" ] && [ "$hostile_errors" = 0 ]; then
    echo "valgrind: $(grep -c . "$tmp/workload.sql") statements ($errors of them errors on purpose), no reports"
    echo "valgrind: $hostile, no reports"
    echo "valgrind test ... ok"
else
    cat "$tmp"/valgrind-*.log
    tail -20 "$tmp/workload.out"
    [ -f "$tmp/hostile.out" ] && { grep -B2 -A3 "ERROR:" "$tmp/hostile.out" | head -40; tail -20 "$tmp/hostile.out"; }
    [ -n "$hostile" ] || echo "the hostile sample did not finish"
    echo "valgrind test ... FAILED (exit $rc)"; exit 1
fi
