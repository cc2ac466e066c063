#!/usr/bin/env bash
# Crashes in the middle of ring changes: a backend killed (SIGKILL) while
# its change is uncommitted, and the server stopped in immediate mode right
# after a commit.  The ring must be at the old or the new version, never in
# between, and lookups must work.  Runs inside test/check.sh's cluster
# (pg_virtualenv), which it stops and starts with pg_ctlcluster.
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d ring_crash "$@"; }
wait_ready() {
    for _ in $(seq 1 100); do
        psql -X -At -d ring_crash -c "SELECT 1" > /dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "server did not come back"; return 1
}
answers() { q -c "SELECT ring_version('c'), md5(string_agg(ring_shard('c', i), ',' ORDER BY i)) FROM generate_series(1, 5000) i"; }

psql -X -q -c "DROP DATABASE IF EXISTS ring_crash" -c "CREATE DATABASE ring_crash"
q -c "CREATE EXTENSION consistent_ring" -c "SELECT ring_create('c')" \
  -c "SELECT ring_add_node('c', 'n' || i) FROM generate_series(1, 5) i" > /dev/null
before=$(answers)
ok=1

# 1. SIGKILL a backend holding an uncommitted change (its transaction has
#    added a node and reweighted another, then waits)
psql -X -q -d ring_crash -c "BEGIN" -c "SELECT ring_add_node('c', 'n6', 3)" \
     -c "SELECT ring_set_weight('c', 'n1', 0)" -c "SELECT pg_sleep(60)" > /dev/null 2>&1 &
client=$!
pid=""
for _ in $(seq 1 100); do
    pid=$(psql -X -At -d ring_crash -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'")
    [ -n "$pid" ] && break
    sleep 0.1
done
[ -n "$pid" ] || { echo "changing backend not found"; exit 1; }
kill -9 "$pid"
wait "$client" || true
wait_ready
after_kill=$(answers)
if [ "$after_kill" = "$before" ]; then
    echo "killed mid-change: ring still at the old version, same answers ($before)"
else
    echo "killed mid-change: answers changed: $before -> $after_kill"; ok=0
fi
v=$(q -c "SELECT ring_add_node('c', 'n7')")
[ "$v" = 2 ] || { echo "next change got version $v, expected 2"; ok=0; }

# 2. commit a change, then stop the server in immediate mode (no checkpoint)
committed=$(answers)
q -c "SELECT ring_set_weight('c', 'n2', 4)" > /dev/null
expected=$(answers)
pg_ctlcluster 15 regress stop -m immediate
pg_ctlcluster 15 regress start
wait_ready
after_restart=$(answers)
if [ "$after_restart" = "$expected" ] && [ "$after_restart" != "$committed" ]; then
    echo "immediate stop after commit: the committed version is there ($after_restart)"
else
    echo "immediate stop after commit: expected $expected, got $after_restart"; ok=0
fi
# the same lookups through the cache of a long-lived session still agree
n=$(q -c "SELECT count(*) FROM generate_series(1, 5000) i WHERE ring_shard('c', i) IS DISTINCT FROM ring_shard('c', i, ring_version('c'))")
[ "$n" = 0 ] || { echo "$n lookups disagree"; ok=0; }

psql -X -q -c "DROP DATABASE ring_crash"
if [ "$ok" = 1 ]; then echo "crash test ... ok"; else echo "crash test ... FAILED"; exit 1; fi
