#!/usr/bin/env bash
# Regenerates corpus/sst/ and corpus/wal/ from scratch. See corpus/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
cargo build -p rockrescue-oracle --bins
rm -rf corpus/sst
mkdir -p corpus/sst
cargo run -q -p rockrescue-oracle --bin gen-corpus -- corpus/sst
bash corpus/gen-old.sh
bash corpus/gen-leveldb.sh
rm -rf corpus/wal
cargo run -q -p rockrescue-oracle --bin gen-wal -- corpus/wal
echo "corpus: $(ls corpus/sst/*.sst | wc -l) tables, $(du -sh corpus/sst | cut -f1); $(ls corpus/wal/*.log | wc -l) WALs"
