//! gen-db: writes corpus/db/ with real RocksDB 11.8.1 (through the rocksdb crate): whole database
//! directories with several column families, several levels, a dropped column family, blob files
//! and unflushed WAL data. For each NAME it writes, besides the directory NAME/:
//! - NAME.live-files.json: RocksDB's own list of live table files (DB::live_files, from a read-only
//!   open of a copy), the oracle for MANIFEST replay;
//! - NAME.<cf>.expected.jsonl: the final visible state of each column family, `{"key":..,"value":..}`
//!   in key order, read through RocksDB (the oracle for whole-DB salvage).
//!
//! LOG files are removed (RocksDB does not need them to open).
//!
//! Usage: cargo run -p rockrescue-oracle --bin gen-db [-- OUT_DIR]
use rockrescue_oracle::gen::{text_value, Rng};
use rocksdb::{ColumnFamilyDescriptor, IteratorMode, MergeOperands, Options, WriteBatch, DB};
use std::path::{Path, PathBuf};

fn concat(_key: &[u8], existing: Option<&[u8]>, ops: &MergeOperands) -> Option<Vec<u8>> {
    let mut v = existing.map(|e| e.to_vec()).unwrap_or_default();
    for op in ops {
        v.extend_from_slice(op);
    }
    Some(v)
}

fn cf_opts(name: &str) -> Options {
    let mut o = Options::default();
    o.set_merge_operator_associative("concat", concat);
    o.set_write_buffer_size(1 << 20);
    o.set_disable_auto_compactions(true);
    if name == "blobs" {
        o.set_enable_blob_files(true);
        o.set_min_blob_size(64);
    }
    o
}

fn k(i: u64) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

fn main() {
    let out: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/db"));
    std::fs::create_dir_all(&out).unwrap();
    let name = "multi-cf";
    let dir = out.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let cf_names = ["default", "alpha", "blobs"];
    let mut db_opts = cf_opts("default");
    db_opts.create_if_missing(true);
    db_opts.create_missing_column_families(true);
    {
        let mut db = DB::open_cf_descriptors(
            &db_opts,
            &dir,
            cf_names
                .iter()
                .map(|n| ColumnFamilyDescriptor::new(*n, cf_opts(n))),
        )
        .unwrap();
        // A column family that is created, written, flushed and dropped.
        db.create_cf("gone", &cf_opts("gone")).unwrap();
        {
            let gone = db.cf_handle("gone").unwrap();
            db.put_cf(&gone, b"x", b"y").unwrap();
            db.flush_cf(&gone).unwrap();
        }
        db.drop_cf("gone").unwrap();
        let mut r = Rng::new(42);
        let mut sd_next = 0u32;
        let mut pending_sd: Vec<(&str, Vec<u8>)> = Vec::new();
        for round in 0..4u64 {
            for cf_name in cf_names {
                let cf = db.cf_handle(cf_name).unwrap();
                let mut b = WriteBatch::default();
                for _ in 0..150 {
                    let key = k(r.range(0, 600));
                    match r.range(0, 9) {
                        0..=5 => {
                            let len = if cf_name == "blobs" {
                                r.range(10, 300)
                            } else {
                                r.range(0, 60)
                            };
                            b.put_cf(&cf, &key, text_value(&mut r, len as usize));
                        }
                        6 => b.delete_cf(&cf, &key),
                        7 => b.merge_cf(&cf, &key, format!("+{round}")),
                        _ => {
                            // SingleDelete only on keys written exactly once (its contract).
                            sd_next += 1;
                            let sd = format!("sd{sd_next:05}").into_bytes();
                            b.put_cf(&cf, &sd, b"once");
                            if sd_next.is_multiple_of(2) {
                                pending_sd.push((cf_name, sd));
                            }
                        }
                    }
                }
                for (c, key) in std::mem::take(&mut pending_sd) {
                    if c != cf_name {
                        pending_sd.push((c, key));
                        continue;
                    }
                    if round > 0 {
                        b.single_delete_cf(&cf, &key);
                    } else {
                        pending_sd.push((c, key));
                    }
                }
                if round == 2 && cf_name == "alpha" {
                    b.delete_range_cf(&cf, k(100), k(140));
                }
                db.write(b).unwrap();
                db.flush_cf(&cf).unwrap();
            }
            if round == 1 {
                // Push what is there so far down to the last level.
                for cf_name in cf_names {
                    let cf = db.cf_handle(cf_name).unwrap();
                    db.compact_range_cf(&cf, None::<&[u8]>, None::<&[u8]>);
                }
            }
        }
        // Unflushed writes: only in the WAL.
        let alpha = db.cf_handle("alpha").unwrap();
        for i in 0..40u64 {
            db.put_cf(&alpha, k(1000 + i), format!("unflushed {i}"))
                .unwrap();
        }
        db.delete(k(7)).unwrap();
    }
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let f = p.file_name().unwrap().to_string_lossy().to_string();
        if f.starts_with("LOG") {
            std::fs::remove_file(&p).unwrap();
        }
    }
    // The oracle: open a copy read-only (recovering the WAL into memory) and ask RocksDB.
    let copy = std::env::temp_dir().join("rockrescue-gen-db-copy");
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
    }
    let db = DB::open_cf_descriptors_read_only(
        &db_opts,
        &copy,
        cf_names
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(*n, cf_opts(n))),
        false,
    )
    .unwrap();
    let mut live: Vec<serde_json::Value> = db
        .live_files()
        .unwrap()
        .into_iter()
        .map(|f| {
            serde_json::json!({
                "column_family": f.column_family_name,
                "name": f.name.trim_start_matches('/'),
                "level": f.level,
                "size": f.size,
                "smallest_user_key": hex::encode(f.start_key.unwrap_or_default()),
                "largest_user_key": hex::encode(f.end_key.unwrap_or_default()),
                "num_entries": f.num_entries,
                "num_deletions": f.num_deletions,
            })
        })
        .collect();
    live.sort_by_key(|v| v["name"].as_str().unwrap().to_string());
    std::fs::write(
        out.join(format!("{name}.live-files.json")),
        serde_json::to_string_pretty(&live).unwrap() + "\n",
    )
    .unwrap();
    for cf_name in cf_names {
        let cf = db.cf_handle(cf_name).unwrap();
        let mut s = String::new();
        for item in db.iterator_cf(&cf, IteratorMode::Start) {
            let (key, value) = item.unwrap();
            s.push_str(&format!(
                "{{\"key\":\"{}\",\"value\":\"{}\"}}\n",
                hex::encode(&key),
                hex::encode(&value)
            ));
        }
        std::fs::write(out.join(format!("{name}.{cf_name}.expected.jsonl")), s).unwrap();
    }
    drop(db);
    let _ = std::fs::remove_dir_all(&copy);
    let size: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    eprintln!(
        "{name}: {} files, {size} bytes, {} live tables",
        std::fs::read_dir(&dir).unwrap().count(),
        live.len()
    );
}
