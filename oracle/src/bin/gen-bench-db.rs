//! gen-bench-db: writes one large RocksDB database for the whole-database salvage benchmark
//! (`bench/db-salvage.sh`). Not committed: it is regenerated on demand.
//!
//! Real RocksDB 11.8 (the rocksdb crate), format_version 5 (so that Debian's RocksDB 7.8 `ldb` can
//! read it too), CRC32C, 4 KiB blocks, lz4, leveled compaction with small files so that the data
//! spreads over several levels. KEYS keys (default 4,000,000) of 20 bytes with 60-180 byte text
//! values are written in a scattered order, then two more rounds overwrite about a third and a
//! fifth of them and delete about a tenth and a twentieth; compaction runs as it would, and the last
//! round stays partly in L0 and in the memtable's WAL (written with the WAL on, never flushed), so
//! the directory holds overwrites and deletes on several levels plus unflushed WAL data.
//!
//! At the end it prints the number of live keys (read back through RocksDB), the check for the
//! benchmark's output.
//!
//! With `--small` the same history is written with 64 KiB memtables and tables, so that a few
//! thousand keys make dozens of tables of many blocks on several levels: `corpus/db/levels`, for
//! the tests of the parallel merge. Then it also writes `OUT_DIR.expected.txt`, RocksDB's final
//! state read back through the open database (WAL included): one line per key, `KEY SHA` (the key
//! in hex, the first 16 hex digits of the value's SHA-256).
//!
//! Usage: cargo run -p rockrescue-oracle --bin gen-bench-db -- OUT_DIR [KEYS] [--small]
//!   corpus/db/levels: `gen-bench-db corpus/db/levels 12000 --small`
use rockrescue_oracle::gen::{text_value, Rng};
use rocksdb::{
    BlockBasedOptions, ChecksumType, DBCompressionType, IteratorMode, Options,
    WaitForCompactOptions, WriteBatch, WriteOptions, DB,
};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

fn opts(small: bool) -> Options {
    let mut o = Options::default();
    let mut b = BlockBasedOptions::default();
    b.set_format_version(5);
    b.set_checksum_type(ChecksumType::CRC32c);
    b.set_block_size(4 << 10);
    o.set_block_based_table_factory(&b);
    o.set_compression_type(DBCompressionType::Lz4);
    o.set_write_buffer_size(32 << 20);
    o.set_target_file_size_base(16 << 20);
    o.set_max_bytes_for_level_base(64 << 20);
    o.set_level_zero_file_num_compaction_trigger(4);
    o.set_max_background_jobs(2);
    o.create_if_missing(true);
    if small {
        o.set_write_buffer_size(64 << 10);
        o.set_target_file_size_base(24 << 10);
        o.set_max_bytes_for_level_base(96 << 10);
        o.set_max_background_jobs(1);
    }
    o
}

/// The i-th key of the scattered order (a bijection of 0..n for n below 2^40).
fn key(i: u64) -> Vec<u8> {
    format!("user{:016}", i).into_bytes()
}

fn scatter(i: u64, n: u64) -> u64 {
    // Multiplication by an odd constant modulo n is a bijection when gcd(c, n) = 1; pick c prime
    // and larger than any n used here.
    const C: u64 = 2_654_435_761;
    ((i as u128 * C as u128) % n as u128) as u64
}

fn main() {
    let small = std::env::args().any(|a| a == "--small");
    let mut args = std::env::args().skip(1).filter(|a| a != "--small");
    let out: PathBuf = args
        .next()
        .map(PathBuf::from)
        .expect("usage: gen-bench-db OUT_DIR [KEYS]");
    let n: u64 = args.next().map(|s| s.parse().unwrap()).unwrap_or(4_000_000);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let db = DB::open(&opts(small), &out).unwrap();
    let mut no_wal = WriteOptions::default();
    no_wal.disable_wal(true);
    let with_wal = WriteOptions::default();
    let mut rng = Rng::new(11);
    let mut write = |round: u32, pick: &dyn Fn(u64) -> Option<bool>, wal_tail: u64| {
        let mut b = WriteBatch::default();
        for i in 0..n {
            let k = key(scatter(i, n));
            match pick(i) {
                Some(true) => {
                    let len = if small {
                        8 + rng.below(40) as usize
                    } else {
                        60 + rng.below(121) as usize
                    };
                    let mut v = format!("r{round} ").into_bytes();
                    v.extend_from_slice(&text_value(&mut rng, len));
                    b.put(&k, &v);
                }
                Some(false) => b.delete(&k),
                None => continue,
            }
            if b.len() >= if small { 100 } else { 1000 } {
                // The last `wal_tail` keys of the last round go through the WAL.
                let wo = if i + wal_tail >= n {
                    &with_wal
                } else {
                    &no_wal
                };
                db.write_opt(std::mem::take(&mut b), wo).unwrap();
            }
        }
        db.write(b).unwrap();
    };
    write(1, &|_| Some(true), 0);
    db.flush().unwrap();
    write(
        2,
        &|i| match i % 30 {
            0..=9 => Some(true),
            10..=12 => Some(false),
            _ => None,
        },
        0,
    );
    db.flush().unwrap();
    // The last round stays where its flushes put it: level 0 beside the older levels.
    db.wait_for_compact(&WaitForCompactOptions::default())
        .unwrap();
    db.set_options(&[("disable_auto_compactions", "true")])
        .unwrap();
    write(
        3,
        &|i| match (i * 7) % 40 {
            0..=7 => Some(true),
            8 | 9 => Some(false),
            _ => None,
        },
        n / 20,
    );
    // No flush: the tail of the last round stays in the WAL (and the memtable). Flushes already
    // started finish first, so that the files stop changing.
    db.wait_for_compact(&WaitForCompactOptions::default())
        .unwrap();
    let files: Vec<_> = db.live_files().unwrap();
    let mut levels = std::collections::BTreeMap::<i32, (u32, u64)>::new();
    for f in &files {
        let e = levels.entry(f.level).or_default();
        e.0 += 1;
        e.1 += f.size as u64;
    }
    for (l, (c, s)) in levels {
        println!("L{l}: {c} tables, {} MB", s >> 20);
    }
    // Dropped without a flush or a clean close of the WAL: as a crash would leave it. (The
    // memtable's WAL records are written to the file as each batch is; writes made without the
    // WAL and not flushed are lost, as in a crash.)
    std::mem::forget(db);
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("LOG") {
            std::fs::remove_file(&p).unwrap();
        }
    }
    // What RocksDB recovers from the files: a read-only open of a copy (the original is still
    // locked by the forgotten handle).
    let copy = std::env::temp_dir().join("rockrescue-gen-bench-db-copy");
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
    }
    let db = DB::open_for_read_only(&opts(small), &copy, false).unwrap();
    let mut live = 0u64;
    let mut expected = String::new();
    for item in db.iterator(IteratorMode::Start) {
        let (k, v) = item.unwrap();
        live += 1;
        if small {
            let h = hex::encode(Sha256::digest(&v));
            expected.push_str(&format!("{} {}\n", hex::encode(&k), &h[..16]));
        }
    }
    drop(db);
    let _ = std::fs::remove_dir_all(&copy);
    println!("{live} live keys, as RocksDB recovers them");
    if small {
        let mut name = out.file_name().unwrap().to_os_string();
        name.push(".expected.txt");
        std::fs::write(out.with_file_name(name), expected).unwrap();
    }
}
