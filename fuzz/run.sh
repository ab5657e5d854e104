#!/usr/bin/env bash
# Fuzz every target for SECONDS each, one after another (one libFuzzer process at a time).
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Each target's scratch corpus fuzz/corpus/TARGET (gitignored) is seeded from the repository's
# corpus/ directory: small files whole, larger ones as a head and a tail slice of at most the
# target's -max_len bytes. Inputs the fuzzer finds are kept there across runs. Crashes go to
# fuzz/artifacts/TARGET/ (gitignored); each run's log is fuzz/logs/TARGET.log.
#
# Environment:
#   RUNS=N        also stop a target after N executions (default: time only)
#   SANITIZER=S   address (default) or none; passed to `cargo fuzz -s`
#   NICE=N        niceness of the build and of the fuzzer (default 10)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain the nightly-only flags
# cargo-fuzz passes are allowed with RUSTC_BOOTSTRAP=1, which this script sets.
set -euo pipefail

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 SECONDS [TARGET...]" >&2
    exit 2
fi
secs=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$here"

all=(footer block table decompress carve wal manifest tikv blob br region db)
targets=("${@:-${all[@]}}")
san=${SANITIZER:-address}
nice=${NICE:-10}
export RUSTC_BOOTSTRAP=1
# One core per fuzzer: the salvage path would otherwise spread over a rayon pool.
export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1}

# -max_len per target: large enough for a few blocks or records, small enough to stay fast.
max_len() {
    case $1 in
        footer | block | tikv | table | carve) echo 4096 ;;
        db) echo 256 ;;
        *) echo 8192 ;;
    esac
}

# Seed files from corpus/ for each target.
seeds() {
    local c=$repo/corpus
    case $1 in
        footer | table | carve | block | decompress)
            find "$c/sst" "$c/db" "$c/tikv" -name '*.sst' ;;
        wal) find "$c/wal" "$c/db" "$c/tikv" -name '*.log' ;;
        manifest) find "$c/db" "$c/tikv" -name 'MANIFEST-*' ;;
        blob) find "$c/db" -name '*.blob'; find "$c/sst" -name 'fv7-blob-index.sst' ;;
        tikv) find "$c/tikv" \( -name '*.log' -o -name '*.sst' \) ;;
    esac
}

seed() {
    local t=$1 max=$2 dir=$here/corpus/$1 f n size
    mkdir -p "$dir"
    n=0
    while IFS= read -r f; do
        size=$(stat -c %s "$f")
        n=$((n + 1))
        if [ "$size" -le "$max" ]; then
            cp "$f" "$dir/seed-$n"
        else
            head -c "$max" "$f" >"$dir/seed-$n-head"
            tail -c "$max" "$f" >"$dir/seed-$n-tail"
        fi
    done < <(seeds "$t" | sort)
}

mkdir -p logs
nice -n "$nice" cargo fuzz build -O -s "$san"

status=0
for t in "${targets[@]}"; do
    m=$(max_len "$t")
    seed "$t" "$m"
    mkdir -p "artifacts/$t"
    extra=()
    [ -n "${RUNS:-}" ] && extra+=("-runs=$RUNS")
    echo "== $t: ${secs}s, -max_len=$m, sanitizer $san" >&2
    if ! nice -n "$nice" cargo fuzz run -O -s "$san" "$t" "corpus/$t" -- \
        -max_total_time="$secs" -max_len="$m" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" "${extra[@]}" \
        >"logs/$t.log" 2>&1; then
        echo "!! $t failed, see fuzz/logs/$t.log and fuzz/artifacts/$t/" >&2
        status=1
    fi
    grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^Done|SUMMARY|panicked' \
        "logs/$t.log" >&2 || true
done
exit $status
