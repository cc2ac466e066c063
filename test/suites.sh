#!/usr/bin/env bash
# Every test suite, against the server in the PG* environment (run by
# test/check.sh inside a throw-away cluster): pg_regress (sql/, expected/),
# isolation (test/specs/, test/expected/), the churn test (test/churn/),
# the dump and restore test (test/dump/), the upgrade test (test/upgrade/),
# the logical replication test (test/replication/, which needs wal_level =
# logical), backend memory over 15M rows (test/memory/), a valgrind run of
# a single-user backend (test/valgrind/), the TAP tests with five real
# servers (test/tap/: ring_migrate, PL/Proxy) and the
# crash test (test/crash/, which stops and starts the cluster, so it runs
# last).
set -uo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

rc=0
make -s PG_CONFIG="$PG_CONFIG" installcheck || rc=1
bash test/churn/run.sh || rc=1
bash test/dump/run.sh || rc=1
bash test/upgrade/run.sh || rc=1
bash test/replication/run.sh || rc=1
bash test/memory/run.sh || rc=1
bash test/valgrind/run.sh || rc=1
bash test/tap/run.sh || rc=1
bash test/crash/run.sh || rc=1
exit $rc
