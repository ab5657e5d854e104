#!/usr/bin/env bash
# Writes the RocksDB-7.8.3 part of corpus/sst/ (format_version 0..5) with
# Debian's librocksdb (apt-get install librocksdb-dev rocksdb-tools), and the
# expected entries:
#   * files RocksDB 11.8.1 can read (format_version >= 2): the oracle dumper
#     (target/debug/oracle-dump), cross-checked against 7.8's own view;
#   * format_version 0/1 files: RocksDB 7.8.3 itself via old2jsonl.py
#     (sst_dump scan + ldb list_file_range_deletes).
# Appends rows to corpus/sst/MANIFEST.tsv (run gen-corpus first).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="$here/sst"
oracle="${ORACLE_DUMP:-$root/target/debug/oracle-dump}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
g++ -O1 -std=c++17 -o "$tmp/gen-old" "$here/gen-old.cc" -lrocksdb
"$tmp/gen-old" "$out" > "$tmp/rows.tsv"
while IFS=$'\t' read -r name writer options covers; do
  f="$out/$name.sst"
  db="/tmp/rockrescue-gen-old/$name"
  [ -d "$db" ] || db=""
  if [ -n "$db" ]; then
    python3 "$here/old2jsonl.py" "$f" "$db" > "$tmp/old.jsonl"
  else
    python3 "$here/old2jsonl.py" --points-only "$f" > "$tmp/old.jsonl"
  fi
  if "$oracle" "$f" > "$tmp/new.jsonl" 2> "$tmp/err"; then
    by="oracle-dump (rocksdb-11.8.1)"
    # cross-check: 7.8's view must agree (range tombstones only compared for
    # flushed files, where 7.8's fragmented view equals the stored form)
    if [ -n "$db" ]; then
      cmp -s "$tmp/new.jsonl" "$tmp/old.jsonl" || { echo "$name: 7.8 and 11.8 disagree" >&2; exit 1; }
    else
      cmp -s <(grep -v range_delete "$tmp/new.jsonl") <(grep -v range_delete "$tmp/old.jsonl") \
        || { echo "$name: 7.8 and 11.8 disagree on point entries" >&2; exit 1; }
    fi
    cp "$tmp/new.jsonl" "$out/$name.expected.jsonl"
  else
    by="rocksdb-7.8.3 (sst_dump scan + ldb list_file_range_deletes, old2jsonl.py)"
    cp "$tmp/old.jsonl" "$out/$name.expected.jsonl"
  fi
  fv=$(sst_dump --file="$f" --command=raw >/dev/null 2>&1; grep -m1 "format version:" "${f%.sst}_dump.txt" | awk '{print $3}'; rm -f "${f%.sst}_dump.txt")
  n=$(wc -l < "$out/$name.expected.jsonl")
  printf '%s\t%s\t%s\t%s\t%s\tformat_version=%s entries=%s size=%s\n' "$name" "$writer" "$by" "$options" "$covers" "$fv" "$n" "$(stat -c %s "$f")" >> "$out/MANIFEST.tsv"
  echo "$name: fv=$fv entries=$n by=$by"
done < "$tmp/rows.tsv"
rm -rf /tmp/rockrescue-gen-old
