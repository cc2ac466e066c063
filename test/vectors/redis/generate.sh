#!/usr/bin/env bash
# Regenerate the Redis reference vectors of this directory (keyslots.csv,
# create_layouts.csv, rebalance.csv) with Debian 12's redis-server,
# redis-tools and python3-redis.  The servers it needs are started on
# 127.0.0.1 (ports 21100-21299 and their bus ports 31100-31299) in a
# temporary directory and stopped again.  Takes about ten minutes.
#
#   test/vectors/redis/generate.sh [keyslots|layouts|rebalance ...]
set -euo pipefail
cd "$(dirname "$0")"

missing=()
for pkg in redis-server redis-tools python3-redis; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    echo "== installing: ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

exec /usr/bin/python3 generate.py "$@"
