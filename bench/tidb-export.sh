#!/usr/bin/env bash
# Benchmark: `rockrescue tidb export` on one TiKV store holding a generated table of ROWS rows
# (default 10,000,000), in each format, with wall time, rows/s and peak RSS; RocksDB's own
# `ldb scan` of the write CF (Debian rocksdb-tools 7.8) as a reference for just reading the keys.
# The store is written by oracle/src/bin/gen-tikv-bench.rs (real RocksDB 11.8, TiKV's options).
#
# Usage: bench/tidb-export.sh [ROWS] [WORKDIR]   (WORKDIR default /tmp/rockrescue-tidb-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
work=${2:-/tmp/rockrescue-tidb-bench}
mkdir -p "$work"
cargo build --release -q
cargo build -q -p rockrescue-oracle --bin gen-tikv-bench
if [ ! -f "$work/store/.rows-$rows" ]; then
  ./target/debug/gen-tikv-bench "$work/store" "$rows"
  touch "$work/store/.rows-$rows"
fi
echo "store: $(du -sh "$work/store/db" | cut -f1), $rows rows"
for fmt in csv sql jsonl; do
  rm -rf "$work/out-$fmt"
  /usr/bin/time -f "%e %M" -o "$work/time" ./target/release/rockrescue tidb export "$work/store" \
    --out "$work/out-$fmt" --format "$fmt" >/dev/null
  read -r secs kb < <(tail -1 "$work/time")
  size=$(du -sh "$work/out-$fmt" | cut -f1)
  echo "$fmt: ${secs}s, $(python3 -c "print(int($rows/$secs))") rows/s, peak RSS $((kb/1024)) MiB, output $size"
  rm -rf "$work/out-$fmt"
done
# References from RocksDB's own tools (Debian rocksdb-tools 7.8): they only print the raw keys and
# write records (no MVCC, no rows), so they bound how fast merely reading the store can be.
if command -v ldb >/dev/null; then
  /usr/bin/time -f "%e %M" -o "$work/time" sh -c "ldb --db='$work/store/db' --column_family=write \
    --ignore_unknown_options scan --hex > /dev/null 2>&1" || true
  read -r secs kb < <(tail -1 "$work/time")
  echo "ldb scan --column_family=write --hex: ${secs}s, peak RSS $((kb/1024)) MiB"
fi
if command -v sst_dump >/dev/null; then
  /usr/bin/time -f "%e %M" -o "$work/time" sh -c "for f in '$work/store/db'/*.sst; do \
    sst_dump --file=\$f --command=scan --output_hex; done > /dev/null 2>&1" || true
  read -r secs kb < <(tail -1 "$work/time")
  echo "sst_dump --command=scan --output_hex over every SST: ${secs}s, peak RSS $((kb/1024)) MiB"
fi
