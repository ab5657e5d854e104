//! gen-tikv-bench: writes one TiKV store holding one large TiDB table, for the export benchmark
//! (`bench/tidb-export.sh`). Not committed: it is regenerated on demand.
//!
//! The store is a real RocksDB 11.8 database with TiKV's column families and options (format
//! version 2, CRC32C, 32 KiB blocks, lz4 on the middle levels and zstd on the bottom ones). The table
//! `bench.orders` has an int primary key as handle and 6 more columns, rows in format v2 with short
//! values inlined in the write CF; 1 row in 50 has a value over 255 bytes, which goes to the
//! default CF. Encoders: `rockrescue_oracle::tikvgen` (independent of rockrescue's decoders).
//!
//! Usage: cargo run --release -p rockrescue-oracle --bin gen-tikv-bench -- OUT_DIR [ROWS]
use rockrescue_oracle::tikvgen::{
    decimal_bin, meta_hash_key, packed_time, rc_int, rc_uint, record_key_int, row_v2, ts_key, tso,
    WriteRec, WriteType,
};
use rocksdb::{
    BlockBasedOptions, ChecksumType, ColumnFamilyDescriptor, DBCompressionType, Options,
    WriteBatch, WriteOptions, DB,
};
use std::path::PathBuf;

fn cf_opts() -> Options {
    let mut o = Options::default();
    let mut b = BlockBasedOptions::default();
    b.set_format_version(2);
    b.set_checksum_type(ChecksumType::CRC32c);
    b.set_block_size(32 << 10);
    o.set_block_based_table_factory(&b);
    o.set_compression_per_level(&[
        DBCompressionType::None,
        DBCompressionType::None,
        DBCompressionType::Lz4,
        DBCompressionType::Lz4,
        DBCompressionType::Lz4,
        DBCompressionType::Zstd,
        DBCompressionType::Zstd,
    ]);
    o.set_write_buffer_size(128 << 20);
    o.set_target_file_size_base(64 << 20);
    o
}

const DB_INFO: &str = r#"{"id":2,"db_name":{"O":"bench","L":"bench"},"charset":"utf8mb4","collate":"utf8mb4_bin","state":5}"#;

