#!/usr/bin/env bash
# Writes corpus/db/leveldb-newer/ (a LevelDB directory whose table is newer than its MANIFEST) with
# Debian's libleveldb 1.23 (apt-get install libleveldb-dev); see gen-leveldb-newer.cc.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
g++ -O1 -std=c++17 -o "$tmp/gen" "$here/gen-leveldb-newer.cc" -lleveldb
"$tmp/gen" "$here/db"
