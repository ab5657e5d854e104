#!/usr/bin/env bash
# Benchmark: whole-database salvage (`rockrescue salvage DIR`) against RocksDB's own `ldb dump
# --hex` on the same directory, in one run, output to the same disk; also rockrescue with one
# thread, and (RR_BEFORE=path) an earlier rockrescue build.
#
#   bench/db-salvage.sh [KEYS] [WORKDIR]     (KEYS default 5,000,000: about 430 MB;
#                                             WORKDIR default /tmp/rockrescue-db-bench)
#
# The database is written by oracle/src/bin/gen-bench-db.rs (RocksDB 11.8, format_version 5 so
# that Debian's RocksDB 7.8 `ldb` reads it, lz4, three rounds of overwrites and deletes on several
# levels, unflushed WAL data) and kept in WORKDIR/db-KEYS for later runs.
#
# Every command runs RUNS times (default 3) in turn (bench/measure.py); each figure is the median:
#   wall       elapsed seconds of the whole process
#   peak RSS   the largest resident set (VmHWM), mapped input pages included
#   peak anon  the largest anonymous resident memory (RssAnon, sampled every 20 ms): what the
#              process allocated, without the page cache of the files it maps
#   scratch    the largest size of the temporary directory (OUT/.rockrescue-runs, sampled every
#              20 ms); ldb has none
#   output     bytes written
# and the number of keys each tool wrote (they must agree).
#
# Needs: Debian's rocksdb-tools (ldb; apt-get install rocksdb-tools), python3, a release build
# (the script runs `cargo build --release`) and the oracle (built here; 12-20 minutes the first
# time). ldb reads a copy of the database (ldb may write a LOG file into the directory it opens).
set -euo pipefail
cd "$(dirname "$0")/.."
keys=${1:-5000000}
work=${2:-/tmp/rockrescue-db-bench}
runs=${RUNS:-3}
command -v ldb >/dev/null || { echo "needs ldb: apt-get install rocksdb-tools" >&2; exit 2; }
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 2; }
mkdir -p "$work"
cargo build --release -q
cargo build -q -p rockrescue-oracle --bin gen-bench-db
db="$work/db-$keys"
if [ ! -f "$work/.done-$keys" ]; then
  ./target/debug/gen-bench-db "$db" "$keys"
  rm -rf "$work/ldb-copy-$keys"
  cp -r "$db" "$work/ldb-copy-$keys"
  touch "$work/.done-$keys"
fi
rr="$work/rockrescue"
cp target/release/rockrescue "$rr"
echo "database: $db, $(du -sb "$db" | cut -f1) bytes, $keys keys written"
echo "rockrescue: $("$rr" --version), ldb: $(dpkg-query -W -f '${Version}' rocksdb-tools 2>/dev/null || echo '?')"

# Commands, run in turn RUNS times by bench/measure.py (figures: see there).
jobs=$(python3 - "$work" "$runs" "$db" "$rr" "${RR_BEFORE:-}" "$keys" <<'PY'
import json, sys
work, runs, db, rr, before, keys = sys.argv[1:7]
out = lambda i: f"{work}/out-{i}"
cmds = [
    {"name": "rockrescue salvage (2 threads)", "argv": [rr, "salvage", db, "--out", out(0)],
     "out": out(0), "scratch": out(0) + "/.rockrescue-runs", "count": ["lines", out(0) + "/default.jsonl"]},
    {"name": "rockrescue salvage (RAYON_NUM_THREADS=1)", "argv": [rr, "salvage", db, "--out", out(1)],
     "env": {"RAYON_NUM_THREADS": "1"}, "out": out(1), "scratch": out(1) + "/.rockrescue-runs",
     "count": ["lines", out(1) + "/default.jsonl"]},
    {"name": "ldb dump --hex > file (RocksDB 7.8)",
     "argv": ["ldb", f"--db={work}/ldb-copy-{keys}", "--ignore_unknown_options", "dump", "--hex"],
     "out": out(2), "stdout": out(2) + "/dump.txt", "count": ["lines-minus-1", out(2) + "/dump.txt"]},
]
if before:
    cmds.append({"name": "earlier rockrescue salvage", "argv": [before, "salvage", db, "--out", out(3)],
                 "out": out(3), "scratch": out(3) + "/.rockrescue-runs",
                 "count": ["lines", out(3) + "/default.jsonl"]})
print(json.dumps({"runs": int(runs), "commands": cmds}))
PY
)
echo "$jobs" | python3 bench/measure.py > "$work/results.json"
python3 - "$work/results.json" "$db" <<'PY'
import json, os, sys
res = json.load(open(sys.argv[1]))
size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(sys.argv[2]) for f in fs)
mb = lambda b: f"{b / 1e6:,.0f} MB"
ldb = next(r for r in res if r["name"].startswith("ldb"))["median"]["wall"]
print(f"input: {mb(size)}; medians of {len(res[0]['runs'])} runs\n")
print("| command | wall | ldb / this | peak RSS | peak anon | scratch at peak | output | keys written |")
print("|---|---|---|---|---|---|---|---|")
for r in res:
    m = r["median"]
    bad = "" if r["exits"] == [0] else f" (exit {r['exits']})"
    print(f"| {r['name']} | {m['wall']:.2f} s | {ldb / m['wall']:.2f}x | {mb(m['peak_rss'])} | "
          f"{mb(m['peak_anon'])} | {mb(m['scratch'])} | {mb(m['output'])} | {r['count']:,}{bad} |")
one, two = res[1]["median"]["wall"], res[0]["median"]["wall"]
print(f"\n1 -> 2 threads: {one / two:.2f}x. Every run's wall: " + "; ".join(
    r["name"] + ": " + ", ".join(f"{x['wall']:.2f}" for x in r["runs"]) for r in res))
if len({r["count"] for r in res}) != 1:
    print("KEY COUNTS DIFFER")
    sys.exit(1)
PY
