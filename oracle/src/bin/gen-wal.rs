//! gen-wal: writes corpus/wal/ with real RocksDB 11.8.1 (through the rocksdb crate): databases
//! whose writes stay in the WAL (nothing is flushed), with the WAL file copied out as NAME.log, and
//! NAME.expected.jsonl produced by RocksDB's own log reader and WriteBatch iteration (the oracle
//! shim). MANIFEST.tsv lists each case.
//!
//! Usage: cargo run -p rockrescue-oracle --bin gen-wal [-- OUT_DIR]
//! Content is deterministic (fixed seeds).
use rockrescue_oracle::gen::{text_value, Rng};
use rocksdb::{DBCompressionType, DBRecoveryMode, MergeOperands, Options, WriteBatch, DB};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn concat(_key: &[u8], existing: Option<&[u8]>, ops: &MergeOperands) -> Option<Vec<u8>> {
    let mut v = existing.map(|e| e.to_vec()).unwrap_or_default();
    for op in ops {
        v.extend_from_slice(op);
    }
    Some(v)
}

struct Case {
    name: &'static str,
    covers: &'static str,
    setup: fn(&mut Options),
}

fn write_ops(db: &DB, seed: u64) {
    let mut r = Rng::new(seed);
    let alpha = db.cf_handle("alpha").unwrap();
    let beta = db.cf_handle("beta").unwrap();
    for round in 0..60u64 {
        let mut b = WriteBatch::default();
        let n = r.range(1, 12);
        for i in 0..n {
            let key = format!("key{:05}", r.range(0, 400)).into_bytes();
            match r.range(0, 10) {
                0..=3 => {
                    let len = r.range(0, 200) as usize;
                    b.put(&key, text_value(&mut r, len));
                }
                4 => b.put_cf(&alpha, &key, text_value(&mut r, 40)),
                5 => b.delete(&key),
                6 => b.single_delete_cf(&beta, &key),
                7 => b.merge(&key, format!("+{round}.{i}")),
                8 => b.delete_range_cf(&alpha, &key, &format!("key{:05}", 400).into_bytes()),
                _ => b.put_log_data(format!("log data {round}.{i}")),
            }
        }
        if round % 17 == 5 {
            // A value larger than one 32 KiB block: first/middle/last fragments.
            let len = 70_000 + r.range(0, 1000) as usize;
            b.put(b"big", text_value(&mut r, len));
        }
        if round % 23 == 7 {
            // Binary keys and an empty key and value.
            b.put([0u8, 255, 1, 254], [0u8; 3]);
            b.put(b"", b"");
        }
        db.write(b).unwrap();
    }
}

fn main() {
    let out: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/wal"));
    std::fs::create_dir_all(&out).unwrap();
    let cases = [
        Case {
            name: "wal-basic",
            covers: "three column families; put, delete, single delete, merge, range delete, log data; a 70 KB value (fragments); binary and empty keys",
            setup: |_| {},
        },
        Case {
            name: "wal-zstd",
            covers: "the same writes with wal_compression=zstd (a SetCompression record, every record one zstd frame)",
            setup: |o| o.set_wal_compression_type(DBCompressionType::Zstd),
        },
        Case {
            name: "wal-recyclable",
            covers: "the same writes with recycle_log_file_num=2 (11-byte recyclable headers carrying the log number)",
            setup: |o| {
                o.set_recycle_log_file_num(2);
                o.set_wal_recovery_mode(DBRecoveryMode::PointInTime);
            },
        },
    ];
    let mut manifest = String::from("name\twriter\tlog_number\tcovers\n");
    for (ci, c) in cases.iter().enumerate() {
        let dir_path = std::env::temp_dir().join(format!("rockrescue-gen-wal-{}", c.name));
        let _ = std::fs::remove_dir_all(&dir_path);
        std::fs::create_dir_all(&dir_path).unwrap();
        let mut o = Options::default();
        o.create_if_missing(true);
        o.create_missing_column_families(true);
        o.set_merge_operator_associative("concat", concat);
        o.set_write_buffer_size(64 << 20);
        (c.setup)(&mut o);
        {
            let cfs = ["default", "alpha", "beta"]
                .into_iter()
                .map(|n| rocksdb::ColumnFamilyDescriptor::new(n, o.clone()));
            let db = DB::open_cf_descriptors(&o, &dir_path, cfs).unwrap();
            write_ops(&db, 7 + ci as u64);
        }
        let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir_path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .filter(|p| std::fs::metadata(p).unwrap().len() > 0)
            .collect();
        logs.sort();
        let wal = logs.last().expect("a non-empty WAL").clone();
        let num: u64 = wal.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        let dest = out.join(format!("{}.log", c.name));
        std::fs::copy(&wal, &dest).unwrap();
        let (jsonl, errs) = rockrescue_oracle::dump_wal_jsonl(&dest, num).unwrap();
        assert!(errs.is_empty(), "{}: RocksDB reported {errs}", c.name);
        std::fs::write(out.join(format!("{}.expected.jsonl", c.name)), &jsonl).unwrap();
        let _ = std::fs::remove_dir_all(&dir_path);
        let _ = writeln!(
            manifest,
            "{}\trocksdb-11.8.1 (rocksdb crate 0.25)\t{num}\t{}",
            c.name, c.covers
        );
        eprintln!(
            "{}: {} bytes, {} operations",
            c.name,
            std::fs::metadata(&dest).unwrap().len(),
            jsonl.lines().count()
        );
    }
    std::fs::write(out.join("MANIFEST.tsv"), manifest).unwrap();
}
