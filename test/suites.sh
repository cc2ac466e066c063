#!/usr/bin/env bash
# Every test suite, against the server in the PG* environment (run by
# test/check.sh inside a throw-away cluster): pg_regress (sql/, expected/),
# isolation (test/specs/, test/expected/), the churn test (test/churn/),
# the dump and restore test (test/dump/), the upgrade test (test/upgrade/),
# the logical replication test (test/replication/, which needs wal_level =
# logical), backend memory over 15M rows (test/memory/), a valgrind run of
# a single-user backend (test/valgrind/), the TAP tests with five real
# servers (test/tap/: ring_migrate, PL/Proxy), every function called with
# hostile arguments as two roles (test/hostile/) and the
# crash test (test/crash/, which stops and starts the cluster, so it runs
# last).
#
# Each suite's result and duration go to $SUITE_DIR/results ("name rc
# seconds"), and the whole output of a failed suite to $SUITE_DIR/name.log,
# for test/check.sh's summary.
set -uo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
SUITE_DIR=${SUITE_DIR:-$(mktemp -d)}

rc=0
suite() {
    local name=$1 start out status
    shift
    start=$(date +%s)
    out=$(mktemp)
    "$@" 2>&1 | tee "$out"
    status=${PIPESTATUS[0]}
    name="$name${RING_MODE:+/$RING_MODE}"
    if [ "$status" -ne 0 ]; then
        rc=1
        for diffs in regression.diffs output_iso/regression.diffs; do
            [ -s "$diffs" ] && { echo "== $diffs"; head -n 200 "$diffs"; } >> "$out"
        done
        # a suite stopped by a failing command says nothing itself
        grep -q '\.\.\. FAILED' "$out" || echo "$name ... FAILED (exit $status)" | tee -a "$out"
        cp "$out" "$SUITE_DIR/${name//\//_}.log"
    fi
    rm -f "$out"
    echo "$name $status $(($(date +%s) - start))" >> "$SUITE_DIR/results"
}

suite regress make -s PG_CONFIG="$PG_CONFIG" installcheck
suite churn bash test/churn/run.sh
suite dump bash test/dump/run.sh
suite upgrade bash test/upgrade/run.sh
suite replication bash test/replication/run.sh
suite memory bash test/memory/run.sh
suite valgrind bash test/valgrind/run.sh
suite tap bash test/tap/run.sh
suite hostile bash test/hostile/run.sh
suite crash bash test/crash/run.sh
exit $rc
