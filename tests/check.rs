//! `check` on a database written by RocksDB 11.8 (corpus/db/multi-cf): clean as written, and each
//! planted fault found with the right verdict.

use std::path::{Path, PathBuf};

use rockrescue::lsm::{check_dir, CheckReport, Severity};
use rockrescue::sst::verify::Status;

fn copy_db() -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/db/multi-cf");
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

fn has(r: &CheckReport, sev: Severity, kind: &str) -> bool {
    r.findings
        .iter()
        .any(|f| f.severity == sev && f.kind == kind)
}

fn flip(p: &Path, at: usize) {
    let mut b = std::fs::read(p).unwrap();
    let at = at.min(b.len() - 1);
    b[at] ^= 0x10;
    std::fs::write(p, b).unwrap();
}

#[test]
fn the_corpus_database_is_clean() {
    let d = copy_db();
    let r = check_dir(d.path(), |_| {});
    assert_eq!(r.status, Status::Ok, "{:#?}", r.findings);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(r.tables.len(), 9);
    assert_eq!(r.wals.len(), 1);
}

#[test]
fn planted_faults_are_found() {
    type Plant = fn(&Path);
    let cases: Vec<(&str, Plant, Severity, &str)> = vec![
        (
            "live table deleted",
            |d| std::fs::remove_file(&files(d, "sst")[0]).unwrap(),
            Severity::Error,
            "missing_file",
        ),
        (
            "live table truncated",
            |d| {
                let p = &files(d, "sst")[1];
                let b = std::fs::read(p).unwrap();
                std::fs::write(p, &b[..b.len() - 100]).unwrap();
            },
            Severity::Error,
            "size_mismatch",
        ),
        (
            "bit flip in a table",
            |d| flip(&files(d, "sst")[2], 700),
            Severity::Error,
            "table_damage",
        ),
        (
            // Files restored from the wrong place: each is intact, but not the table the MANIFEST
            // describes under that number.
            "two tables swapped",
            |d| {
                let t = files(d, "sst");
                let tmp = d.join("swap.tmp");
                std::fs::rename(&t[0], &tmp).unwrap();
                std::fs::rename(&t[1], &t[0]).unwrap();
                std::fs::rename(&tmp, &t[1]).unwrap();
            },
            Severity::Error,
            "key_range",
        ),
        (
            "orphan table",
            |d| {
                std::fs::copy(&files(d, "sst")[0], d.join("000999.sst")).unwrap();
            },
            Severity::Warning,
            "orphan_file",
        ),
        (
            "blob file deleted",
            |d| std::fs::remove_file(&files(d, "blob")[0]).unwrap(),
            Severity::Error,
            "missing_blob_file",
        ),
        (
            "bit flip in the MANIFEST",
            |d| {
                let m = rockrescue::manifest::current_manifest(d).unwrap();
                let n = std::fs::metadata(&m).unwrap().len() as usize;
                flip(&m, n / 2);
            },
            Severity::Error,
            "manifest",
        ),
        (
            "CURRENT deleted",
            |d| std::fs::remove_file(d.join("CURRENT")).unwrap(),
            Severity::Error,
            "current",
        ),
        (
            "bit flip in the WAL",
            |d| flip(&files(d, "log")[0], 30),
            Severity::Error,
            "wal_damage",
        ),
        (
            "WAL torn at the tail",
            |d| {
                let p = &files(d, "log")[0];
                let b = std::fs::read(p).unwrap();
                std::fs::write(p, &b[..b.len() - 10]).unwrap();
            },
            Severity::Warning,
            "wal_damage",
        ),
        (
            "OPTIONS with another comparator",
            |d| {
                let mut opts: Vec<PathBuf> = std::fs::read_dir(d)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| {
                        p.file_name()
                            .unwrap()
                            .to_string_lossy()
                            .starts_with("OPTIONS-")
                    })
                    .collect();
                opts.sort();
                let p = opts.last().unwrap();
                let t = std::fs::read_to_string(p).unwrap();
                std::fs::write(
                    p,
                    t.replacen(
                        "comparator=leveldb.BytewiseComparator",
                        "comparator=rocksdb.ReverseBytewiseComparator",
                        1,
                    ),
                )
                .unwrap();
            },
            Severity::Error,
            "options",
        ),
    ];
    for (what, plant, sev, kind) in cases {
        let d = copy_db();
        plant(d.path());
        let r = check_dir(d.path(), |_| {});
        assert!(
            has(&r, sev, kind),
            "{what}: no {sev:?} {kind}: {:#?}",
            r.findings
        );
        let expect = if sev == Severity::Error {
            Status::Damaged
        } else {
            Status::Ok
        };
        assert_eq!(r.status, expect, "{what}: {:#?}", r.findings);
    }
}
