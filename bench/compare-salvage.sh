#!/usr/bin/env bash
# How much of a damaged SST do RocksDB's own tools get back, compared with `rockrescue sst salvage`?
#
#   bench/compare-salvage.sh [WORKDIR]        (default /tmp/salvage-compare; wiped on every run)
#
# Environment: RR=path/to/rockrescue (default target/release/rockrescue; the script never builds,
#                it copies the binary into WORKDIR first),
#              TABLES="name name ..." (default: the 8 corpus tables below; format_version <= 5 only,
#                RocksDB 7.8 cannot read format_version 6/7),
#              SWEEP=1 also runs ~22,000 single damages through rockrescue alone (see the end;
#                ~3 minutes on 2 cores; failures listed in WORKDIR/sweep-failures.txt).
#
# Needs Debian's rocksdb-tools 7.8.3 (sst_dump, ldb) and python3 (standard library only).
# Without SWEEP it runs in ~10-20 s. Prints a markdown table (also WORKDIR/table.md), writes
# WORKDIR/results.tsv with every raw number, exit status and error message, and keeps every damaged
# file and tool output under WORKDIR/<table>/<case>/. Notes on stderr flag cases where an sst_dump
# mode got more right entries than rockrescue, or rockrescue got fewer than the ideal.
#
# For every table, a clean copy (case "clean") and 11-12 damaged copies are made (each damage on a
# fresh copy of the corpus file; offsets from `rockrescue sst layout --json`):
#   flip-data-first   one bit (XOR 0x10) flipped at the middle byte of data block #0
#   flip-data-mid     the same in data block #(n/2)
#   flip-data-2adj    the same in data blocks #(n/2) and #(n/2+1)
#   flip-index        the same in the index block (partitioned index: the top-level index)
#   flip-index-part   (partitioned index only) the same in index partition #(p/2)
#   flip-metaindex    the same in the metaindex block
#   flip-properties   the same in the properties block
#   flip-footer       the same at footer offset + 2 (inside the metaindex handle)
#   zero-4k-mid       4096 zero bytes at (size/2) rounded down to 4096, clipped to the file
#   zero-4k-first     the first 4096 bytes zeroed
#   truncate-70       only the first floor(size*0.7) bytes kept
#   append-1000       1000 random bytes (fixed seed) appended
#
# Each damaged file F is given to:
#   sst_dump --file=F --command=scan --output_hex            (no checksum verification: the default)
#   sst_dump --file=F --command=scan --output_hex --verify_checksum
#   sst_dump --file=F --command=raw                          (writes F-without-.sst_dump.txt)
#   ldb repair: F copied alone into an empty directory D as 000010.sst, then
#       ldb --db=D repair ; ldb --db=D scan --hex
#     (RocksDB 7.8's RepairDB needs no CURRENT/MANIFEST: it makes a new MANIFEST from the tables it
#     finds. A table whose iteration reports any error is moved whole to D/lost/.)
#   rockrescue sst salvage F --out O                         (entries in O/<basename>.jsonl)
#
# Counting (all comparisons against X.expected.jsonl, the true entries):
#   scan:  lines "'<hexkey>' seq:N, type:T => <hexvalue>"; compared on (key, seq, type, value).
#          sst_dump scan does not print range tombstones, so its clean count is the point entries.
#   raw:   "HEX key: value" lines under "Data Block # i" and "Range deletions:"; the raw dump has no
#          seq/type, so it is compared on (key, value) (range tombstones as (start, end)).
#   ldb:   "0xKEY : 0xVALUE" lines of the repaired DB's scan: the newest visible version of each
#          key, after deletes and range deletions. "live keys" in the expected column is that number
#          computed from the expected entries; wrong = (key, value) not a put of that key.
#   rockrescue: lines of O/<name>.jsonl; `,"unverified":true` stripped before comparing on
#          (key, seq, type, value); wrong = not in the expected file, dup = more copies than expected.
#   ideal: entries of the data blocks and range-deletion block whose bytes (block + 5-byte trailer)
#          the damage did not touch (index/meta/footer damage leaves every entry recoverable). Entry
#          counts per data block come from sst_dump --command=raw on the clean file (its
#          "Data Block # i @ <handle>" sections), matched to the layout by offset; the range-del
#          block holds the expected file's range_delete entries. The sum is checked against the
#          expected total.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/salvage-compare}
rr=${RR:-$repo/target/release/rockrescue}
tables=${TABLES:-"fv2-crc32c-snappy-4k fv3-xxhash-zlib-4k fv4-xxhash64-lz4-4k fv5-xxh3-zstd-4k fv5-partitioned-index fv5-range-del-flush old-fv0-crc32c-snappy old-fv0-none-256"}

