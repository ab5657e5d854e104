//! Shared helpers for integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join("sst")
}

/// Every corpus table that has an expectation file written by RocksDB: (table, expected JSONL).
pub fn corpus_tables() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(corpus_dir()).expect("corpus/sst exists") {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".sst") || name.ends_with(".ldb") {
            let stem = name.rsplit_once('.').unwrap().0.to_string();
            let exp = corpus_dir().join(format!("{stem}.expected.jsonl"));
            if exp.exists() {
                out.push((p, exp));
            }
        }
    }
    out.sort();
    assert!(
        !out.is_empty(),
        "no corpus tables found under {}",
        corpus_dir().display()
    );
    out
}

/// A corpus table by file name.
pub fn corpus_file(name: &str) -> PathBuf {
    let p = corpus_dir().join(name);
    assert!(p.exists(), "missing corpus file {}", p.display());
    p
}
