#!/usr/bin/env python3
"""Run benchmark commands in turn and report medians: wall time, peak RSS, peak anonymous memory,
scratch space at peak and output size. Shared by bench/db-salvage.sh and bench/tidb-export.sh.

Input (stdin): JSON {"runs": N, "commands": [{"name", "argv", "out", "scratch", "stdout", "env",
"count"}]} where
  out      a directory removed before each run and measured after it (the output),
  scratch  a directory sampled every 20 ms while the command runs (its largest size is "scratch"),
  stdout   a file (inside out) the command's standard output goes to, or null,
  env      extra environment variables,
  count    how to count what was written, after the first run: ["lines", FILE] (lines of a file),
           ["lines-minus-1", FILE], ["csv-rows", DIR] (lines of every *.csv under DIR less one
           header line each, files named *-schema*.sql not counted), or null.
Output (stdout): JSON list, one object per command: name, the figures of every run, the medians
and the count.

Before each run the previous output is removed and os.sync() flushes dirty pages, so that no run
pays for the writeback of another's output. peak RSS is the kernel's VmHWM (mapped input pages included); peak anon the largest RssAnon seen
(what the process allocated, without the page cache of the files it maps), sampled every 20 ms.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time


def tree_size(p):
    total = 0
    for root, _, files in os.walk(p):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "RssAnon"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def run_once(c):
    out = c["out"]
    shutil.rmtree(out, ignore_errors=True)
    # No run pays for the writeback of an earlier one's output.
    os.sync()
    if c.get("stdout"):
        os.makedirs(out, exist_ok=True)
    env = dict(os.environ, **c.get("env", {}))
    so = open(c["stdout"], "wb") if c.get("stdout") else subprocess.DEVNULL
    t0 = time.monotonic()
    p = subprocess.Popen(c["argv"], stdout=so, stderr=subprocess.DEVNULL, env=env)
    anon = hwm = scratch = 0
    while p.poll() is None:
        s = status(p.pid)
        anon = max(anon, s.get("RssAnon", 0))
        hwm = max(hwm, s.get("VmHWM", 0))
        if c.get("scratch") and os.path.isdir(c["scratch"]):
            scratch = max(scratch, tree_size(c["scratch"]))
        time.sleep(0.02)
    wall = time.monotonic() - t0
    if c.get("stdout"):
        so.close()
    return {"wall": wall, "peak_rss": hwm, "peak_anon": anon, "scratch": scratch,
            "exit": p.returncode, "output": tree_size(out)}


def count(spec):
    if not spec:
        return None
    kind, path = spec

    def lines(p):
        n = 0
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                n += chunk.count(b"\n")
        return n

    if kind == "lines":
        return lines(path)
    if kind == "lines-minus-1":
        return lines(path) - 1
    if kind == "csv-rows":
        n = 0
        for root, _, files in os.walk(path):
            for f in files:
                if f.endswith(".csv"):
                    n += lines(os.path.join(root, f)) - 1
        return n
    raise SystemExit(f"unknown count {kind}")


def main():
    job = json.load(sys.stdin)
    results = {c["name"]: [] for c in job["commands"]}
    counts = {}
    for r in range(job["runs"]):
        for c in job["commands"]:
            res = run_once(c)
            results[c["name"]].append(res)
            if r == 0:
                counts[c["name"]] = count(c.get("count"))
            shutil.rmtree(c["out"], ignore_errors=True)
            if c.get("scratch"):
                shutil.rmtree(c["scratch"], ignore_errors=True)
    out = []
    for c in job["commands"]:
        runs = results[c["name"]]
        med = {k: statistics.median(x[k] for x in runs)
               for k in ("wall", "peak_rss", "peak_anon", "scratch", "output")}
        out.append({"name": c["name"], "runs": runs, "median": med, "count": counts[c["name"]],
                    "exits": sorted({x["exit"] for x in runs})})
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
