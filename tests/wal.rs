//! WALs written by real RocksDB 11.8 (corpus/wal, see corpus/README.md) must dump exactly as
//! RocksDB's own log reader and WriteBatch iteration read them; damaged copies must lose only the
//! damaged records, report them at their offsets, and never produce an operation RocksDB did not
//! write.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rockrescue::export::dump::DumpFormat;
use rockrescue::export::wal::dump_wal;
use rockrescue::log::{LogProblemKind, LogReader, BLOCK_SIZE};

fn wal_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/wal")
}

/// (name, log number) from corpus/wal/MANIFEST.tsv.
fn cases() -> Vec<(String, u32)> {
    let m = std::fs::read_to_string(wal_dir().join("MANIFEST.tsv")).unwrap();
    let v: Vec<(String, u32)> = m
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[2].parse().unwrap())
        })
        .collect();
    assert!(v.len() >= 3);
    v
}

fn dump(bytes: &[u8]) -> (String, rockrescue::wal::WalSummary) {
    let mut out = Vec::new();
    let s = dump_wal(bytes, Path::new("x.log"), DumpFormat::Jsonl, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), s)
}

#[test]
fn corpus_wals_dump_exactly_as_rocksdb_reads_them() {
    for (name, _) in cases() {
        let bytes = std::fs::read(wal_dir().join(format!("{name}.log"))).unwrap();
        let want =
            std::fs::read_to_string(wal_dir().join(format!("{name}.expected.jsonl"))).unwrap();
        let (got, sum) = dump(&bytes);
        assert!(sum.problems.is_empty(), "{name}: {:?}", sum.problems);
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn recycled_records_of_another_log_end_the_log() {
    for (name, num) in cases() {
        let bytes = std::fs::read(wal_dir().join(format!("{name}.log"))).unwrap();
        let mut r = LogReader::new(&bytes, Some(num));
        let n = r.by_ref().count();
        assert!(n > 10 && r.problems.is_empty(), "{name}: {:?}", r.problems);
        if name.contains("recyclable") {
            let mut r = LogReader::new(&bytes, Some(num + 1));
            assert_eq!(r.by_ref().count(), 0);
            assert_eq!(r.problems[0].kind, LogProblemKind::OldRecord);
        }
    }
}

/// Damage each WAL in several ways: every line still printed is one RocksDB wrote, the damage is
/// reported at an offset at or before the damaged byte's block end, and records in blocks the
/// damage did not touch survive.
#[test]
fn damaged_wals_lose_only_damaged_records() {
    for (name, _) in cases() {
        let clean = std::fs::read(wal_dir().join(format!("{name}.log"))).unwrap();
        let want =
            std::fs::read_to_string(wal_dir().join(format!("{name}.expected.jsonl"))).unwrap();
        let want_set: HashSet<&str> = want.lines().collect();
        let n = clean.len();
        let mut cases: Vec<(String, Vec<u8>, usize)> = Vec::new();
        for at in [n / 7, n / 3, n / 2, n * 4 / 5] {
            let mut b = clean.clone();
            b[at] ^= 0x08;
            cases.push((format!("flip at {at}"), b, at));
        }
        let mut z = clean.clone();
        let za = n / 2;
        z[za..(za + 4096).min(n)].fill(0);
        cases.push((format!("zeroed page at {za}"), z, za));
        for keep in [n - 1, n - 100, n * 2 / 3, 5] {
            cases.push((format!("truncated to {keep}"), clean[..keep].to_vec(), keep));
        }
        for (what, bytes, at) in cases {
            let (got, sum) = dump(&bytes);
            for l in got.lines() {
                assert!(want_set.contains(l), "{name} / {what}: invented line {l}");
            }
            if got.lines().count() < want.lines().count() {
                assert!(
                    !sum.problems.is_empty(),
                    "{name} / {what}: lines lost without a report"
                );
                let first = sum.problems[0].offset as usize;
                assert!(
                    first <= (at / BLOCK_SIZE + 1) * BLOCK_SIZE,
                    "{name} / {what}: first problem at {first}"
                );
            }
            // Everything before the damaged block's start is intact and must be there, in order.
            let block_start = at / BLOCK_SIZE * BLOCK_SIZE;
            let (prefix, _) = dump(&clean[..block_start]);
            let complete: Vec<&str> = prefix.lines().collect();
            let got_lines: Vec<&str> = got.lines().collect();
            // The prefix dump may end with a record torn by the cut; all but the batches that
            // cross the cut must come back.
            let shared = complete.len().saturating_sub(1).min(got_lines.len());
            assert_eq!(
                &got_lines[..shared],
                &complete[..shared],
                "{name} / {what}: records before the damage changed"
            );
        }
    }
}