fn table_info() -> String {
    let col = |id: i64, name: &str, tp: u8, flag: u32, flen: i64, dec: i64, cs: &str| {
        let coll = if cs == "binary" {
            "binary"
        } else {
            "utf8mb4_bin"
        };
        format!(
            r#"{{"id":{id},"name":{{"O":"{name}","L":"{name}"}},"offset":{},"origin_default":null,"default":null,"type":{{"Tp":{tp},"Flag":{flag},"Flen":{flen},"Decimal":{dec},"Charset":"{cs}","Collate":"{coll}","Elems":null}},"state":5,"version":2,"hidden":false}}"#,
            id - 1
        )
    };
    let cols = [
        col(1, "id", 8, 3 | 512, 20, 0, "binary"),
        col(2, "customer", 15, 0, 64, 0, "utf8mb4"),
        col(3, "amount", 246, 0, 12, 2, "binary"),
        col(4, "qty", 3, 32, 10, 0, "binary"),
        col(5, "created", 12, 0, 19, 0, "binary"),
        col(6, "status", 247, 0, -1, 0, "utf8mb4"),
        col(7, "note", 15, 0, 1024, 0, "utf8mb4"),
    ];
    let cols = cols.join(",").replace(
        r#""Tp":247,"Flag":0,"Flen":-1,"Decimal":0,"Charset":"utf8mb4","Collate":"utf8mb4_bin","Elems":null"#,
        r#""Tp":247,"Flag":0,"Flen":-1,"Decimal":0,"Charset":"utf8mb4","Collate":"utf8mb4_bin","Elems":["new","paid","shipped","returned"]"#,
    );
    format!(
        r#"{{"id":100,"name":{{"O":"orders","L":"orders"}},"charset":"utf8mb4","collate":"utf8mb4_bin","cols":[{cols}],"index_info":null,"pk_is_handle":true,"is_common_handle":false,"state":5,"partition":null,"version":5}}"#
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out: PathBuf = args
        .next()
        .map(PathBuf::from)
        .expect("usage: gen-tikv-bench OUT_DIR [ROWS]");
    let rows: i64 = args
        .next()
        .map(|s| s.parse().unwrap())
        .unwrap_or(10_000_000);
    let dir = out.join("db");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&dir).unwrap();
    let mut db_opts = cf_opts();
    db_opts.create_if_missing(true);
    db_opts.create_missing_column_families(true);
    db_opts.set_max_background_jobs(2);
    let db = DB::open_cf_descriptors(
        &db_opts,
        &dir,
        ["default", "write", "lock", "raft"]
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(*n, cf_opts())),
    )
    .unwrap();
    let (w, d) = (
        db.cf_handle("write").unwrap(),
        db.cf_handle("default").unwrap(),
    );
    let mut wo = WriteOptions::default();
    wo.disable_wal(true);
    let base = 1_767_225_600_000u64; // 2026-01-01 in ms
    let put = |b: &mut WriteBatch, raw: &[u8], value: Vec<u8>, start: u64, commit: u64| {
        if value.len() <= 255 {
            let rec = WriteRec::new(WriteType::Put, start, Some(value));
            b.put_cf(&w, ts_key(raw, commit), rec.to_bytes());
        } else {
            b.put_cf(&d, ts_key(raw, start), &value);
            let rec = WriteRec::new(WriteType::Put, start, None);
            b.put_cf(&w, ts_key(raw, commit), rec.to_bytes());
        }
    };
    let mut b = WriteBatch::default();
    put(
        &mut b,
        &meta_hash_key("DBs", "DB:2"),
        DB_INFO.as_bytes().to_vec(),
        tso(base, 1),
        tso(base, 2),
    );
    put(
        &mut b,
        &meta_hash_key("DB:2", "Table:100"),
        table_info().into_bytes(),
        tso(base, 1),
        tso(base, 2),
    );
    db.write_opt(b, &wo).unwrap();
    let statuses = 4u64;
    let mut b = WriteBatch::default();
    for h in 1..=rows {
        let mut cells: Vec<(i64, Option<Vec<u8>>)> = Vec::with_capacity(6);
        cells.push((
            2,
            Some(format!("customer-{:07}", h % 1_000_003).into_bytes()),
        ));
        let amount = format!("{}.{:02}", h % 100_000, h % 100);
        let mut dec = vec![12u8, 2];
        dec.extend(decimal_bin(&amount, 12, 2));
        cells.push((3, Some(dec)));
        let mut q = Vec::new();
        rc_uint(&mut q, (h % 500) as u64);
        cells.push((4, Some(q)));
        let s = h as u64;
        let p = packed_time(
            2020 + s % 6,
            1 + s % 12,
            1 + s % 28,
            s % 24,
            s % 60,
            (s / 7) % 60,
            0,
        );
        let mut t = Vec::new();
        rc_uint(&mut t, p);
        cells.push((5, Some(t)));
        let mut e = Vec::new();
        rc_int(&mut e, 1 + (h as u64 % statuses) as i64);
        cells.push((6, Some(e)));
        let note = if h % 50 == 0 {
            Some("n".repeat(300).into_bytes())
        } else if h % 7 == 0 {
            None
        } else {
            Some(format!("order {h} with a short note").into_bytes())
        };
        cells.push((7, note));
        let row = row_v2(&cells, None);
        let ms = base + 1000 + (h as u64) / 100;
        put(&mut b, &record_key_int(100, h), row, tso(ms, 1), tso(ms, 2));
        if h % 10_000 == 0 {
            db.write_opt(std::mem::take(&mut b), &wo).unwrap();
        }
        if h % 1_000_000 == 0 {
            eprintln!("{h} rows");
        }
    }
    db.write_opt(b, &wo).unwrap();
    db.flush_cf(&w).unwrap();
    db.flush_cf(&d).unwrap();
    db.compact_range_cf(&w, None::<&[u8]>, None::<&[u8]>);
    db.compact_range_cf(&d, None::<&[u8]>, None::<&[u8]>);
    drop(db);
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("LOG") {
            let _ = std::fs::remove_file(e.path());
        }
    }
    eprintln!("wrote {rows} rows to {}", dir.display());
}
