#!/usr/bin/env bash
# Benchmark: `rockrescue tidb export` of one TiKV store holding a generated table of ROWS rows
# (default 10,000,000), and of three copies of that store merged (three replicas holding the same
# data), with RocksDB's own `ldb scan` of the write CF (Debian rocksdb-tools 7.8) in the same run as
# a reference for merely reading the keys. The store is written by oracle/src/bin/gen-tikv-bench.rs
# (real RocksDB 11.8, TiKV's options; no region metadata, so the stores merge key by key).
#
# Usage: bench/tidb-export.sh [ROWS] [WORKDIR]   (WORKDIR default /tmp/rockrescue-tidb-bench)
# Environment: RUNS (default 2) runs of each command in turn; FORMATS (default "csv") the
# single-store formats to time (csv sql jsonl).
#
# Figures (bench/measure.py): wall, rows/s, peak RSS (mapped input pages included), peak anonymous
# memory, scratch at peak (the largest size of OUT/.rockrescue-tmp, where sorted runs and the
# per-store spools go), output size, rows written (CSV lines less headers).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
work=${2:-/tmp/rockrescue-tidb-bench}
runs=${RUNS:-2}
formats=${FORMATS:-csv}
mkdir -p "$work"
cargo build --release -q
cargo build -q -p rockrescue-oracle --bin gen-tikv-bench
if [ ! -f "$work/store/.rows-$rows" ]; then
  ./target/debug/gen-tikv-bench "$work/store" "$rows"
  touch "$work/store/.rows-$rows"
  rm -rf "$work/store2" "$work/store3"
fi
for s in store2 store3; do
  [ -d "$work/$s" ] || cp -r "$work/store" "$work/$s"
done
rr="$work/rockrescue"
cp target/release/rockrescue "$rr"
echo "store: $(du -sb "$work/store/db" | cut -f1) bytes, $rows rows; rockrescue $("$rr" --version)"
jobs=$(python3 - "$work" "$runs" "$rr" "$formats" <<'PY'
import json, shutil, sys
work, runs, rr, formats = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split()
cmds = []
for i, fmt in enumerate(formats):
    o = f"{work}/out-{fmt}"
    cmds.append({"name": f"tidb export --format {fmt} (1 store)",
                 "argv": [rr, "tidb", "export", f"{work}/store", "--out", o, "--format", fmt],
                 "out": o, "scratch": o + "/.rockrescue-tmp",
                 "count": ["csv-rows", o] if fmt == "csv" else None})
o = f"{work}/out-3"
cmds.append({"name": "tidb export --format csv (3 stores, same data)",
             "argv": [rr, "tidb", "export", f"{work}/store", f"{work}/store2", f"{work}/store3",
                      "--out", o, "--format", "csv"],
             "out": o, "scratch": o + "/.rockrescue-tmp", "count": ["csv-rows", o]})
if shutil.which("ldb"):
    o = f"{work}/out-ldb"
    cmds.append({"name": "ldb scan --column_family=write --hex (RocksDB 7.8; raw keys only)",
                 "argv": ["ldb", f"--db={work}/store/db", "--column_family=write",
                          "--ignore_unknown_options", "scan", "--hex"],
                 "out": o, "stdout": o + "/scan.txt", "count": ["lines", o + "/scan.txt"]})
print(json.dumps({"runs": runs, "commands": cmds}))
PY
)
echo "$jobs" | python3 bench/measure.py > "$work/results.json"
python3 - "$work/results.json" "$work" "$rows" <<'PY'
import json, os, sys
res, work, rows = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
def size(p):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(p) for f in fs)
one = size(f"{work}/store/db")
mb = lambda b: f"{b / 1e6:,.0f} MB"
print(f"medians of {len(res[0]['runs'])} runs; input {mb(one)} per store\n")
print("| command | wall | rows/s | input MB/s | peak RSS | peak anon | scratch at peak | output | rows |")
print("|---|---|---|---|---|---|---|---|---|")
for r in res:
    m = r["median"]
    stores = 3 if "3 stores" in r["name"] else 1
    rate = "-" if r["name"].startswith("ldb") else f"{rows / m['wall']:,.0f}"
    bad = "" if r["exits"] == [0] else f" (exit {r['exits']})"
    n = "-" if r["count"] is None else f"{r['count']:,}"
    print(f"| {r['name']} | {m['wall']:.2f} s | {rate} | {stores * one / 1e6 / m['wall']:,.0f} | "
          f"{mb(m['peak_rss'])} | {mb(m['peak_anon'])} | {mb(m['scratch'])} | {mb(m['output'])} | {n}{bad} |")
print("\nEvery run's wall: " + "; ".join(
    r["name"] + ": " + ", ".join(f"{x['wall']:.2f}" for x in r["runs"]) for r in res))
PY
