#!/usr/bin/env bash
# The main job: install what is missing, build, install, start a throw-away
# PostgreSQL 15 cluster and run the music-service walkthrough on 1M songs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/setup.sh
pg_virtualenv -t -v 15 psql -X -q -f test/demo.sql
