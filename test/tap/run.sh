#!/usr/bin/env bash
# The TAP tests of test/tap/ (PostgreSQL::Test::Cluster): real servers on
# 127.0.0.1 made by the tests themselves.  Uses the installed
# consistent_ring, postgres_fdw and PL/Proxy (test/setup.sh installs them).
# PostgreSQL refuses to run as root: as root, the tests run as postgres.
set -euo pipefail
cd "$(dirname "$0")"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
pgxs=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp ./*.pl "$tmp/"
run=()
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres "$tmp"
    run=(runuser -u postgres --)
fi
cd "$tmp"
"${run[@]}" env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGPASSWORD \
    PATH="$bindir:$PATH" TESTDIR="$tmp" PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
    prove ${PROVE_FLAGS:-} -I "$pgxs/src/test/perl" ./*.pl || {
        for f in "$tmp"/tmp_check/log/*; do [ -f "$f" ] && { echo "== $f"; tail -n 40 "$f"; }; done
        echo "real shards tap test ... FAILED"
        exit 1
    }
echo "real shards tap test ... ok"
