#!/usr/bin/env bash
# Writes LevelDB tables with raw user keys (no sequence/type trailer) into corpus/sst/
# through LevelDB's public leveldb::TableBuilder, with Debian's libleveldb 1.23
# (apt-get install libleveldb-dev). The expected entries are LevelDB's own Table
# iterator's reading of each file, which gen-leveldb-raw.cc checks against its inputs.
# Appends rows to MANIFEST.tsv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/sst"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
g++ -O1 -std=c++17 -o "$tmp/gen-leveldb-raw" "$here/gen-leveldb-raw.cc" -lleveldb
"$tmp/gen-leveldb-raw" "$out" > "$tmp/rows.tsv"
while IFS=$'\t' read -r name options covers; do
  n=$(wc -l < "$out/$name.expected.jsonl")
  printf '%s\t%s\t%s\t%s\t%s\tentries=%s size=%s\n' "$name" "leveldb-1.23 TableBuilder (Debian libleveldb1d), raw user keys" \
    "leveldb-1.23 Table iterator (gen-leveldb-raw.cc); equals the generator's inputs" "$options" "$covers" "$n" "$(stat -c %s "$out/$name.sst")" >> "$out/MANIFEST.tsv"
  echo "$name: entries=$n"
done < "$tmp/rows.tsv"