for t in sst_dump ldb python3 timeout; do
  command -v "$t" >/dev/null || { echo "needs $t (apt-get install rocksdb-tools python3 coreutils)" >&2; exit 2; }
done
[ -x "$rr" ] || { echo "no rockrescue binary at $rr (cargo build --release, or set RR=)" >&2; exit 2; }
case "$work" in /|"") echo "refusing WORKDIR=$work" >&2; exit 2;; esac
rm -rf "$work"
mkdir -p "$work"
# Work on a private copy: a `cargo build` elsewhere replaces target/release/rockrescue mid-run.
cp "$rr" "$work/rockrescue"
echo "rockrescue: $rr ($("$rr" --version), modified $(date -r "$rr" -u '+%F %T UTC'), sha256 $(sha256sum "$rr" | cut -c1-16))" >&2
echo "sst_dump/ldb: $(dpkg-query -W -f '${Package} ${Version}' rocksdb-tools 2>/dev/null || echo unknown)" >&2
rr=$work/rockrescue

python3 - "$repo" "$work" "$rr" $tables <<'PY'
import collections, json, os, random, re, shutil, subprocess, sys

repo, work, rr, *tables = sys.argv[1:]
corpus = os.path.join(repo, "corpus", "sst")
TIMEOUT = "30"
TYPES = {0: "delete", 1: "put", 2: "merge", 7: "single_delete", 15: "range_delete",
         17: "blob_index", 22: "entity"}

def run(cmd, cwd=None):
    p = subprocess.run(["timeout", TIMEOUT] + cmd, cwd=cwd, capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7F) << s; s += 7
        if c < 0x80:
            return v, i

# ---------------------------------------------------------------- expected entries
def load_expected(name):
    ents = [json.loads(l) for l in open(os.path.join(corpus, name + ".expected.jsonl")) if l.strip()]
    full = collections.Counter((e["key"], e["seq"], e["type"], e["value"]) for e in ents)
    kv = collections.Counter((e["key"], e["value"]) for e in ents)
    points = [e for e in ents if e["type"] != "range_delete"]
    rdels = [e for e in ents if e["type"] == "range_delete"]
    latest = {}
    for e in points:
        if e["key"] not in latest or e["seq"] > latest[e["key"]]["seq"]:
            latest[e["key"]] = e
    def covered(e):
        k = bytes.fromhex(e["key"])
        return any(r["seq"] > e["seq"] and bytes.fromhex(r["key"]) <= k < bytes.fromhex(r["value"])
                   for r in rdels)
    live = {k: e["value"] for k, e in latest.items()
            if e["type"] in ("put", "merge") and not covered(e)}
    puts = {(e["key"], e["value"]) for e in points if e["type"] in ("put", "merge")}
    return dict(total=len(ents), points=len(points), rdels=len(rdels), distinct=len(latest),
                live=len(live), full=full, kv=kv, puts=puts)

# ---------------------------------------------------------------- tool runners + parsers
SCAN_RE = re.compile(r"^'([0-9A-Fa-f]*)' seq:(\d+), type:(\d+) => ([0-9A-Fa-f]*)$")

def sst_dump_scan(f, exp, verify):
    cmd = ["sst_dump", "--file=" + f, "--command=scan", "--output_hex"]
    if verify:
        cmd.append("--verify_checksum")
    rc, out, err = run(cmd)
    got = collections.Counter()
    other = []
    for line in out.splitlines():
        m = SCAN_RE.match(line)
        if m:
            t = TYPES.get(int(m.group(3)), "type%s" % m.group(3))
            got[(m.group(1).lower(), int(m.group(2)), t, m.group(4).lower())] += 1
        elif line and not line.startswith(("options.env", "Process ", "Sst file format", "from [")):
            other.append(line)
    msgs = [l for l in other + err.splitlines() if l.strip()]
    n = sum(got.values())
    wrong = sum(c for k, c in got.items() if k not in exp["full"])
    return dict(n=n, wrong=wrong, rc=rc, err=" | ".join(msgs)[:300])

