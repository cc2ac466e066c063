#!/usr/bin/env bash
# Regenerate the Cassandra reference vectors of this directory (tokens.csv,
# nodes.csv, replicas.csv) with Debian 12's python3-cassandra (the DataStax
# Python driver), then report where the driver's replica order differs from
# the Cassandra server's rules (compare_server_nts.py).  No server, no
# network; takes a few seconds.
#
#   test/vectors/cassandra/generate.sh [tokens|rings]
set -euo pipefail
cd "$(dirname "$0")"

if ! dpkg-query -W -f='${Status}' python3-cassandra 2>/dev/null | grep -q "install ok installed"; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    echo "== installing: python3-cassandra"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-cassandra >/dev/null
fi

/usr/bin/python3 generate.py "$@"
/usr/bin/python3 compare_server_nts.py
