#!/usr/bin/env python3
"""Expected entries for tables only RocksDB 7.8.3 (Debian rocksdb-tools) can
read (format_version 0/1, LevelDB-magic files), in rockrescue's JSONL dump
contract. Everything comes from RocksDB 7.8.3 itself:

* point entries: `sst_dump --command=scan --output_hex` (7.8's SstFileDumper
  walks the table's internal iterator: every stored internal key with its
  sequence number and type, in file order);
* range tombstones: `ldb --db=DBDIR list_file_range_deletes` on the DB that
  wrote the file (7.8's view of the range-deletion block, with sequence
  numbers), cross-checked against the start/end keys, order and count in
  `sst_dump --command=raw` (which prints them without sequence numbers) and
  against the table properties.

usage: old2jsonl.py FILE.sst [DBDIR]   -> JSONL on stdout
       old2jsonl.py --points-only FILE.sst   (point entries only; a cross-check)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

TYPES = {0x0: "delete", 0x1: "put", 0x2: "merge", 0x7: "single_delete",
         0xF: "range_delete", 0x11: "blob_index", 0x14: "delete_with_timestamp",
         0x16: "entity", 0x18: "timed_put"}

SCAN_RE = re.compile(r"^'([0-9A-F]*)' seq:(\d+), type:(\d+) => ([0-9A-F]*)$")
LDB_RE = re.compile(r"^start: ([0-9A-F]*) end: ([0-9A-F]*) seq: (\d+)$")
RAW_RE = re.compile(r"^  HEX    ([0-9A-F]*): ([0-9A-F]*)$")


def run(args, cwd=None):
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {p.stderr}{p.stdout}")
    return p.stdout


def line(key, seq, typ, value):
    return ('{"key":"%s","seq":%d,"type":"%s","value":"%s"}'
            % (key.lower(), seq, typ, value.lower()))


def main():
    args = sys.argv[1:]
    points_only = args[:1] == ["--points-only"]
    if points_only:
        args = args[1:]
    sst = os.path.abspath(args[0])
    dbdir = args[1] if len(args) > 1 else None
    out = []
    for l in run(["sst_dump", f"--file={sst}", "--command=scan", "--output_hex"]).splitlines():
        m = SCAN_RE.match(l)
        if m:
            t = TYPES.get(int(m.group(3)), "other")
            out.append(line(m.group(1), int(m.group(2)), t, m.group(4)))
    # raw dump: range deletions (no seq) and properties
    with tempfile.TemporaryDirectory() as td:
        f = os.path.join(td, "t.sst")
        shutil.copy(sst, f)
        run(["sst_dump", f"--file={f}", "--command=raw"], cwd=td)
        raw = open(os.path.join(td, "t_dump.txt"), errors="replace").read().splitlines()
    raw_ranges, in_rd = [], False
    props = {}
    for l in raw:
        if l.startswith("Range deletions:"):
            in_rd = True
            continue
        if in_rd:
            m = RAW_RE.match(l)
            if m:
                raw_ranges.append((m.group(1), m.group(2)))
            elif l and not l.startswith(("--", "  ASCII", "  ------")):
                in_rd = False
        m = re.match(r"^  # (entries|range deletions): (\d+)$", l)
        if m:
            props[m.group(1)] = int(m.group(2))
    ranges = []
    if points_only:
        sys.stdout.write("".join(l + "\n" for l in out))
        return
    if raw_ranges:
        if not dbdir:
            sys.exit("file has range deletions: need the DB directory for their sequence numbers")
        for l in run(["ldb", f"--db={dbdir}", "list_file_range_deletes",
                      "--max_keys=1000000"]).splitlines():
            m = LDB_RE.match(l.strip())
            if m:
                ranges.append((m.group(1), m.group(2), int(m.group(3))))
        if [(a, b) for a, b, _ in ranges] != raw_ranges:
            sys.exit("ldb list_file_range_deletes disagrees with sst_dump raw")
    for a, b, s in ranges:
        out.append(line(a, s, "range_delete", b))
    if props:  # LevelDB tables have no properties block
        if props.get("entries") != len(out) or props.get("range deletions", 0) != len(ranges):
            sys.exit(f"count mismatch: {props} vs {len(out)} entries, {len(ranges)} ranges")
    if not out:
        sys.exit("no entries")
    sys.stdout.write("".join(l + "\n" for l in out))


if __name__ == "__main__":
    main()