def parse_raw_dump(path):
    """-> (Counter of (key,value), {(offset,size): entries per data block}, error lines)"""
    kv = collections.Counter(); per_block = {}; errors = []
    state = None
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("Data Block # "):
            h = bytes.fromhex(line.split("@", 1)[1].strip())
            off, i = varint(h, 0); size, _ = varint(h, i)
            state = (off, size); per_block[state] = 0
        elif line.startswith("Range deletions:"):
            state = "rdel"
        elif line and not line[0].isspace() and not line.startswith("---"):
            if "rror" in line or "orrupt" in line:
                errors.append(line.strip())
            state = None
        elif state is not None and line.startswith("  HEX "):
            k, _, v = line[6:].partition(":")       # "  HEX    <key>: <value>" (value may be empty)
            kv[(k.strip().lower(), v.strip().lower())] += 1
            if state != "rdel":
                per_block[state] += 1
    return kv, per_block, errors

def sst_dump_raw(f, exp):
    d = os.path.dirname(f)
    for x in os.listdir(d):
        if x.endswith("_dump.txt"):
            os.remove(os.path.join(d, x))
    rc, out, err = run(["sst_dump", "--file=" + f, "--command=raw"], cwd=d)
    dumps = [x for x in os.listdir(d) if x.endswith("_dump.txt")]
    msgs = [l for l in (out + err).splitlines()
            if l.strip() and not l.startswith(("options.env", "Process ", "Sst file format", "raw dump written"))]
    if not dumps:
        return dict(n=0, wrong=0, rc=rc, err=("no dump file: " + " | ".join(msgs))[:300], per_block={})
    kv, per_block, errors = parse_raw_dump(os.path.join(d, dumps[0]))
    n = sum(kv.values())
    wrong = sum(c for k, c in kv.items() if k not in exp["kv"])
    return dict(n=n, wrong=wrong, rc=rc, err=" | ".join(msgs + errors)[:300], per_block=per_block)

def ldb_repair_scan(f, exp, d):
    os.makedirs(d)
    shutil.copyfile(f, os.path.join(d, "000010.sst"))
    rrc, rout, rerr = run(["ldb", "--db=" + d, "repair"])
    src, sout, serr = run(["ldb", "--db=" + d, "scan", "--hex"])
    n = wrong = 0
    for line in sout.splitlines():
        k, sep, v = line.partition(" : ")
        if sep and k.startswith("0x"):
            n += 1
            if (k[2:].lower(), v[2:].lower()) not in exp["puts"]:
                wrong += 1
    lost = os.listdir(os.path.join(d, "lost")) if os.path.isdir(os.path.join(d, "lost")) else []
    return dict(n=n, wrong=wrong, rc=rrc, scan_rc=src, lost=bool(lost),
                err=" | ".join(l for l in (rerr + serr).splitlines() if "[WARN]" in l or "rror" in l or "orrupt" in l)[:300])

def rockrescue_salvage(f, exp, o):
    rc, out, err = run([rr, "sst", "salvage", f, "--out", o])
    path = os.path.join(o, os.path.basename(f) + ".jsonl")
    got = collections.Counter(); unverified = 0; bad_lines = 0
    if os.path.exists(path):
        for line in open(path, encoding="utf-8", errors="replace"):
            line = line.strip()
            if not line:
                continue
            if ',"unverified":true' in line:
                unverified += 1
                line = line.replace(',"unverified":true', "")
            try:
                e = json.loads(line)
                got[(e["key"], e["seq"], e["type"], e["value"])] += 1
            except Exception:
                bad_lines += 1
    n = sum(got.values()) + bad_lines
    wrong = bad_lines + sum(c for k, c in got.items() if k not in exp["full"])
    dup = sum(max(0, c - exp["full"][k]) for k, c in got.items() if k in exp["full"])
    status = ""
    try:
        rep = json.load(open(os.path.join(o, "damage-report.json")))
        fr = rep["files"][0]
        status = "%s/%s est_lost=%s" % (fr.get("status"), fr.get("method"),
                                        sum(x.get("estimated_entries_lost") or 0 for x in fr.get("damaged", [])))
    except Exception as ex:
        status = "no report: %s" % ex
    return dict(n=n, wrong=wrong, dup=dup, unverified=unverified, rc=rc, err=status)

