#!/usr/bin/env bash
# Builds corpus/tikv-damaged/ from the clean stores gen-tikv wrote in corpus/tikv/store{1,2,3}:
# the README's first command salvages it. Three stores, three kinds of damage:
#   store1: one byte flipped in the middle of a data block of its largest write-CF table
#           (the rows of that block are lost in store1; the other stores still hold them)
#   store2: CURRENT and MANIFEST deleted (tables are found by scanning the directory)
#   store3: the newest WAL cut short by 100 bytes (a torn tail: the last writes are lost)
# Deterministic: the flipped block is the middle data block of the largest write-CF SST.
set -euo pipefail
cd "$(dirname "$0")/.."
src=corpus/tikv
dst=corpus/tikv-damaged
rm -rf "$dst"
mkdir -p "$dst"
for s in store1 store2 store3; do
  cp -r "$src/$s" "$dst/$s"
done
rr=./target/release/rockrescue
[ -x "$rr" ] || cargo build --release -q

# store1: the largest table whose properties name the write CF.
best=""; best_size=0
for f in "$dst"/store1/db/*.sst; do
  cf=$("$rr" sst info "$f" --json | python3 -c 'import json,sys; print(dict(json.load(sys.stdin).get("properties",[])).get("rocksdb.column.family.name",""))')
  size=$(stat -c %s "$f")
  if [ "$cf" = write ] && [ "$size" -gt "$best_size" ]; then best=$f; best_size=$size; fi
done
[ -n "$best" ] || { echo "no write-CF table in store1" >&2; exit 1; }
off=$("$rr" sst layout "$best" --json | python3 -c '
import json,sys
blocks=[b for b in json.load(sys.stdin) if b["kind"]=="data"]
b=blocks[len(blocks)//2]
print(b["offset"]+b["size"]//2)')
python3 - "$best" "$off" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
b[off] ^= 0x5a
open(p, 'wb').write(bytes(b))
PY
echo "store1: flipped byte $off of $(basename "$best")"

# store2: no CURRENT, no MANIFEST.
rm -f "$dst"/store2/db/CURRENT "$dst"/store2/db/MANIFEST-*
echo "store2: CURRENT and MANIFEST removed"

# store3: torn WAL tail.
wal=$(ls "$dst"/store3/db/*.log | sort | tail -1)
size=$(stat -c %s "$wal")
if [ "$size" -gt 100 ]; then
  truncate -s $((size - 100)) "$wal"
  echo "store3: $(basename "$wal") cut from $size to $((size - 100)) bytes"
fi
