#!/usr/bin/env bash
# Regenerates corpus/sst/, corpus/wal/, corpus/db/, corpus/tikv/, corpus/tikv-nochecksum/, corpus/tikv-regions/ and corpus/br/ from scratch. See corpus/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
# The LevelDB and RocksDB 7.8 generators compile against Debian's libraries and read back with its
# tools. Neither the build nor the tests need these packages; only regenerating the corpus does.
missing=()
for pkg in libleveldb-dev librocksdb-dev rocksdb-tools; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "corpus/regen.sh needs: apt-get install ${missing[*]}" >&2
  exit 2
fi
cargo build -p rockrescue-oracle --bins
rm -rf corpus/sst
mkdir -p corpus/sst
cargo run -q -p rockrescue-oracle --bin gen-corpus -- corpus/sst
bash corpus/gen-old.sh
bash corpus/gen-leveldb.sh
bash corpus/gen-leveldb-raw.sh
rm -rf corpus/wal corpus/db
cargo run -q -p rockrescue-oracle --bin gen-wal -- corpus/wal
cargo run -q -p rockrescue-oracle --bin gen-db -- corpus/db
cargo run -q -p rockrescue-oracle --bin gen-bench-db -- corpus/db/levels 12000 --small
bash corpus/gen-leveldb-newer.sh
cargo run -q -p rockrescue-oracle --bin gen-tikv -- corpus/tikv
cargo run -q -p rockrescue-oracle --bin gen-tikv -- --no-checksum corpus/tikv-nochecksum
cargo run -q -p rockrescue-oracle --bin gen-tikv -- --regions corpus/tikv-regions
cargo run -q -p rockrescue-oracle --bin gen-tikv -- --br corpus/br
bash corpus/tikv-damage.sh
echo "corpus: $(ls corpus/sst/*.sst | wc -l) tables, $(du -sh corpus/sst | cut -f1); $(ls corpus/wal/*.log | wc -l) WALs"
