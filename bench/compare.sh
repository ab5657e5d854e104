#!/usr/bin/env bash
# Benchmark rockrescue against RocksDB's own sst_dump (Debian rocksdb-tools 7.8) on the same ~1 GB
# SSTs written by RocksDB (db_bench 7.8), lz4 and zstd, 8 KiB blocks. Not a test: it prints a table
# of wall-clock times and ratios. Files are read from the page cache (each command runs once to
# warm up, then RUNS times; the best time is kept).
#
#   bench/compare.sh [WORKDIR]      (default /tmp/rockrescue-bench; needs ~3 GB free)
#
# Environment: ENTRIES (default 5000000, 16-byte keys, 400-byte values), RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/rockrescue-bench}
entries=${ENTRIES:-5000000}
runs=${RUNS:-3}
mkdir -p "$work"

command -v db_bench >/dev/null && command -v sst_dump >/dev/null || {
  echo "needs Debian's rocksdb-tools (db_bench, sst_dump): apt-get install rocksdb-tools" >&2; exit 2; }
cargo build --release -q
rr=$PWD/target/release/rockrescue

make_sst() { # $1 = compression
  local db="$work/db-$1"
  if ! ls "$db"/*.sst >/dev/null 2>&1; then
    rm -rf "$db"
    # One big memtable flushed once gives one big SST.
    db_bench --db="$db" --benchmarks=fillseq,flush --num="$entries" --key_size=16 --value_size=400 \
      --compression_type="$1" --block_size=8192 --write_buffer_size=$((6 << 30)) \
      --max_write_buffer_number=2 --disable_auto_compactions=1 --disable_wal=1 \
      --target_file_size_base=$((8 << 30)) --threads=1 >/dev/null
  fi
  ls -S "$db"/*.sst | head -1
}

best() { # runs a command RUNS times after one warm-up, prints the best wall time in seconds
  local t best=""
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq "$runs"); do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  printf '%.3f' "$best"
}

printf '%-6s %8s | %10s %10s %6s | %10s %10s %6s | %10s %10s %6s\n' codec "MB" \
  "check+cs" "verify" "ratio" "scan" "deep" "ratio" "scan-hex" "dump" "ratio"
for codec in lz4 zstd; do
  f=$(make_sst "$codec")
  mb=$(( $(stat -c %s "$f") / 1048576 ))
  a=$(best sst_dump --file="$f" --command=check --verify_checksum)
  b=$(best "$rr" sst verify "$f")
  c=$(best sst_dump --file="$f" --command=scan)
  d=$(best "$rr" sst verify --deep "$f")
  e=$(best sst_dump --file="$f" --command=scan --output_hex)
  g=$(best sh -c "'$rr' sst dump --format jsonl '$f' > /dev/null")
  printf '%-6s %8s | %10s %10s %6.1f | %10s %10s %6.1f | %10s %10s %6.1f\n' "$codec" "$mb" \
    "$a" "$b" "$(echo "$a / $b" | bc -l)" "$c" "$d" "$(echo "$c / $d" | bc -l)" \
    "$e" "$g" "$(echo "$e / $g" | bc -l)"
  echo "        verify throughput: $(echo "$mb / $b" | bc -l | xargs printf '%.0f') MB/s on $(nproc) cores"
done
