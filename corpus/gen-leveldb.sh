#!/usr/bin/env bash
# Writes real LevelDB tables into corpus/sst/ with Debian's libleveldb 1.23
# (apt-get install libleveldb-dev); expected entries come from LevelDB's own
# table reader (gen-leveldb.cc) and are cross-checked against RocksDB 7.8.3's
# reading of the same file (old2jsonl.py). Appends rows to MANIFEST.tsv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/sst"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
g++ -O1 -std=c++17 -o "$tmp/gen-leveldb" "$here/gen-leveldb.cc" -lleveldb
"$tmp/gen-leveldb" "$out" > "$tmp/rows.tsv"
while IFS=$'\t' read -r name options covers; do
  python3 "$here/old2jsonl.py" "$out/$name.sst" | cmp -s - "$out/$name.expected.jsonl" \
    || { echo "$name: LevelDB and RocksDB 7.8 disagree" >&2; exit 1; }
  n=$(wc -l < "$out/$name.expected.jsonl")
  printf '%s\t%s\t%s\t%s\t%s\tentries=%s size=%s\n' "$name" "leveldb-1.23 DB (Debian libleveldb1d), table written by memtable flush on reopen" \
    "leveldb-1.23 Table iterator (gen-leveldb.cc); agrees with rocksdb-7.8.3 sst_dump" "$options" "$covers" "$n" "$(stat -c %s "$out/$name.sst")" >> "$out/MANIFEST.tsv"
  echo "$name: entries=$n"
done < "$tmp/rows.tsv"
rm -rf /tmp/rockrescue-gen-leveldb
