#!/usr/bin/env bash
# Install what building consistent_ring needs (Debian 12, PostgreSQL 15),
# build it with warnings as errors, and install it into PostgreSQL 15.
# Used by test/demo.sh, test/check.sh and test/bench/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

missing=()
for pkg in postgresql-15 postgresql-server-dev-15 postgresql-common postgresql-15-plproxy libipc-run-perl libxxhash-dev libmd-dev make gcc valgrind; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== building consistent_ring"
make -s PG_CONFIG="$PG_CONFIG" PG_CFLAGS="-Werror"
$SUDO make -s PG_CONFIG="$PG_CONFIG" install
