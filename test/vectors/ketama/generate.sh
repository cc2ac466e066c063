#!/bin/bash
# Regenerates the ketama reference vectors of this directory from the real
# clients: libmemcached (libmemcached-dev), twemproxy (nutcracker) and
# uhashring (python3-uhashring).  Debian 12, as root.  See README.md.
#
#   bash test/vectors/ketama/generate.sh [--keep WORKDIR]
#
# Missing Debian packages are installed with apt-get.  The fixtures are
# written to a staging directory first and copied here only when every step,
# including tools/check.py, has succeeded.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
PKGS="gcc libmemcached-dev nutcracker python3 python3-uhashring"
FIXTURES="lists.csv keys.csv placements.csv continuum.csv points.csv"

keep=""
if [ "${1:-}" = "--keep" ]; then
    keep=${2:?--keep needs a directory}
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "installing:$missing" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
for p in libmemcached-dev nutcracker python3-uhashring libc6; do
    echo "using $p $(dpkg-query -W -f='${Version}' "$p")" >&2
done

# nutcracker and the fake servers of the 500-server list need ~1100 descriptors
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
    ulimit -n 4096
fi

if [ -n "$keep" ]; then
    work=$keep
    rm -rf "$work"
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
out=$work/out
mkdir -p "$out"

export PYTHONDONTWRITEBYTECODE=1
cd "$HERE"
$PY tools/inputs.py "$out" "$work"
$PY tools/run_libmemcached.py "$out" "$work"
$PY tools/run_twemproxy.py "$out" "$work"
$PY tools/run_uhashring.py "$out" "$work"
$PY tools/assemble.py "$out" "$work"
$PY tools/check.py "$out"

for f in $FIXTURES; do
    cp "$out/$f" "$HERE/$f"
done
cd "$HERE" && sha256sum $FIXTURES