# ---------------------------------------------------------------- damage cases
def layout(f):
    rc, out, err = run([rr, "sst", "layout", f, "--json"])
    return json.loads(out)

def damage_cases(data, blocks):
    """-> list of (case, damaged bytes, touched byte ranges [(lo, hi)])"""
    size = len(data)
    data_blocks = [b for b in blocks if b["kind"] == "data"]
    kind = lambda k: [b for b in blocks if b["kind"] == k]
    def mid(b):
        return b["offset"] + b["size"] // 2
    def flip(*positions):
        d = bytearray(data)
        for p in positions:
            d[p] ^= 0x10
        return bytes(d), [(p, p + 1) for p in positions]
    cases = []
    n = len(data_blocks)
    cases.append(("flip-data-first",) + flip(mid(data_blocks[0])))
    cases.append(("flip-data-mid",) + flip(mid(data_blocks[n // 2])))
    cases.append(("flip-data-2adj",) + flip(mid(data_blocks[n // 2]), mid(data_blocks[n // 2 + 1])))
    parts = kind("index_partition")
    cases.append(("flip-index",) + flip(mid(kind("index")[0])))
    if parts:
        cases.append(("flip-index-part",) + flip(mid(parts[len(parts) // 2])))
    cases.append(("flip-metaindex",) + flip(mid(kind("metaindex")[0])))
    cases.append(("flip-properties",) + flip(mid(kind("properties")[0])))
    cases.append(("flip-footer",) + flip(kind("footer")[0]["offset"] + 2))
    off = (size // 2) // 4096 * 4096
    end = min(off + 4096, size)
    cases.append(("zero-4k-mid", data[:off] + bytes(end - off) + data[end:], [(off, end)]))
    end = min(4096, size)
    cases.append(("zero-4k-first", bytes(end) + data[end:], [(0, end)]))
    keep = int(size * 0.7)
    cases.append(("truncate-70", data[:keep], [(keep, size)]))
    rnd = random.Random(20240611)
    cases.append(("append-1000", data + bytes(rnd.randrange(256) for _ in range(1000)), []))
    return cases

def ideal(blocks, counts, touched):
    """entries of data / range-del blocks whose bytes + trailer are untouched"""
    tot = 0
    for b in blocks:
        c = counts.get(b["offset"])
        if c is None:
            continue
        lo, hi = b["offset"], b["offset"] + b["size"] + 5
        if not any(a < hi and lo < z for a, z in touched):
            tot += c
    return tot

# ---------------------------------------------------------------- main loop
rows = []
meta = {}
tsv = open(os.path.join(work, "results.tsv"), "w")
cols = ["table", "case", "expected", "distinct", "live", "ideal",
        "scan_n", "scan_wrong", "scan_rc", "scan_err",
        "scanv_n", "scanv_wrong", "scanv_rc", "scanv_err",
        "raw_n", "raw_wrong", "raw_rc", "raw_err",
        "ldb_n", "ldb_wrong", "ldb_repair_rc", "ldb_lost", "ldb_err",
        "rr_n", "rr_wrong", "rr_dup", "rr_unverified", "rr_rc", "rr_report"]
tsv.write("\t".join(cols) + "\n")
for name in tables:
    src = os.path.join(corpus, name + ".sst")
    exp = load_expected(name)
    data = open(src, "rb").read()
    blocks = layout(src)
    tdir = os.path.join(work, name)
    os.makedirs(os.path.join(tdir, "clean"))
    clean = os.path.join(tdir, "clean", name + ".sst")
    shutil.copyfile(src, clean)
    # per-block entry counts from RocksDB's own raw dump of the clean file
    raw_clean = sst_dump_raw(clean, exp)
    counts = {}
    for (off, sz), c in raw_clean["per_block"].items():
        counts[off] = c
    for b in blocks:
        if b["kind"] == "range_del":
            counts[b["offset"]] = exp["rdels"]
    ideal_ok = (sum(counts.values()) == exp["total"]
                and all(b["offset"] in counts for b in blocks if b["kind"] == "data"))
    meta[name] = (data, blocks, counts, ideal_ok, exp)
    if not ideal_ok:
        print("warning: %s: per-block counts (%d) do not add up to %d; ideal left blank"
              % (name, sum(counts.values()), exp["total"]), file=sys.stderr)
    for case, damaged, touched in [("clean", data, [])] + damage_cases(data, blocks):
        cdir = os.path.join(tdir, case)
        os.makedirs(cdir, exist_ok=True)
        f = os.path.join(cdir, name + ".sst")
        open(f, "wb").write(damaged)
        r = dict(table=name, case=case, expected=exp["total"], distinct=exp["distinct"],
                 live=exp["live"], points=exp["points"],
                 ideal=ideal(blocks, counts, touched) if ideal_ok else "")
        s = sst_dump_scan(f, exp, False)
        sv = sst_dump_scan(f, exp, True)
        rw = sst_dump_raw(f, exp)
        lb = ldb_repair_scan(f, exp, os.path.join(cdir, "ldb-db"))
        rs = rockrescue_salvage(f, exp, os.path.join(cdir, "rockrescue-out"))
        for p, d in (("scan", s), ("scanv", sv), ("raw", rw), ("rr", rs)):
            for k, v in d.items():
                r[p + "_" + k] = v
        r.update(ldb_n=lb["n"], ldb_wrong=lb["wrong"], ldb_repair_rc=lb["rc"], ldb_lost=lb["lost"],
                 ldb_err=lb["err"], rr_report=rs["err"])
        rows.append(r)
        tsv.write("\t".join(str(r.get(c, "")).replace("\t", " ").replace("\n", " ") for c in cols) + "\n")
tsv.close()

# ---------------------------------------------------------------- markdown table
def sst_cell(n, wrong, rc, err):
    s = str(n)
    notes = []
    if err:
        if "not a valid SST" in err or "no dump file" in err:
            notes.append("open failed")
        else:
            notes.append("error")
    if rc:
        notes.append("rc %d" % rc)
    if notes:
        s += " (" + ", ".join(notes) + ")"
    if wrong:
        s += " **%d wrong**" % wrong
    return s

out = []
out.append("| table | damage | expected entries / distinct keys / live keys | ideal (intact blocks) "
           "| sst_dump scan | sst_dump scan --verify_checksum | sst_dump raw | ldb repair+scan (keys) "
           "| rockrescue recovered | rockrescue wrong | rockrescue unverified |")
out.append("|" + "---|" * 11)
last = None
for r in rows:
    t = r["table"] if r["table"] != last else ""
    e = "%d / %d / %d" % (r["expected"], r["distinct"], r["live"]) if r["table"] != last else ""
    last = r["table"]
    ldb = str(r["ldb_n"])
    if r["ldb_lost"]:
        ldb += " (table moved to lost/)"
    if r["ldb_repair_rc"]:
        ldb += " (repair rc %d)" % r["ldb_repair_rc"]
    if r["ldb_wrong"]:
        ldb += " **%d wrong**" % r["ldb_wrong"]
    rrn = str(r["rr_n"])
    if r["rr_dup"]:
        rrn += " (%d dup)" % r["rr_dup"]
    wrong = "**%d**" % r["rr_wrong"] if r["rr_wrong"] else "0"
    out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        t, r["case"], e, r["ideal"],
        sst_cell(r["scan_n"], r["scan_wrong"], r["scan_rc"], r["scan_err"]),
        sst_cell(r["scanv_n"], r["scanv_wrong"], r["scanv_rc"], r["scanv_err"]),
        sst_cell(r["raw_n"], r["raw_wrong"], r["raw_rc"], r["raw_err"]),
        ldb, rrn, wrong, r["rr_unverified"]))
table = "\n".join(out) + "\n"
open(os.path.join(work, "table.md"), "w").write(table)
print(table)

# flags worth a look
for r in rows:
    flags = []
    if r["rr_wrong"] or r["rr_dup"]:
        flags.append("rockrescue wrong=%s dup=%s" % (r["rr_wrong"], r["rr_dup"]))
    rr_ok = r["rr_n"] - r["rr_wrong"] - r["rr_dup"]
    for p, label in (("scan", "scan"), ("scanv", "scan --verify_checksum"), ("raw", "raw")):
        if r[p + "_n"] - r[p + "_wrong"] > rr_ok:
            flags.append("sst_dump %s got %d right entries, rockrescue %d"
                         % (label, r[p + "_n"] - r[p + "_wrong"], rr_ok))
    if r["ideal"] != "" and rr_ok < r["ideal"]:
        flags.append("rockrescue (%d) < ideal (%d)" % (rr_ok, r["ideal"]))
    if flags:
        print("NOTE %s %s: %s" % (r["table"], r["case"], "; ".join(flags)), file=sys.stderr)

# ---------------------------------------------------------------- optional: rockrescue-only sweeps
# SWEEP=1: many more single damages, rockrescue only, each checked against the ideal and the
# expected entries: every bit of every footer byte; one bit (offset % 8) of every byte of the
# index / index partitions / metaindex / properties / range-del blocks; one bit of every 37th byte
# of the data blocks; truncation every 211 bytes; 512 zero bytes every 509 bytes.
if os.environ.get("SWEEP"):
    import concurrent.futures, itertools
    sweep_dir = os.path.join(work, "sweep")
    os.makedirs(sweep_dir)
    counter = itertools.count()
    def one(name, family, where, damaged, touched):
        data, blocks, counts, ideal_ok, exp = meta[name]
        d = os.path.join(sweep_dir, str(next(counter)))
        os.makedirs(d)
        f = os.path.join(d, name + ".sst")
        open(f, "wb").write(damaged)
        r = rockrescue_salvage(f, exp, os.path.join(d, "out"))
        shutil.rmtree(d)
        want = ideal(blocks, counts, touched) if ideal_ok else None
        got = r["n"] - r["wrong"] - r["dup"]
        verdict = ("WRONG" if r["wrong"] or r["dup"] else
                   "rc%d" % r["rc"] if r["rc"] not in (0, 1) else
                   "short" if want is not None and got < want else "ok")
        return name, family, where, verdict, got, want, r
    jobs = []
    for name in tables:
        data, blocks, counts, ideal_ok, exp = meta[name]
        def flip(p, bit):
            x = bytearray(data); x[p] ^= 1 << bit
            return bytes(x)
        for b in blocks:
            lo, hi = b["offset"], b["offset"] + b["size"] + (0 if b["kind"] == "footer" else 5)
            if b["kind"] == "footer":
                for p in range(lo, hi):
                    for bit in range(8):
                        jobs.append((name, "footer", "byte %d (footer+%d) bit %d" % (p, p - lo, bit), flip(p, bit), [(p, p + 1)]))
            elif b["kind"] == "data":
                for p in range(lo, hi, 37):
                    jobs.append((name, "data", "byte %d (%s %s+%d) bit %d" % (p, b["kind"], b["name"], p - lo, p % 8), flip(p, p % 8), [(p, p + 1)]))
            else:
                for p in range(lo, hi):
                    jobs.append((name, b["kind"], "byte %d (%s %s+%d) bit %d" % (p, b["kind"], b["name"], p - lo, p % 8), flip(p, p % 8), [(p, p + 1)]))
        for k in range(211, len(data), 211):
            jobs.append((name, "truncate", "keep %d bytes" % k, data[:k], [(k, len(data))]))
        for k in range(0, len(data), 509):
            e = min(k + 512, len(data))
            jobs.append((name, "zero512", "zero bytes %d..%d" % (k, e), data[:k] + bytes(e - k) + data[e:], [(k, e)]))
    summary = collections.defaultdict(collections.Counter)
    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        for name, family, where, verdict, got, want, r in ex.map(lambda j: one(*j), jobs):
            summary[(name, family)][verdict] += 1
            if verdict != "ok":
                bad.append("%s %s: %s -> %s: recovered %d right of ideal %s (wrong %d, dup %d, rc %d) %s"
                           % (name, family, where, verdict, got, want, r["wrong"], r["dup"], r["rc"], r["err"]))
    print("\nSweep (rockrescue only; %d damaged files)\n" % len(jobs))
    print("| table | damage family | cases | at ideal | fewer than ideal | wrong entries | crash |")
    print("|---|---|---|---|---|---|---|")
    for (name, family), c in summary.items():
        crash = sum(v for k, v in c.items() if k.startswith("rc"))
        print("| %s | %s | %d | %d | %d | %d | %d |" % (name, family, sum(c.values()), c["ok"], c["short"], c["WRONG"], crash))
    open(os.path.join(work, "sweep-failures.txt"), "w").write("\n".join(bad) + "\n")
    print("\n%d sweep cases below ideal / wrong / crashed; all listed in %s" % (len(bad), os.path.join(work, "sweep-failures.txt")))
    for line in bad[:40]:
        print("  " + line)
PY
