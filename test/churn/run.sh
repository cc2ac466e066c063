#!/usr/bin/env bash
# Churn test: 8 pgbench clients look keys up (ring_shard, ring_move) while
# one more keeps adding, removing and reweighting nodes; then every answer
# is checked against the owner at the version its statement saw, computed
# from the catalog's node history and positions computed outside the
# extension (test/vectors/churn.csv, not ring_hash).  Runs
# against the server in the PG* environment (test/check.sh's cluster).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${CHURN_SECONDS:-20}

psql -X -q -f setup.sql > /dev/null
pgbench -n -c 1 -T "$seconds" -f change.sql churn > change.log 2>&1 &
changer=$!
pgbench -n -c 8 -j 2 -T "$seconds" -f lookup.sql churn > lookup.log 2>&1 || { cat lookup.log; exit 1; }
wait "$changer" || { cat change.log; exit 1; }
changes=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' change.log)
transactions=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' lookup.log)
failed=$(cat change.log lookup.log | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')

out=$(psql -X -q -At -f verify.sql)
echo "$out"
eval "$(echo "$out" | tr ' ' '\n' | grep '=')"
rm -f change.log lookup.log

echo "churn: $seconds s, 8 lookup clients, $transactions lookup transactions ($lookups logged), $changes ring changes, $failed failed transactions"
ok=1
# every lookup transaction logged its answer, and each had a reference
[ "$lookups" = "$transactions" ] || { echo "$transactions lookup transactions logged $lookups answers"; ok=0; }
[ "$unreferenced" = 0 ] || { echo "$unreferenced keys or tokens missing from test/vectors/churn.csv"; ok=0; }
[ "$wrong_owner" = 0 ] || ok=0
[ "$wrong_move" = 0 ] || ok=0
[ "$no_gaps" = t ] || ok=0
[ "$failed" = 0 ] || ok=0
# every committed change made exactly one version: 0 (create) + 1 (anchor) + changes
[ "$versions" = "$((changes + 2))" ] || { echo "versions $versions, expected $((changes + 2))"; ok=0; }
[ "$versions_seen" -gt 10 ] || { echo "too few versions seen: $versions_seen"; ok=0; }
if [ "$ok" = 1 ]; then echo "churn test ... ok"; else echo "churn test ... FAILED"; exit 1; fi
