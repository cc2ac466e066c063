#!/usr/bin/env bash
# Run every test suite of consistent_ring (test/suites.sh: pg_regress,
# isolation specs, churn test) against a throw-away PostgreSQL 15 cluster
# made by pg_virtualenv.
set -uo pipefail
cd "$(dirname "$0")/.."

bash test/setup.sh || exit 1

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
rm -rf results output_iso regression.diffs regression.out
log=$(mktemp)
pg_virtualenv -t -v 15 -o wal_level=logical bash test/suites.sh 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

for diffs in regression.diffs output_iso/regression.diffs; do
    if [ -s "$diffs" ]; then
        echo "== $diffs"
        cat "$diffs"
    fi
done

passed=$(grep -cE '^(test|     )? *[a-z_ ]+ +\.\.\. ok' "$log")
failed=$(grep -cE '\.\.\. FAILED' "$log")
rm -f "$log"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi
echo "tests: $passed passed, $failed failed"
exit "$rc"
