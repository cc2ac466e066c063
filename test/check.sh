#!/usr/bin/env bash
# Run every test suite of consistent_ring (test/suites.sh: pg_regress,
# isolation specs, churn, dump and restore, upgrade, replication, memory,
# valgrind, TAP with real servers, crash) against a throw-away PostgreSQL
# 15 cluster made by pg_virtualenv, twice: without and with
# shared_preload_libraries = 'consistent_ring' (compiled rings shared).  Ends with each suite's result and
# duration, the output of any failed suite, and a "tests: N passed, M
# failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

bash test/setup.sh || exit 1

rm -rf results output_iso regression.diffs regression.out
SUITE_DIR=$(mktemp -d)
export SUITE_DIR
trap 'rm -rf "$SUITE_DIR"' EXIT
log="$SUITE_DIR/all.log"
# every suite twice: each backend compiling its own rings, then with the
# library preloaded (compiled rings in shared memory, RING_SHARED=1 for
# the suites that start servers of their own)
rc=0
for mode in private shared; do
    opts=(-o wal_level=logical)
    if [ "$mode" = shared ]; then
        opts+=(-o shared_preload_libraries=consistent_ring)
    fi
    echo "== every suite, compiled rings $mode" | tee -a "$log"
    RING_MODE=$mode RING_SHARED=$([ "$mode" = shared ] && echo 1 || echo 0) \
        pg_virtualenv -t -v 15 "${opts[@]}" bash test/suites.sh 2>&1 | tee -a "$log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
done

# what failed, after the server log pg_virtualenv prints on failure
for diffs in regression.diffs output_iso/regression.diffs; do
    if [ -s "$diffs" ]; then
        echo "== $diffs (first 200 lines)"
        head -n 200 "$diffs"
    fi
done
for f in "$SUITE_DIR"/*.log; do
    [ -f "$f" ] && [ "$f" != "$log" ] || continue
    echo "== output of the failed suite $(basename "$f" .log) (last 60 lines)"
    tail -n 60 "$f"
done
echo "== suites (result, seconds)"
[ -f "$SUITE_DIR/results" ] && awk '{ printf "%-20s %s %6s\n", $1, ($2 == 0 ? "ok    " : "FAILED"), $3 }' "$SUITE_DIR/results"

passed=$(grep -cE '^(test|     )? *[a-z_ ]+ +\.\.\. ok' "$log")
failed=$(grep -cE '\.\.\. FAILED' "$log")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi
echo "tests: $passed passed, $failed failed"
exit "$rc"
