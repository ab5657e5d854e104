//! gen-tikv: writes corpus/tikv/, three TiKV kv RocksDBs ("stores") holding TiDB tables, and the
//! rows a salvager must export from them, computed from this program's own inputs (never by
//! decoding what was written). Keys and values come from `rockrescue_oracle::tikvgen` (independent
//! encoders written from format-specs/tikv.md, tidb.md and the upstream sources they cite); nothing
//! here uses the `rockrescue` crate.
//!
//! What is written (OUT_DIR defaults to corpus/tikv, emptied first):
//! - `store{1,2,3}/db`: RocksDB 11.8.1 databases with CFs default, write, lock, raft and TiKV-like
//!   options (block-based format_version 2, CRC32C, 32 KiB blocks, compression per level
//!   none/none/lz4/lz4/lz4/zstd/zstd, small write buffers). Data is flushed and compacted at fixed
//!   points of the history, so it sits in SSTs on L0 and deeper levels; the newest writes of each
//!   store stay unflushed in its WAL. LOG files are removed.
//! - One global, time-ordered history of TiDB transactions (DDL on the meta keys, row puts,
//!   deletes, Lock and Rollback records, an overlapped rollback with a gc_fence, pending
//!   prewrites). store1 holds it up to T1, store2 up to T2, store3 up to T3, except that store3
//!   lacks every record key of metrics.events (a region it never had), and one employees row
//!   was committed with different bytes at the same commit_ts in store2 and store3 (the planted
//!   conflict; the first store on the command line, store2, wins in the merge).
//! - `expected/{merged,store1,store2,store3}/<db>.<table>.json`: every live table's rows,
//!   `{"db","table","columns","rows"}`, a cell being null, the text MySQL prints, or
//!   `{"hex":..}` when that text is not UTF-8. `expected/dropped/`: the dropped and the truncated
//!   table (merged view). `expected/locks.json`, `divergence.json`, `schema.json`.
//! - After writing, every store is reopened read-only and its per-CF key counts are checked
//!   against what was written.
//!
//! Usage: cargo run -p rockrescue-oracle --bin gen-tikv [-- OUT_DIR]
//!        cargo run -p rockrescue-oracle --bin gen-tikv -- --no-checksum [DIR]   (tikv-nochecksum)
//!        cargo run -p rockrescue-oracle --bin gen-tikv -- --regions [DIR]       (tikv-regions, see
//!        gen-tikv/regions.rs)
//!        cargo run -p rockrescue-oracle --bin gen-tikv -- --br [DIR]            (br, BR backups of
//!        this history, see gen-tikv/br.rs)
// 3.14, 3.14159 and the like are test values, not approximations of π.
#![allow(clippy::approx_constant)]

use rockrescue_oracle::gen::Rng;
use rockrescue_oracle::tikvgen::{self as tg, GoJson, Jv, LockRec, LockType, WriteRec, WriteType};
use rocksdb::{
    BlockBasedOptions, ChecksumType, ColumnFamilyDescriptor, DBCompressionType, IteratorMode,
    Options, WriteBatch, DB,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

#[path = "gen-tikv/br.rs"]
mod br;
#[path = "gen-tikv/regions.rs"]
mod regions;

/// 2026-01-01T00:00:00Z in Unix milliseconds: the physical part of the first TSO.
const BASE_MS: u64 = 1_767_225_600_000;
const STORES: [&str; 3] = ["store1", "store2", "store3"];
/// The cluster id in every store's StoreIdent (and of the BR backups of `--br`).
const TIKV_CLUSTER_ID: u64 = 6_917_529_027_641_081_856;
const CFS: [&str; 4] = ["default", "write", "lock", "raft"];

// FieldType flags (TiDB `mysql` package).
const NOT_NULL: i64 = 1;
const PRI_KEY: i64 = 2;
const UNSIGNED: i64 = 32;
const ZEROFILL: i64 = 64;
const BINARY: i64 = 128;
const NO_DEFAULT: i64 = 4096;

// ---------------------------------------------------------------------------------------------
// Schema model
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Ty {
    Tiny,
    Short,
    Int24,
    Long,
    LongLong,
    Float,
    Double,
    Decimal(u8, u8),
    Char(i64),
    Varchar(i64),
    Text,
    Binary(i64),
    Varbinary(i64),
    Blob,
    Date,
    Datetime(u8),
    Timestamp(u8),
    Time(u8),
    Year,
    Enum(&'static [&'static str]),
    Set(&'static [&'static str]),
    Bit(i64),
    Json,
}

#[derive(Clone, Debug)]
struct Col {
    id: i64,
    name: &'static str,
    ty: Ty,
    flag: i64,
    /// `default` as TiDB stores it (a string), None = JSON null.
    default: Option<String>,
    /// `origin_default`: the value of rows written before the column existed.
    origin_default: Option<String>,
    state: i64,
}

impl Col {
    fn new(id: i64, name: &'static str, ty: Ty) -> Col {
        let flag = match ty {
            Ty::Binary(_) | Ty::Varbinary(_) | Ty::Blob | Ty::Json => BINARY,
            Ty::Year => UNSIGNED | ZEROFILL,
            Ty::Bit(_) => UNSIGNED,
            _ => 0,
        };
        Col {
            id,
            name,
            ty,
            flag,
            default: None,
            origin_default: None,
            state: 5,
        }
    }
    fn flag(mut self, f: i64) -> Col {
        self.flag |= f;
        self
    }
    fn default(mut self, d: &str) -> Col {
        self.default = Some(d.to_string());
        self
    }
}

#[derive(Clone, Debug)]
struct Part {
    id: i64,
    name: &'static str,
    less_than: &'static str,
}

#[derive(Clone, Debug)]
struct Idx {
    id: i64,
    name: &'static str,
    cols: Vec<&'static str>,
    unique: bool,
    primary: bool,
}

#[derive(Clone, Debug)]
struct TableDef {
    id: i64,
    db_id: i64,
    db: &'static str,
    name: &'static str,
    cols: Vec<Col>,
    pk_is_handle: bool,
    common_handle: bool,
    idx: Vec<Idx>,
    /// RANGE partitioning: (expression, definitions).
    parts: Option<(&'static str, Vec<Part>)>,
    state: i64,
    update_ts: u64,
}

impl TableDef {
    fn col(&self, name: &str) -> &Col {
        self.cols.iter().find(|c| c.name == name).unwrap()
    }
    /// Physical table ids, in definition order.
    fn physical_ids(&self) -> Vec<i64> {
        match &self.parts {
            Some((_, ps)) => ps.iter().map(|p| p.id).collect(),
            None => vec![self.id],
        }
    }
    /// Public, non-hidden columns in offset order: what an export shows.
    fn public_cols(&self) -> Vec<&Col> {
        self.cols.iter().filter(|c| c.state == 5).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// A logical cell value. Its column type decides encoding and rendering.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Null,
    I(i64),
    U(u64),
    F(f64),
    /// Decimal text at the column scale.
    Dec(String),
    B(Vec<u8>),
    /// (year, month, day, hour, minute, second, microsecond); DATE has a zero time.
    T(u64, u64, u64, u64, u64, u64, u64),
    /// TIME in nanoseconds.
    Dur(i64),
    J(Jv),
}

fn s(x: &str) -> V {
    V::B(x.as_bytes().to_vec())
}

/// Row formats a record can be written in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fmt {
    V1,
    V2,
    V2Checksum,
}

/// A row as written: the table's physical id, its handle and the values of the columns that
/// existed when it was written (a column added later is absent).
#[derive(Clone, Debug)]
struct Row {
    table: i64,
    phys: i64,
    handle: i64,
    vals: BTreeMap<i64, V>,
}

/// What a write-CF version carries, in the generator's own terms.
#[derive(Clone, Debug)]
enum Payload {
    None,
    Row(Rc<Row>),
    Table(Rc<TableDef>),
    Db(i64, &'static str),
    Raw(Vec<u8>),
}

/// Set by `--no-checksum`: tables are written with checksum type none.
static NO_CHECKSUM: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `gen-tikv --regions [DIR]`: corpus/tikv-regions, the region-aware replica set (regions.rs).
    if args.first().map(String::as_str) == Some("--regions") {
        tg::selftest();
        selftest_local();
        regions::main(args.get(1).map(PathBuf::from));
        return;
    }
    // `gen-tikv --br [DIR]`: corpus/br, BR full backups of this history at T3 (br.rs).
    if args.first().map(String::as_str) == Some("--br") {
        tg::selftest();
        selftest_local();
        br::main(args.get(1).map(PathBuf::from));
        return;
    }
    // `gen-tikv --no-checksum DIR`: only store3, written with checksum type none, into DIR/store3
    // (its expected rows are store3's in corpus/tikv/expected).
    if args.first().map(String::as_str) == Some("--no-checksum") {
        let out = args.get(1).map(PathBuf::from).unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/tikv-nochecksum")
        });
        NO_CHECKSUM.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = std::fs::remove_dir_all(&out);
        let mut g = Gen::new();
        script(&mut g);
        write_store(&g, 2, &out.join(STORES[2]).join("db"));
        eprintln!("gen-tikv: wrote {} (checksum type none)", out.display());
        return;
    }
    let out: PathBuf = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/tikv"));
    tg::selftest();
    selftest_local();
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let mut g = Gen::new();
    script(&mut g);
    let stores: Vec<_> = STORES
        .iter()
        .enumerate()
        .map(|(i, name)| write_store(&g, i, &out.join(name).join("db")))
        .collect();
    // The planted conflict is the only data key whose bytes differ between stores.
    let (craw, cts) = g.conflict.clone().unwrap();
    for cf in ["default", "write", "lock"] {
        for (k, v) in stores[0][cf].iter().filter(|(k, _)| k[0] == b'z') {
            for other in &stores[1..] {
                if let Some(w) = other[cf].get(k) {
                    assert!(v == w, "unplanned conflict in {cf} at {}", hex::encode(k));
                }
            }
        }
        for (k, v) in stores[1][cf].iter().filter(|(k, _)| k[0] == b'z') {
            if let Some(w) = stores[2][cf].get(k) {
                let planted = cf == "write" && *k == tg::ts_key(&craw, cts);
                assert!((v == w) != planted, "{cf} {}", hex::encode(k));
            }
        }
    }
    write_expected(&g, &out.join("expected"));
    eprintln!("gen-tikv: wrote {}", out.display());
}

/// Checks of this file's own encoders and renderers against format-specs/tidb.md §9.
fn selftest_local() {
    let dec = Col::new(1, "d", Ty::Decimal(6, 4));
    assert_eq!(
        hex::encode(cell_v2(&dec, &V::Dec("11.99".into()))),
        "06048b26ac"
    );
    let tm = Col::new(1, "t", Ty::Time(0));
    assert_eq!(
        hex::encode(cell_v2(&tm, &dur(false, 4, 0, 0, 0))),
        "0080e2c2180d0000"
    );
    assert_eq!(render(&tm, &dur(true, 838, 59, 59, 0)), json!("-838:59:59"));
    let t6 = Col::new(1, "t", Ty::Time(6));
    assert_eq!(
        render(&t6, &dur(true, 0, 0, 1, 500000)),
        json!("-00:00:01.500000")
    );
    let ts = Col::new(1, "t", Ty::Timestamp(6));
    let v = V::T(2011, 11, 10, 11, 11, 11, 999999);
    assert_eq!(packed(&v), 1840446893366133311);
    assert_eq!(render(&ts, &v), json!("2011-11-10 11:11:11.999999"));
    let mut ch = key_datum(&s("abc"));
    ch.extend(key_datum(&V::I(7)));
    assert_eq!(
        hex::encode(tg::record_key_common(10, &ch)),
        "74800000000000000a5f72016162630000000000fa038000000000000007"
    );
    let mut v1 = datum_v1(&Col::new(1, "a", Ty::Long), &V::I(100));
    v1.extend(datum_v1(&Col::new(2, "b", Ty::Varchar(3)), &s("abc")));
    assert_eq!(hex::encode(&v1), "08c8010206616263");
    let bit = Col::new(1, "b", Ty::Bit(10));
    assert_eq!(render(&bit, &V::U(1023)), json!({"hex": "03ff"}));
    assert_eq!(
        render(&Col::new(1, "s", Ty::Set(LETTERS)), &V::U(0b0101)),
        json!("a,c")
    );
    assert_eq!(
        render(&Col::new(1, "f", Ty::Float), &V::F(3.14f32 as f64)),
        json!("3.14")
    );
    assert_eq!(
        render(&Col::new(1, "f", Ty::Double), &V::F(100.0)),
        json!("100")
    );
    assert_eq!(
        render(&Col::new(1, "c", Ty::Char(10)), &s("pad  ")),
        json!("pad")
    );
}

// ---------------------------------------------------------------------------------------------
// Value encoding (rowcodec v2 cells, v1 datums, comparable key datums)
// ---------------------------------------------------------------------------------------------

fn packed(v: &V) -> u64 {
    match v {
        V::T(y, mo, d, h, mi, s, us) => tg::packed_time(*y, *mo, *d, *h, *mi, *s, *us),
        _ => panic!("not a time: {v:?}"),
    }
}

fn dec_bin(col: &Col, d: &str) -> Vec<u8> {
    let Ty::Decimal(p, f) = col.ty else {
        panic!("{} is not DECIMAL", col.name)
    };
    // Stored (prec, frac) = the column's: the datum is cast to the column type before encoding.
    let mut b = vec![p, f];
    b.extend_from_slice(&tg::decimal_bin(d, p as usize, f as usize));
    b
}

/// rowcodec `encodeValueDatum` for one non-NULL value.
fn cell_v2(col: &Col, v: &V) -> Vec<u8> {
    let mut b = Vec::new();
    match (&col.ty, v) {
        (_, V::I(i)) => tg::rc_int(&mut b, *i),
        (_, V::U(u)) => tg::rc_uint(&mut b, *u),
        (Ty::Float | Ty::Double, V::F(f)) => b.extend_from_slice(&tg::cmp_f64(*f)),
        (Ty::Decimal(..), V::Dec(d)) => b = dec_bin(col, d),
        (_, V::B(x)) => b.extend_from_slice(x),
        (Ty::Date | Ty::Datetime(_) | Ty::Timestamp(_), V::T(..)) => tg::rc_uint(&mut b, packed(v)),
        (Ty::Time(_), V::Dur(n)) => tg::rc_int(&mut b, *n),
        (Ty::Json, V::J(j)) => {
            let (tc, body) = j.to_binary();
            b.push(tc);
            b.extend_from_slice(&body);
        }
        _ => panic!("cannot encode {v:?} for {}", col.name),
    }
    b
}

/// `EncodeOldRow` value datum: `flatten` then `codec.EncodeValue`.
fn datum_v1(col: &Col, v: &V) -> Vec<u8> {
    let mut b = Vec::new();
    match (&col.ty, v) {
        (_, V::Null) => b.push(0x00),
        (_, V::I(i)) => {
            b.push(0x08);
            tg::put_varint(&mut b, *i);
        }
        (_, V::U(u)) => {
            b.push(0x09);
            tg::put_uvarint(&mut b, *u);
        }
        (Ty::Float | Ty::Double, V::F(f)) => {
            b.push(0x05);
            b.extend_from_slice(&tg::cmp_f64(*f));
        }
        (Ty::Decimal(..), V::Dec(d)) => {
            b.push(0x06);
            b.extend_from_slice(&dec_bin(col, d));
        }
        (_, V::B(x)) => {
            b.push(0x02);
            tg::put_compact_bytes(&mut b, x);
        }
        (Ty::Date | Ty::Datetime(_) | Ty::Timestamp(_), V::T(..)) => {
            b.push(0x09);
            tg::put_uvarint(&mut b, packed(v));
        }
        (Ty::Time(_), V::Dur(n)) => {
            b.push(0x08);
            tg::put_varint(&mut b, *n);
        }
        (Ty::Json, V::J(j)) => {
            let (tc, body) = j.to_binary();
            b.push(0x0A);
            b.push(tc);
            b.extend_from_slice(&body);
        }
        _ => panic!("cannot encode {v:?} for {}", col.name),
    }
    b
}

/// Comparable key datum (`codec.EncodeKey`) for handle and index columns. Strings are
/// utf8mb4_bin here, whose collation key is the value without trailing spaces.
fn key_datum(v: &V) -> Vec<u8> {
    let mut b = Vec::new();
    match v {
        V::Null => b.push(0x00),
        V::I(i) => {
            b.push(0x03);
            b.extend_from_slice(&tg::cmp_i64(*i));
        }
        V::B(x) => {
            let mut n = x.len();
            while n > 0 && x[n - 1] == b' ' {
                n -= 1;
            }
            b.push(0x01);
            tg::mc_encode(&mut b, &x[..n]);
        }
        _ => panic!("no key datum for {v:?}"),
    }
    b
}

/// Whether TiDB leaves the column out of the row value (`tables.CanSkip`).
fn can_skip(t: &TableDef, col: &Col, v: &V) -> bool {
    if t.pk_is_handle && col.flag & PRI_KEY != 0 {
        return true;
    }
    if t.common_handle && col.flag & PRI_KEY != 0 {
        // Full-length PK column without restored data; a utf8mb4_bin VARCHAR needs restored
        // data (`NeedRestoredData`), so it stays in the row.
        return !matches!(col.ty, Ty::Varchar(_) | Ty::Char(_) | Ty::Text);
    }
    *v == V::Null && col.default.is_none() && col.origin_default.is_none()
}

/// The row value TiDB writes for `row` under schema `t`.
fn encode_row(t: &TableDef, row: &Row, fmt: Fmt) -> Vec<u8> {
    let cols: Vec<(&Col, &V)> = t
        .cols
        .iter()
        .filter_map(|c| row.vals.get(&c.id).map(|v| (c, v)))
        .filter(|(c, v)| !can_skip(t, c, v))
        .collect();
    match fmt {
        Fmt::V1 => tg::row_v1(
            &cols
                .iter()
                .map(|(c, v)| (c.id, datum_v1(c, v)))
                .collect::<Vec<_>>(),
        ),
        Fmt::V2 | Fmt::V2Checksum => {
            let cells: Vec<(i64, Option<Vec<u8>>)> = cols
                .iter()
                .map(|(c, v)| (c.id, (**v != V::Null).then(|| cell_v2(c, v))))
                .collect();
            let h = tg::cmp_i64(row.handle);
            tg::row_v2(&cells, (fmt == Fmt::V2Checksum).then_some(&h[..]))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering: the text the MySQL client prints
// ---------------------------------------------------------------------------------------------

fn text_cell(b: Vec<u8>) -> Value {
    match String::from_utf8(b) {
        Ok(s) => Value::String(s),
        Err(e) => json!({ "hex": hex::encode(e.into_bytes()) }),
    }
}

fn frac(us: u64, fsp: u8) -> String {
    if fsp == 0 {
        return String::new();
    }
    let digits = format!("{us:06}");
    format!(".{}", &digits[..fsp as usize])
}

fn render(col: &Col, v: &V) -> Value {
    let txt = match (&col.ty, v) {
        (_, V::Null) => return Value::Null,
        (Ty::Year, V::I(y)) => format!("{y:04}"),
        (_, V::I(i)) => i.to_string(),
        (Ty::Enum(el), V::U(u)) => match *u {
            0 => String::new(),
            n => el[n as usize - 1].to_string(),
        },
        (Ty::Set(el), V::U(u)) => el
            .iter()
            .enumerate()
            .filter(|(i, _)| u & (1 << i) != 0)
            .map(|(_, e)| *e)
            .collect::<Vec<_>>()
            .join(","),
        (Ty::Bit(m), V::U(u)) => {
            let n = ((m + 7) / 8) as usize;
            return text_cell(u.to_be_bytes()[8 - n..].to_vec());
        }
        (_, V::U(u)) => u.to_string(),
        (Ty::Float, V::F(f)) => format!("{}", *f as f32),
        (Ty::Double, V::F(f)) => format!("{f}"),
        (Ty::Decimal(..), V::Dec(d)) => d.clone(),
        (Ty::Char(_), V::B(x)) => {
            let mut x = x.clone();
            while x.last() == Some(&b' ') {
                x.pop();
            }
            return text_cell(x);
        }
        (_, V::B(x)) => return text_cell(x.clone()),
        (Ty::Date, V::T(y, mo, d, ..)) => format!("{y:04}-{mo:02}-{d:02}"),
        (Ty::Datetime(fsp) | Ty::Timestamp(fsp), V::T(y, mo, d, h, mi, s, us)) => {
            format!(
                "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{}",
                frac(*us, *fsp)
            )
        }
        (Ty::Time(fsp), V::Dur(n)) => {
            let a = n.unsigned_abs();
            let secs = a / 1_000_000_000;
            let us = a % 1_000_000_000 / 1000;
            let sign = if *n < 0 { "-" } else { "" };
            format!(
                "{sign}{:02}:{:02}:{:02}{}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                frac(us, *fsp)
            )
        }
        (Ty::Json, V::J(j)) => j.to_tidb_string(),
        _ => panic!("cannot render {v:?} for {}", col.name),
    };
    Value::String(txt)
}

/// A column's value for a row written before the column existed: its `origin_default`.
fn render_origin_default(col: &Col) -> Value {
    match &col.origin_default {
        None => Value::Null,
        // Only VARCHAR and INT columns are added later here; both print their default text.
        Some(d) => Value::String(d.clone()),
    }
}

// ---------------------------------------------------------------------------------------------
// Schema JSON (field order of TiDB v8.5's `json.Marshal` of model.DBInfo / TableInfo)
// ---------------------------------------------------------------------------------------------

/// (Tp, Flen, Decimal, charset+collate, Elems) of a column type.
fn field_type(c: &Col) -> (i64, i64, i64, &'static str, Option<&'static [&'static str]>) {
    let u = c.flag & UNSIGNED != 0;
    let fsp_len = |base: i64, f: u8| if f > 0 { base + 1 + f as i64 } else { base };
    match c.ty {
        Ty::Tiny => (1, if u { 3 } else { 4 }, 0, "binary", None),
        Ty::Short => (2, if u { 5 } else { 6 }, 0, "binary", None),
        Ty::Int24 => (9, if u { 8 } else { 9 }, 0, "binary", None),
        Ty::Long => (3, if u { 10 } else { 11 }, 0, "binary", None),
        Ty::LongLong => (8, 20, 0, "binary", None),
        Ty::Float => (4, 12, -1, "binary", None),
        Ty::Double => (5, 22, -1, "binary", None),
        Ty::Decimal(p, f) => (246, p as i64, f as i64, "binary", None),
        Ty::Char(n) => (254, n, 0, "utf8mb4", None),
        Ty::Varchar(n) => (15, n, 0, "utf8mb4", None),
        Ty::Text => (252, 65535, 0, "utf8mb4", None),
        Ty::Binary(n) => (254, n, 0, "binary", None),
        Ty::Varbinary(n) => (15, n, 0, "binary", None),
        Ty::Blob => (251, 4294967295, 0, "binary", None), // longblob: one value is over 64 KiB
        Ty::Date => (10, 10, 0, "binary", None),
        Ty::Datetime(f) => (12, fsp_len(19, f), f as i64, "binary", None),
        Ty::Timestamp(f) => (7, fsp_len(19, f), f as i64, "binary", None),
        Ty::Time(f) => (11, fsp_len(10, f), f as i64, "binary", None),
        Ty::Year => (13, 4, 0, "binary", None),
        Ty::Enum(e) => (
            247,
            e.iter().map(|x| x.len() as i64).max().unwrap(),
            0,
            "utf8mb4",
            Some(e),
        ),
        Ty::Set(e) => (
            248,
            e.iter().map(|x| x.len() as i64 + 1).sum::<i64>() - 1,
            0,
            "utf8mb4",
            Some(e),
        ),
        Ty::Bit(m) => (16, m, 0, "binary", None),
        Ty::Json => (245, 4294967295, 0, "binary", None),
    }
}

fn col_json(c: &Col, offset: usize) -> GoJson {
    let (tp, flen, dec, cs, elems) = field_type(c);
    let collate = if cs == "binary" {
        "binary"
    } else {
        "utf8mb4_bin"
    };
    let ft = GoJson::Obj(vec![
        ("Tp", GoJson::Int(tp)),
        ("Flag", GoJson::Int(c.flag)),
        ("Flen", GoJson::Int(flen)),
        ("Decimal", GoJson::Int(dec)),
        ("Charset", GoJson::s(cs)),
        ("Collate", GoJson::s(collate)),
        (
            "Elems",
            match elems {
                Some(e) => GoJson::Arr(e.iter().map(|x| GoJson::s(x)).collect()),
                None => GoJson::Null,
            },
        ),
        ("ElemsIsBinaryLit", GoJson::Null),
        ("Array", GoJson::Bool(false)),
    ]);
    GoJson::Obj(vec![
        ("id", GoJson::Int(c.id)),
        ("name", GoJson::cistr(c.name)),
        ("offset", GoJson::Int(offset as i64)),
        ("origin_default", GoJson::opt_str(&c.origin_default)),
        ("origin_default_bit", GoJson::Null),
        ("default", GoJson::opt_str(&c.default)),
        ("default_bit", GoJson::Null),
        ("default_is_expr", GoJson::Bool(false)),
        ("generated_expr_string", GoJson::s("")),
        ("generated_stored", GoJson::Bool(false)),
        ("dependences", GoJson::Null),
        ("type", ft),
        ("state", GoJson::Int(c.state)),
        ("comment", GoJson::s("")),
        ("hidden", GoJson::Bool(false)),
        ("change_state_info", GoJson::Null),
        ("version", GoJson::Int(2)),
    ])
}

fn idx_json(t: &TableDef, i: &Idx) -> GoJson {
    let cols = i
        .cols
        .iter()
        .map(|n| {
            let off = t.cols.iter().position(|c| c.name == *n).unwrap();
            GoJson::Obj(vec![
                ("name", GoJson::cistr(n)),
                ("offset", GoJson::Int(off as i64)),
                ("length", GoJson::Int(-1)),
            ])
        })
        .collect();
    GoJson::Obj(vec![
        ("id", GoJson::Int(i.id)),
        ("idx_name", GoJson::cistr(i.name)),
        ("tbl_name", GoJson::cistr(t.name)),
        ("idx_cols", GoJson::Arr(cols)),
        ("state", GoJson::Int(5)),
        ("backfill_state", GoJson::Int(0)),
        ("comment", GoJson::s("")),
        ("index_type", GoJson::Int(1)),
        ("is_unique", GoJson::Bool(i.unique)),
        ("is_primary", GoJson::Bool(i.primary)),
        ("is_invisible", GoJson::Bool(false)),
        ("is_global", GoJson::Bool(false)),
        ("mv_index", GoJson::Bool(false)),
        ("vector_index", GoJson::Null),
    ])
}

fn partition_json(expr: &str, parts: &[Part]) -> GoJson {
    let defs = parts
        .iter()
        .map(|p| {
            GoJson::Obj(vec![
                ("id", GoJson::Int(p.id)),
                ("name", GoJson::cistr(p.name)),
                ("less_than", GoJson::Arr(vec![GoJson::s(p.less_than)])),
                ("in_values", GoJson::Null),
                ("policy_ref_info", GoJson::Null),
            ])
        })
        .collect();
    GoJson::Obj(vec![
        ("type", GoJson::Int(1)),
        ("expr", GoJson::s(expr)),
        ("columns", GoJson::Null),
        ("enable", GoJson::Bool(true)),
        ("is_empty_columns", GoJson::Bool(false)),
        ("definitions", GoJson::Arr(defs)),
        ("adding_definitions", GoJson::Null),
        ("dropping_definitions", GoJson::Null),
        ("states", GoJson::Null),
        ("num", GoJson::Int(parts.len() as i64)),
        ("ddl_state", GoJson::Int(0)),
    ])
}

fn table_json(t: &TableDef) -> Vec<u8> {
    let zero = || GoJson::Int(0);
    let idx = if t.idx.is_empty() {
        GoJson::Null
    } else {
        GoJson::Arr(t.idx.iter().map(|i| idx_json(t, i)).collect())
    };
    let j = GoJson::Obj(vec![
        ("id", GoJson::Int(t.id)),
        ("name", GoJson::cistr(t.name)),
        ("charset", GoJson::s("utf8mb4")),
        ("collate", GoJson::s("utf8mb4_bin")),
        (
            "cols",
            GoJson::Arr(
                t.cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| col_json(c, i))
                    .collect(),
            ),
        ),
        ("index_info", idx),
        ("constraint_info", GoJson::Null),
        ("fk_info", GoJson::Null),
        ("state", GoJson::Int(t.state)),
        ("pk_is_handle", GoJson::Bool(t.pk_is_handle)),
        ("is_common_handle", GoJson::Bool(t.common_handle)),
        ("common_handle_version", GoJson::Int(t.common_handle as i64)),
        ("comment", GoJson::s("")),
        ("auto_inc_id", zero()),
        ("auto_id_cache", zero()),
        ("auto_rand_id", zero()),
        (
            "max_col_id",
            GoJson::Int(t.cols.iter().map(|c| c.id).max().unwrap()),
        ),
        (
            "max_idx_id",
            GoJson::Int(t.idx.iter().map(|i| i.id).max().unwrap_or(0)),
        ),
        ("max_fk_id", zero()),
        ("max_cst_id", zero()),
        ("update_timestamp", GoJson::Int(t.update_ts as i64)),
        ("ShardRowIDBits", zero()),
        ("max_shard_row_id_bits", zero()),
        ("auto_random_bits", zero()),
        ("auto_random_range_bits", zero()),
        ("pre_split_regions", zero()),
        (
            "partition",
            match &t.parts {
                Some((e, p)) => partition_json(e, p),
                None => GoJson::Null,
            },
        ),
        ("compression", GoJson::s("")),
        ("view", GoJson::Null),
        ("sequence", GoJson::Null),
        ("Lock", GoJson::Null),
        ("version", GoJson::Int(5)),
        ("tiflash_replica", GoJson::Null),
        ("is_columnar", GoJson::Bool(false)),
        ("temp_table_type", zero()),
        ("cache_table_status", zero()),
        ("policy_ref_info", GoJson::Null),
        ("stats_options", GoJson::Null),
        ("exchange_partition_info", GoJson::Null),
        ("ttl_info", GoJson::Null),
        ("revision", zero()),
    ]);
    j.marshal().into_bytes()
}

/// DBInfo in `state` (5 = public; DROP DATABASE goes through 2 write only and 1 delete only).
fn db_json(id: i64, name: &str, state: i64) -> Vec<u8> {
    GoJson::Obj(vec![
        ("id", GoJson::Int(id)),
        ("db_name", GoJson::cistr(name)),
        ("charset", GoJson::s("utf8mb4")),
        ("collate", GoJson::s("utf8mb4_bin")),
        ("Deprecated", GoJson::Obj(vec![])),
        ("state", GoJson::Int(state)),
        ("policy_ref_info", GoJson::Null),
    ])
    .marshal()
    .into_bytes()
}

// ---------------------------------------------------------------------------------------------
// History: transactions → RocksDB operations (physical) and write-CF versions (logical)
// ---------------------------------------------------------------------------------------------

/// One RocksDB operation of the history, applied by every store whose cutoff is >= `time`.
struct Phys {
    time: u64,
    cf: &'static str,
    key: Vec<u8>,
    /// None = delete.
    val: Option<Vec<u8>>,
    /// store3's bytes where they differ (the planted conflict).
    alt3: Option<Vec<u8>>,
    /// The raw TiDB key (for the region store3 lacks); empty for local keys.
    raw: Vec<u8>,
}

enum Ev {
    Op(Phys),
    Flush(u64, Vec<&'static str>),
    /// Full-range manual compaction of the CFs; `Some(level)`: move the result to that level.
    Compact(u64, Vec<&'static str>, Option<i32>),
}

/// A write-CF record in logical form: what resolution (tikv.md §7) works on.
#[derive(Clone)]
struct LWrite {
    raw: Vec<u8>,
    key_ts: u64,
    /// When it appears (commit ts, rollback time, or the time of a rewrite).
    time: u64,
    kind: WriteType,
    start_ts: u64,
    payload: Payload,
    alt3: Option<Payload>,
    gc_fence: Option<u64>,
    last_change: Option<(u64, u64)>,
    rec: WriteRec,
}

/// A prewrite's lock, for expected/locks.json.
struct LockNote {
    raw: Vec<u8>,
    primary: Vec<u8>,
    start_ts: u64,
    lock_type: LockType,
    /// (time, "committed" | "rolled_back") once resolved.
    resolved: Option<(u64, &'static str)>,
}

enum MutOp {
    Put(Payload, Vec<u8>),
    Del,
    Lock,
}

struct Mut {
    raw: Vec<u8>,
    op: MutOp,
    /// store3's payload and bytes (the planted conflict).
    alt3: Option<(Payload, Vec<u8>)>,
}

/// A prewritten transaction waiting for commit or rollback.
struct Pending {
    start_ts: u64,
    muts: Vec<Mut>,
    notes: Vec<usize>,
}

const EVENTS_ID: i64 = 121;

/// Whether store `s` (0-based) holds `raw`: store3 never had metrics.events' region.
fn store_has(s: usize, raw: &[u8]) -> bool {
    !(s == 2 && raw.starts_with(&tg::record_prefix(EVENTS_ID)))
}

struct Gen {
    k: u64,
    evs: Vec<Ev>,
    writes: Vec<LWrite>,
    locks: Vec<LockNote>,
    /// Current definition of every table ever created (dropped ones keep their last one).
    tables: BTreeMap<i64, TableDef>,
    dbs: Vec<(i64, &'static str)>,
    /// The globally newest committed row per record key.
    rows: BTreeMap<Vec<u8>, Rc<Row>>,
    schema_ver: i64,
    /// Cutoffs T1, T2, T3.
    t: [u64; 3],
    rng: Rng,
    /// (raw key, commit ts) of the planted conflict.
    conflict: Option<(Vec<u8>, u64)>,
    /// (table id, ts) of DROP TABLE and (old id, new id, ts) of TRUNCATE TABLE.
    dropped: Vec<(i64, u64)>,
    truncated: Vec<(i64, i64, u64)>,
}

impl Gen {
    fn new() -> Gen {
        Gen {
            k: 0,
            evs: Vec::new(),
            writes: Vec::new(),
            locks: Vec::new(),
            tables: BTreeMap::new(),
            dbs: Vec::new(),
            rows: BTreeMap::new(),
            schema_ver: 0,
            t: [0; 3],
            rng: Rng::new(0x7469_6b76),
            conflict: None,
            dropped: Vec::new(),
            truncated: Vec::new(),
        }
    }

    /// Next TSO: one second apart, small logical parts, strictly increasing.
    fn tick(&mut self) -> u64 {
        self.k += 1;
        tg::tso(BASE_MS + self.k * 1000, self.k % 4)
    }

    fn op(
        &mut self,
        time: u64,
        cf: &'static str,
        key: Vec<u8>,
        val: Option<Vec<u8>>,
        alt3: Option<Vec<u8>>,
        raw: &[u8],
    ) {
        self.evs.push(Ev::Op(Phys {
            time,
            cf,
            key,
            val,
            alt3,
            raw: raw.to_vec(),
        }));
    }

    fn flush(&mut self, cfs: &[&'static str]) {
        let t = self.tick();
        self.evs.push(Ev::Flush(t, cfs.to_vec()));
    }

    fn compact(&mut self, cfs: &[&'static str], level: Option<i32>) {
        let t = self.tick();
        self.evs.push(Ev::Compact(t, cfs.to_vec(), level));
    }

    /// The newest logical write of `raw` so far (any store).
    fn latest(&self, raw: &[u8]) -> Option<&LWrite> {
        self.writes
            .iter()
            .filter(|w| w.raw == raw)
            .max_by_key(|w| (w.key_ts, w.time))
    }

    fn prewrite(&mut self, muts: Vec<Mut>) -> Pending {
        let start = self.tick();
        let primary = muts[0].raw.clone();
        let mut notes = Vec::new();
        for m in &muts {
            let lt = match m.op {
                MutOp::Put(..) => LockType::Put,
                MutOp::Del => LockType::Delete,
                MutOp::Lock => LockType::Lock,
            };
            let lock_bytes = |bytes: Option<&Vec<u8>>| {
                let mut l = LockRec::new(lt, &primary, start, 3000);
                l.txn_size = muts.len() as u64;
                if let Some(b) = bytes {
                    if b.len() <= tg::SHORT_VALUE_MAX_LEN {
                        l.short_value = Some(b.clone());
                    }
                }
                l.to_bytes()
            };
            let (main, alt) = match &m.op {
                MutOp::Put(_, b) => (
                    lock_bytes(Some(b)),
                    m.alt3.as_ref().map(|(_, a)| lock_bytes(Some(a))),
                ),
                _ => (lock_bytes(None), None),
            };
            if let MutOp::Put(_, b) = &m.op {
                if b.len() > tg::SHORT_VALUE_MAX_LEN {
                    let alt = m.alt3.as_ref().map(|(_, a)| a.clone());
                    self.op(
                        start,
                        "default",
                        tg::ts_key(&m.raw, start),
                        Some(b.clone()),
                        alt,
                        &m.raw,
                    );
                }
            }
            self.op(start, "lock", tg::lock_key(&m.raw), Some(main), alt, &m.raw);
            notes.push(self.locks.len());
            self.locks.push(LockNote {
                raw: m.raw.clone(),
                primary: primary.clone(),
                start_ts: start,
                lock_type: lt,
                resolved: None,
            });
        }
        Pending {
            start_ts: start,
            muts,
            notes,
        }
    }

    fn commit(&mut self, p: Pending) -> u64 {
        let c = self.tick();
        for m in p.muts {
            let (kind, payload, alt3p, short, alt_short) = match m.op {
                MutOp::Put(pl, b) => {
                    let short =
                        |b: &Vec<u8>| (b.len() <= tg::SHORT_VALUE_MAX_LEN).then(|| b.clone());
                    let alt_short = m.alt3.as_ref().map(|(_, a)| short(a));
                    (
                        WriteType::Put,
                        pl,
                        m.alt3.map(|(p, _)| p),
                        short(&b),
                        alt_short,
                    )
                }
                MutOp::Del => (WriteType::Delete, Payload::None, None, None, None),
                MutOp::Lock => (WriteType::Lock, Payload::None, None, None, None),
            };
            let last_change = (kind == WriteType::Lock).then(|| match self.latest(&m.raw) {
                None => Some((0, 1)),
                Some(w) if matches!(w.kind, WriteType::Put | WriteType::Delete) => {
                    Some((w.key_ts, 1))
                }
                Some(w) => w.last_change.map(|(ts, n)| (ts, n + 1)),
            });
            let last_change = last_change.flatten();
            let mut rec = WriteRec::new(kind, p.start_ts, short);
            rec.last_change = last_change;
            let alt = alt_short.map(|a| WriteRec::new(kind, p.start_ts, a).to_bytes());
            self.op(
                c,
                "write",
                tg::ts_key(&m.raw, c),
                Some(rec.to_bytes()),
                alt,
                &m.raw,
            );
            self.op(c, "lock", tg::lock_key(&m.raw), None, None, &m.raw);
            match &payload {
                Payload::Row(r) => {
                    self.rows.insert(m.raw.clone(), r.clone());
                }
                _ if kind == WriteType::Delete => {
                    self.rows.remove(&m.raw);
                }
                _ => {}
            }
            self.writes.push(LWrite {
                raw: m.raw,
                key_ts: c,
                time: c,
                kind,
                start_ts: p.start_ts,
                payload,
                alt3: alt3p,
                gc_fence: None,
                last_change,
                rec,
            });
        }
        for n in p.notes {
            self.locks[n].resolved = Some((c, "committed"));
        }
        c
    }

    fn rollback(&mut self, p: Pending) {
        let r = self.tick();
        let primary = p.muts[0].raw.clone();
        for m in p.muts {
            self.op(r, "lock", tg::lock_key(&m.raw), None, None, &m.raw);
            if let MutOp::Put(_, b) = &m.op {
                if b.len() > tg::SHORT_VALUE_MAX_LEN {
                    self.op(
                        r,
                        "default",
                        tg::ts_key(&m.raw, p.start_ts),
                        None,
                        None,
                        &m.raw,
                    );
                }
            }
            // The primary's rollback is protected (short value "p"), as TiKV writes it.
            let protected = (m.raw == primary).then(|| b"p".to_vec());
            let rec = WriteRec::new(WriteType::Rollback, p.start_ts, protected);
            let b = rec.to_bytes();
            self.op(
                r,
                "write",
                tg::ts_key(&m.raw, p.start_ts),
                Some(b),
                None,
                &m.raw,
            );
            self.writes.push(LWrite {
                raw: m.raw,
                key_ts: p.start_ts,
                time: r,
                kind: WriteType::Rollback,
                start_ts: p.start_ts,
                payload: Payload::None,
                alt3: None,
                gc_fence: None,
                last_change: None,
                rec,
            });
        }
        for n in p.notes {
            self.locks[n].resolved = Some((r, "rolled_back"));
        }
    }

    fn txn(&mut self, muts: Vec<Mut>) -> u64 {
        let p = self.prewrite(muts);
        self.commit(p)
    }
}

// ---------------------------------------------------------------------------------------------
// Rows and DDL
// ---------------------------------------------------------------------------------------------

/// The value a column gets when an INSERT leaves it out: its `default` (VARCHAR/INT only here).
fn default_value(c: &Col) -> V {
    match (&c.default, &c.ty) {
        (None, _) => V::Null,
        (Some(d), Ty::Varchar(_) | Ty::Char(_)) => s(d),
        (Some(d), Ty::Tiny | Ty::Short | Ty::Long | Ty::LongLong) => V::I(d.parse().unwrap()),
        (Some(d), t) => panic!("default {d} of {t:?} not modelled"),
    }
}

/// The partition of a RANGE-partitioned table that holds `handle` (the partition expression is
/// the integer PK itself).
fn route(t: &TableDef, handle: i64) -> i64 {
    match &t.parts {
        None => t.id,
        Some((_, ps)) => {
            ps.iter()
                .find(|p| p.less_than == "MAXVALUE" || handle < p.less_than.parse::<i64>().unwrap())
                .unwrap()
                .id
        }
    }
}

fn record_key(t: &TableDef, phys: i64, handle: i64, vals: &BTreeMap<i64, V>) -> Vec<u8> {
    if t.common_handle {
        let pk = t.idx.iter().find(|i| i.primary).unwrap();
        let mut d = Vec::new();
        for n in &pk.cols {
            d.extend_from_slice(&key_datum(&vals[&t.col(n).id]));
        }
        tg::record_key_common(phys, &d)
    } else {
        tg::record_key_int(phys, handle)
    }
}

/// Whether an index entry is "distinct" (TiDB `GenIndexKey`): a unique index whose values are
/// all non-NULL. Its key has no handle; the handle goes into the value.
fn distinct(t: &TableDef, i: &Idx, vals: &BTreeMap<i64, V>) -> bool {
    i.unique
        && i.cols
            .iter()
            .all(|n| !matches!(vals.get(&t.col(n).id), None | Some(V::Null)))
}

fn index_key(t: &TableDef, i: &Idx, phys: i64, handle: i64, vals: &BTreeMap<i64, V>) -> Vec<u8> {
    let mut d = Vec::new();
    for n in &i.cols {
        d.extend_from_slice(&key_datum(vals.get(&t.col(n).id).unwrap_or(&V::Null)));
    }
    // Non-unique index (or a unique one holding a NULL): the int handle follows the datums.
    if !distinct(t, i, vals) {
        d.extend_from_slice(&key_datum(&V::I(handle)));
    }
    tg::index_key(phys, i.id, &d)
}

/// The index value TiDB writes for an int-handle (non-clustered) table (`genIndexValueVersion0`):
/// with new collations a utf8mb4_bin VARCHAR column needs restored data (`NeedRestoredData`), so
/// the value is tail length, the index columns' values as a rowcodec v2 row (its first byte 0x80
/// is the restored-data flag) and, for a distinct entry, the 8-byte handle (tail length 8); a
/// non-distinct entry is padded to 10 bytes. Without restored data: the 8-byte handle for a
/// distinct entry, else "0".
fn index_value(t: &TableDef, i: &Idx, handle: i64, vals: &BTreeMap<i64, V>) -> Vec<u8> {
    assert!(
        !t.common_handle,
        "clustered tables' index values are not modelled"
    );
    let dist = distinct(t, i, vals);
    let restore = i.cols.iter().any(|n| matches!(t.col(n).ty, Ty::Varchar(_)));
    if !restore {
        return if dist {
            (handle as u64).to_be_bytes().to_vec()
        } else {
            b"0".to_vec()
        };
    }
    let cells: Vec<(i64, Option<Vec<u8>>)> = i
        .cols
        .iter()
        .map(|n| {
            let c = t.col(n);
            let v = vals.get(&c.id).unwrap_or(&V::Null);
            (c.id, (*v != V::Null).then(|| cell_v2(c, v)))
        })
        .collect();
    let mut out = vec![0];
    out.extend_from_slice(&tg::row_v2(&cells, None));
    if dist {
        out.extend_from_slice(&(handle as u64).to_be_bytes());
        out[0] = 8;
    } else if out.len() < 10 {
        let pad = 10 - out.len();
        out.resize(10, 0);
        out[0] = pad as u8;
    }
    out
}

impl Gen {
    fn def(&self, tid: i64) -> &TableDef {
        &self.tables[&tid]
    }

    /// The TSO the next `tick` returns.
    fn peek(&self) -> u64 {
        let k = self.k + 1;
        tg::tso(BASE_MS + k * 1000, k % 4)
    }

    /// The record key of an int-handle row.
    fn key(&self, tid: i64, handle: i64) -> Vec<u8> {
        let t = self.def(tid);
        tg::record_key_int(route(t, handle), handle)
    }

    /// Index mutations for a row going from `old` to `new`: every index but a clustered primary
    /// key (non-unique ones get value "0", as TiDB writes it for an int handle without restored
    /// data; see `index_value`).
    fn index_muts(
        &self,
        t: &TableDef,
        phys: i64,
        handle: i64,
        old: Option<&Row>,
        new: Option<&BTreeMap<i64, V>>,
    ) -> Vec<Mut> {
        let mut out = Vec::new();
        for i in t.idx.iter().filter(|i| !(i.primary && t.common_handle)) {
            let ok = old.map(|r| index_key(t, i, phys, handle, &r.vals));
            let nk = new.map(|v| index_key(t, i, phys, handle, v));
            if ok == nk {
                continue;
            }
            if let Some(k) = ok {
                out.push(Mut {
                    raw: k,
                    op: MutOp::Del,
                    alt3: None,
                });
            }
            if let Some(k) = nk {
                let b = index_value(t, i, handle, new.unwrap());
                let op = MutOp::Put(Payload::Raw(b.clone()), b);
                out.push(Mut {
                    raw: k,
                    op,
                    alt3: None,
                });
            }
        }
        out
    }

    /// INSERT (or full-row REPLACE) of a row; columns not named get their default.
    fn put_row(&self, tid: i64, handle: i64, vals: Vec<(&str, V)>, fmt: Fmt) -> Vec<Mut> {
        let t = self.def(tid);
        let mut m: BTreeMap<i64, V> = t.cols.iter().map(|c| (c.id, default_value(c))).collect();
        for (n, v) in vals {
            m.insert(t.col(n).id, v);
        }
        let handle = if t.pk_is_handle {
            let pk = t.cols.iter().find(|c| c.flag & PRI_KEY != 0).unwrap();
            match m[&pk.id] {
                V::I(h) => h,
                ref o => panic!("pk {o:?}"),
            }
        } else {
            handle
        };
        self.row_muts(t, handle, m, fmt)
    }

    fn row_muts(&self, t: &TableDef, handle: i64, vals: BTreeMap<i64, V>, fmt: Fmt) -> Vec<Mut> {
        let phys = route(t, handle);
        let raw = record_key(t, phys, handle, &vals);
        let old = self.rows.get(&raw).cloned();
        let mut out = self.index_muts(t, phys, handle, old.as_deref(), Some(&vals));
        let row = Rc::new(Row {
            table: t.id,
            phys,
            handle,
            vals,
        });
        let bytes = encode_row(t, &row, fmt);
        out.insert(
            0,
            Mut {
                raw,
                op: MutOp::Put(Payload::Row(row), bytes),
                alt3: None,
            },
        );
        out
    }

    /// UPDATE of an existing row: its current values with `changes` applied, re-encoded with the
    /// table's current schema (so a row written before ADD COLUMN gains the column's default).
    fn upd_row(&self, raw: &[u8], changes: Vec<(&str, V)>, fmt: Fmt) -> Vec<Mut> {
        let old = self
            .rows
            .get(raw)
            .unwrap_or_else(|| panic!("no row {}", hex::encode(raw)));
        let t = self.def(old.table);
        let mut m = old.vals.clone();
        for c in &t.cols {
            m.entry(c.id).or_insert_with(|| match &c.origin_default {
                None => V::Null,
                Some(_) => default_value(c),
            });
        }
        for (n, v) in changes {
            m.insert(t.col(n).id, v);
        }
        self.row_muts(t, old.handle, m, fmt)
    }

    fn del_row(&self, raw: &[u8]) -> Vec<Mut> {
        let old = self
            .rows
            .get(raw)
            .unwrap_or_else(|| panic!("no row {}", hex::encode(raw)));
        let t = self.def(old.table);
        let mut out = vec![Mut {
            raw: raw.to_vec(),
            op: MutOp::Del,
            alt3: None,
        }];
        out.extend(self.index_muts(t, old.phys, old.handle, Some(old), None));
        out
    }

    /// `SELECT … FOR UPDATE` committed: a Lock record.
    fn lock_row(&self, raw: &[u8]) -> Vec<Mut> {
        vec![Mut {
            raw: raw.to_vec(),
            op: MutOp::Lock,
            alt3: None,
        }]
    }

    fn schema_version_mut(&mut self) -> Mut {
        self.schema_ver += 1;
        let b = self.schema_ver.to_string().into_bytes();
        Mut {
            raw: tg::meta_string_key("SchemaVersionKey"),
            op: MutOp::Put(Payload::Raw(b.clone()), b),
            alt3: None,
        }
    }

    fn table_meta_key(t: &TableDef) -> Vec<u8> {
        tg::meta_hash_key(&format!("DB:{}", t.db_id), &format!("Table:{}", t.id))
    }

    fn table_put_mut(&mut self, mut t: TableDef) -> Mut {
        t.update_ts = self.peek();
        self.tables.insert(t.id, t.clone());
        let b = table_json(&t);
        Mut {
            raw: Gen::table_meta_key(&t),
            op: MutOp::Put(Payload::Table(Rc::new(t)), b),
            alt3: None,
        }
    }

    fn create_db(&mut self, id: i64, name: &'static str) {
        let sv = self.schema_version_mut();
        let db = Mut {
            raw: tg::meta_hash_key("DBs", &format!("DB:{id}")),
            op: MutOp::Put(Payload::Db(id, name), db_json(id, name, 5)),
            alt3: None,
        };
        self.dbs.push((id, name));
        self.txn(vec![sv, db]);
    }

    /// CREATE TABLE, or one schema-state step of a DDL: a new TableInfo version.
    fn put_table(&mut self, t: TableDef) {
        let sv = self.schema_version_mut();
        let m = self.table_put_mut(t);
        self.txn(vec![sv, m]);
    }

    /// DROP TABLE: public → write only → delete only (TableInfo puts), then the meta Delete.
    fn drop_table(&mut self, tid: i64) {
        for state in [2, 1] {
            let mut t = self.def(tid).clone();
            t.state = state;
            self.put_table(t);
        }
        let sv = self.schema_version_mut();
        let del = Mut {
            raw: Gen::table_meta_key(self.def(tid)),
            op: MutOp::Del,
            alt3: None,
        };
        let ts = self.txn(vec![sv, del]);
        self.dropped.push((tid, ts));
    }

    /// TRUNCATE TABLE: one DDL step deletes the old id's meta and creates the new id.
    fn truncate_table(&mut self, tid: i64, new_id: i64) {
        let sv = self.schema_version_mut();
        let old = self.def(tid).clone();
        let del = Mut {
            raw: Gen::table_meta_key(&old),
            op: MutOp::Del,
            alt3: None,
        };
        let mut t = old.clone();
        t.id = new_id;
        let put = self.table_put_mut(t);
        let ts = self.txn(vec![sv, del, put]);
        self.truncated.push((tid, new_id, ts));
    }

    /// ADD COLUMN: the column goes through delete only, write only, write reorganization and
    /// public, one TableInfo version each.
    fn add_column(&mut self, tid: i64, mut c: Col) {
        c.origin_default = c.default.clone();
        for state in [1, 2, 3, 5] {
            let mut t = self.def(tid).clone();
            c.state = state;
            match t.cols.iter_mut().find(|x| x.id == c.id) {
                Some(x) => *x = c.clone(),
                None => t.cols.push(c.clone()),
            }
            self.put_table(t);
        }
    }

    /// A rollback whose start_ts equals the commit_ts of an existing Put of `raw`: TiKV keeps
    /// the commit record, flagging it (overlapped rollback) and setting its gc_fence (the
    /// commit_ts of the next newer Put/Delete, 0 if none).
    fn overlapped_rollback(&mut self, raw: &[u8], commit_ts: u64, fence: u64) {
        let time = self.tick();
        let mut w = self
            .writes
            .iter()
            .find(|w| w.raw == raw && w.key_ts == commit_ts && w.kind == WriteType::Put)
            .unwrap()
            .clone();
        w.rec.has_overlapped_rollback = true;
        w.rec.gc_fence = Some(fence);
        w.gc_fence = Some(fence);
        w.time = time;
        self.op(
            time,
            "write",
            tg::ts_key(raw, commit_ts),
            Some(w.rec.to_bytes()),
            None,
            raw,
        );
        self.writes.push(w);
    }
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

const SIZES: &[&str] = &["small", "medium", "large"];
const LETTERS: &[&str] = &["a", "b", "c", "d"];
const PK: i64 = NOT_NULL | PRI_KEY | NO_DEFAULT;
const NN: i64 = NOT_NULL | NO_DEFAULT;

fn table(id: i64, db_id: i64, db: &'static str, name: &'static str, cols: Vec<Col>) -> TableDef {
    TableDef {
        id,
        db_id,
        db,
        name,
        pk_is_handle: cols.iter().any(|c| c.flag & PRI_KEY != 0),
        cols,
        common_handle: false,
        idx: Vec::new(),
        parts: None,
        state: 5,
        update_ts: 0,
    }
}

fn t_all_types() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::LongLong).flag(PK),
        c(2, "c_tinyint", Ty::Tiny),
        c(3, "c_tinyint_u", Ty::Tiny).flag(UNSIGNED),
        c(4, "c_smallint", Ty::Short),
        c(5, "c_smallint_u", Ty::Short).flag(UNSIGNED),
        c(6, "c_mediumint", Ty::Int24),
        c(7, "c_mediumint_u", Ty::Int24).flag(UNSIGNED),
        c(8, "c_int", Ty::Long).default("7"),
        c(9, "c_int_u", Ty::Long).flag(UNSIGNED),
        c(10, "c_bigint", Ty::LongLong),
        c(11, "c_bigint_u", Ty::LongLong).flag(UNSIGNED),
        c(12, "c_float", Ty::Float),
        c(13, "c_double", Ty::Double),
        c(14, "c_decimal", Ty::Decimal(10, 2)),
        c(15, "c_decimal20", Ty::Decimal(20, 0)),
        c(16, "c_char", Ty::Char(10)),
        c(17, "c_varchar", Ty::Varchar(64)).default("none"),
        c(18, "c_text", Ty::Text),
        c(19, "c_binary", Ty::Binary(8)),
        c(20, "c_varbinary", Ty::Varbinary(16)),
        c(21, "c_blob", Ty::Blob),
        c(22, "c_date", Ty::Date),
        c(23, "c_datetime", Ty::Datetime(0)),
        c(24, "c_datetime6", Ty::Datetime(6)),
        c(25, "c_timestamp3", Ty::Timestamp(3)),
        c(26, "c_time", Ty::Time(0)),
        c(27, "c_time6", Ty::Time(6)),
        c(28, "c_year", Ty::Year),
        c(29, "c_enum", Ty::Enum(SIZES)),
        c(30, "c_set", Ty::Set(LETTERS)),
        c(31, "c_bit", Ty::Bit(10)),
        c(32, "c_json", Ty::Json),
    ];
    table(101, 100, "shop", "all_types", cols)
}

fn t_orders() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "order_no", Ty::Varchar(32)).flag(PK),
        c(2, "line", Ty::Long).flag(PK),
        c(3, "sku", Ty::Char(8)),
        c(4, "qty", Ty::Short).flag(UNSIGNED),
        c(5, "price", Ty::Decimal(12, 2)),
        c(6, "note", Ty::Varchar(64)),
        c(7, "placed", Ty::Datetime(0)),
    ];
    let mut t = table(102, 100, "shop", "orders", cols);
    t.pk_is_handle = false;
    t.common_handle = true;
    t.idx.push(Idx {
        id: 1,
        name: "PRIMARY",
        cols: vec!["order_no", "line"],
        unique: true,
        primary: true,
    });
    t
}

fn t_old_stuff() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::Long).flag(PK),
        c(2, "label", Ty::Varchar(32)),
        c(3, "qty", Ty::Long),
    ];
    table(103, 100, "shop", "old_stuff", cols)
}

fn t_cart() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::LongLong).flag(PK),
        c(2, "user_id", Ty::Long),
        c(3, "item", Ty::Varchar(32)),
        c(4, "added", Ty::Datetime(0)),
    ];
    table(104, 100, "shop", "cart", cols)
}

fn t_employees() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::LongLong).flag(PK),
        c(2, "name", Ty::Varchar(32)).flag(NN),
        c(3, "email", Ty::Varchar(64)),
        c(4, "dept_id", Ty::Long),
        c(5, "salary", Ty::Decimal(10, 2)),
        c(6, "hired", Ty::Date),
        c(7, "active", Ty::Tiny).default("1"),
        c(8, "note", Ty::Text),
    ];
    let mut t = table(111, 110, "hr", "employees", cols);
    t.idx.push(Idx {
        id: 1,
        name: "idx_dept",
        cols: vec!["dept_id"],
        unique: false,
        primary: false,
    });
    t
}

fn t_departments() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::Long).flag(PK),
        c(2, "name", Ty::Varchar(32)).flag(NN),
        c(3, "floor", Ty::Short),
    ];
    table(112, 110, "hr", "departments", cols)
}

fn t_events() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "at", Ty::Datetime(3)).flag(NN),
        c(2, "kind", Ty::Varchar(16)),
        c(3, "value", Ty::Double),
        c(4, "tags", Ty::Json),
    ];
    table(EVENTS_ID, 120, "metrics", "events", cols)
}

fn t_samples() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::LongLong).flag(PK),
        c(2, "sensor", Ty::Varchar(16)).flag(NN),
        c(3, "reading", Ty::Decimal(8, 3)),
        c(4, "taken", Ty::Timestamp(0)),
    ];
    let mut t = table(122, 120, "metrics", "samples", cols);
    let p = |id, name, less_than| Part {
        id,
        name,
        less_than,
    };
    t.parts = Some((
        "`id`",
        vec![
            p(123, "p0", "100"),
            p(124, "p1", "200"),
            p(125, "p2", "MAXVALUE"),
        ],
    ));
    t
}

// ---------------------------------------------------------------------------------------------
// Contents of shop.all_types
// ---------------------------------------------------------------------------------------------

const SEC: i64 = 1_000_000_000;

fn dur(neg: bool, h: i64, m: i64, s: i64, us: i64) -> V {
    let n = ((h * 3600 + m * 60 + s) * SEC) + us * 1000;
    V::Dur(if neg { -n } else { n })
}

fn date(y: u64, mo: u64, d: u64) -> V {
    V::T(y, mo, d, 0, 0, 0, 0)
}

/// The extremes: `max` false = minimum values, true = maximum values.
fn all_types_extreme(id: i64, max: bool) -> Vec<(&'static str, V)> {
    let pick = |lo: V, hi: V| if max { hi } else { lo };
    vec![
        ("id", V::I(id)),
        ("c_tinyint", pick(V::I(-128), V::I(127))),
        ("c_tinyint_u", pick(V::U(0), V::U(255))),
        ("c_smallint", pick(V::I(-32768), V::I(32767))),
        ("c_smallint_u", pick(V::U(0), V::U(65535))),
        ("c_mediumint", pick(V::I(-8388608), V::I(8388607))),
        ("c_mediumint_u", pick(V::U(0), V::U(16777215))),
        ("c_int", pick(V::I(-2147483648), V::I(2147483647))),
        ("c_int_u", pick(V::U(0), V::U(4294967295))),
        ("c_bigint", pick(V::I(i64::MIN), V::I(i64::MAX))),
        ("c_bigint_u", pick(V::U(0), V::U(u64::MAX))),
        ("c_float", pick(V::F(-0.25), V::F(3.14f32 as f64))),
        ("c_double", pick(V::F(-2.5), V::F(3.14159))),
        (
            "c_decimal",
            pick(V::Dec("-99999999.99".into()), V::Dec("99999999.99".into())),
        ),
        (
            "c_decimal20",
            pick(
                V::Dec("-99999999999999999999".into()),
                V::Dec("99999999999999999999".into()),
            ),
        ),
        ("c_char", pick(s(""), s("abcdefghij"))),
        (
            "c_varchar",
            pick(s(""), s("日本語のテキストと emoji 😀 and ümlauts")),
        ),
        (
            "c_text",
            pick(s(""), s("long text\nwith two lines and a tab\there")),
        ),
        (
            "c_binary",
            pick(
                V::B(vec![0; 8]),
                V::B(vec![0xff, 0xfe, 0xfd, 0x80, 0x7f, 0x01, 0x00, 0xc3]),
            ),
        ),
        (
            "c_varbinary",
            pick(V::B(vec![]), V::B((0..16).map(|i| 0xf0 + i).collect())),
        ),
        (
            "c_blob",
            pick(V::B(vec![]), V::B(vec![0x00, 0xff, 0x00, 0xfe])),
        ),
        ("c_date", pick(date(1000, 1, 1), date(9999, 12, 31))),
        (
            "c_datetime",
            pick(
                V::T(1000, 1, 1, 0, 0, 0, 0),
                V::T(9999, 12, 31, 23, 59, 59, 0),
            ),
        ),
        (
            "c_datetime6",
            pick(
                V::T(1000, 1, 1, 0, 0, 0, 0),
                V::T(9999, 12, 31, 23, 59, 59, 999999),
            ),
        ),
        (
            "c_timestamp3",
            pick(
                V::T(1970, 1, 1, 0, 0, 1, 0),
                V::T(2038, 1, 19, 3, 14, 7, 999000),
            ),
        ),
        (
            "c_time",
            pick(dur(true, 838, 59, 59, 0), dur(false, 838, 59, 59, 0)),
        ),
        (
            "c_time6",
            pick(dur(true, 838, 59, 59, 0), dur(false, 838, 59, 59, 0)),
        ),
        ("c_year", pick(V::I(1901), V::I(2155))),
        ("c_enum", pick(V::U(1), V::U(3))),
        ("c_set", pick(V::U(0), V::U(15))),
        ("c_bit", pick(V::U(0), V::U(1023))),
        (
            "c_json",
            pick(
                V::J(Jv::Null),
                V::J(Jv::Arr(vec![
                    Jv::I64(i64::MIN),
                    Jv::U64(u64::MAX),
                    Jv::F64(2.0),
                    Jv::Arr(vec![]),
                    Jv::Obj(vec![]),
                    Jv::Bool(false),
                ])),
            ),
        ),
    ]
}

/// Every nullable column NULL; c_int and c_varchar have defaults, so their NULL is stored.
fn all_types_nulls(id: i64) -> Vec<(&'static str, V)> {
    let t = t_all_types();
    let mut v = vec![("id", V::I(id))];
    v.extend(t.cols.iter().skip(1).map(|c| (c.name, V::Null)));
    v
}

/// Awkward strings, bytes and JSON.
fn all_types_tricky(id: i64) -> Vec<(&'static str, V)> {
    vec![
        ("id", V::I(id)),
        ("c_tinyint", V::I(0)),
        ("c_int", V::I(-1)),
        ("c_float", V::F(100.0)),
        ("c_double", V::F(-0.5)),
        ("c_decimal", V::Dec("-0.05".into())),
        ("c_decimal20", V::Dec("12".into())),
        // TiDB trims CHAR padding on write; an older writer may not have: output trims it.
        ("c_char", s("pad  ")),
        ("c_varchar", s("keeps trailing  ")),
        (
            "c_text",
            s("quote \" backslash \\ newline \n tab \t apostrophe ' ctrl-z \u{1a} nul \0 end"),
        ),
        ("c_binary", V::B(b"ab\0\0\0\0\0\0".to_vec())),
        (
            "c_varbinary",
            V::B(vec![0x00, 0xff, 0x80, b'a', b'b', b'c']),
        ),
        (
            "c_blob",
            V::B(vec![
                0x00, b'"', b'\\', b'\n', b'\'', 0x1a, 0xff, 0xfe, 0x80, b'\r',
            ]),
        ),
        ("c_date", date(2026, 2, 28)),
        ("c_datetime6", V::T(2026, 1, 1, 0, 0, 0, 1)),
        ("c_timestamp3", V::T(2026, 2, 3, 4, 5, 6, 789000)),
        ("c_time", dur(true, 1, 2, 3, 0)),
        ("c_time6", dur(true, 0, 0, 1, 500000)),
        ("c_year", V::I(2026)),
        ("c_enum", V::U(2)),
        ("c_set", V::U(0b0101)),
        ("c_bit", V::U(5)),
        (
            "c_json",
            V::J(Jv::obj(&[
                ("b", Jv::s("say \"hi\"")),
                ("a", Jv::s("back\\slash\nnewline")),
                ("aa", Jv::F64(1.5)),
                ("B", Jv::Bool(true)),
                ("10", Jv::I64(-5)),
                ("9", Jv::Null),
                ("é", Jv::s("ünïcödé 😀 <tag> & co")),
                (
                    "nested",
                    Jv::obj(&[
                        ("z", Jv::Arr(vec![Jv::I64(1), Jv::F64(-0.25), Jv::s("x")])),
                        (
                            "y",
                            Jv::obj(&[("deep", Jv::Arr(vec![Jv::Null, Jv::Bool(false)]))]),
                        ),
                    ]),
                ),
            ])),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Generated rows
// ---------------------------------------------------------------------------------------------

const FLOATS: &[f32] = &[1.5, -0.25, 3.14, 100.0, 0.5, 2.75, -8.125, 0.0];
const DOUBLES: &[f64] = &[3.14159, -2.5, 12345.678, 100.0, 0.1, 0.001, -7.75, 1.0];

fn cents(r: &mut Rng, max: u64) -> V {
    let n = r.range(0, 2 * max) as i64 - max as i64;
    let sign = if n < 0 { "-" } else { "" };
    let a = n.unsigned_abs();
    V::Dec(format!("{sign}{}.{:02}", a / 100, a % 100))
}

fn words(r: &mut Rng, lo: u64, hi: u64) -> V {
    let len = r.range(lo, hi) as usize;
    let mut b = rockrescue_oracle::gen::text_value(r, len);
    while b.last() == Some(&b' ') {
        b.pop();
    }
    V::B(b)
}

fn rand_dt(r: &mut Rng, fsp: u8) -> V {
    let us = match fsp {
        0 => 0,
        3 => r.below(1000) * 1000,
        _ => r.below(1_000_000),
    };
    V::T(
        r.range(1990, 2037),
        r.range(1, 12),
        r.range(1, 28),
        r.below(24),
        r.below(60),
        r.below(60),
        us,
    )
}

/// `null_pct` percent NULL, else `f(r)`.
fn maybe(r: &mut Rng, null_pct: u64, f: impl FnOnce(&mut Rng) -> V) -> V {
    if r.below(100) < null_pct {
        V::Null
    } else {
        f(r)
    }
}

fn all_types_gen(r: &mut Rng, id: i64) -> Vec<(&'static str, V)> {
    let n = 12;
    let i = |r: &mut Rng, lo: i64, hi: i64| V::I(lo + r.below((hi - lo + 1) as u64) as i64);
    let u = |r: &mut Rng, hi: u64| V::U(r.below(hi + 1));
    vec![
        ("id", V::I(id)),
        ("c_tinyint", maybe(r, n, |r| i(r, -128, 127))),
        ("c_tinyint_u", maybe(r, n, |r| u(r, 255))),
        ("c_smallint", maybe(r, n, |r| i(r, -32768, 32767))),
        ("c_smallint_u", maybe(r, n, |r| u(r, 65535))),
        ("c_mediumint", maybe(r, n, |r| i(r, -8388608, 8388607))),
        ("c_mediumint_u", maybe(r, n, |r| u(r, 16777215))),
        ("c_int", maybe(r, n, |r| i(r, -2147483648, 2147483647))),
        ("c_int_u", maybe(r, n, |r| u(r, 4294967295))),
        ("c_bigint", maybe(r, n, |r| V::I(r.next_u64() as i64))),
        ("c_bigint_u", maybe(r, n, |r| V::U(r.next_u64()))),
        ("c_float", maybe(r, n, |r| V::F(*r.pick(FLOATS) as f64))),
        ("c_double", maybe(r, n, |r| V::F(*r.pick(DOUBLES)))),
        ("c_decimal", maybe(r, n, |r| cents(r, 9_999_999_999))),
        (
            "c_decimal20",
            maybe(r, n, |r| V::Dec((r.next_u64() as i64 / 1000).to_string())),
        ),
        ("c_char", maybe(r, n, |r| words(r, 1, 10))),
        ("c_varchar", maybe(r, n, |r| words(r, 0, 60))),
        ("c_text", maybe(r, n, |r| words(r, 0, 200))),
        ("c_binary", maybe(r, n, |r| V::B(r.bytes(8)))),
        (
            "c_varbinary",
            maybe(r, n, |r| {
                let n = r.range(0, 16) as usize;
                V::B(r.bytes(n))
            }),
        ),
        (
            "c_blob",
            maybe(r, n, |r| {
                let n = r.range(0, 100) as usize;
                V::B(r.bytes(n))
            }),
        ),
        (
            "c_date",
            maybe(r, n, |r| {
                date(r.range(1990, 2037), r.range(1, 12), r.range(1, 28))
            }),
        ),
        ("c_datetime", maybe(r, n, |r| rand_dt(r, 0))),
        ("c_datetime6", maybe(r, n, |r| rand_dt(r, 6))),
        ("c_timestamp3", maybe(r, n, |r| rand_dt(r, 3))),
        (
            "c_time",
            maybe(r, n, |r| {
                dur(
                    r.chance(1, 3),
                    r.below(839) as i64,
                    r.below(60) as i64,
                    r.below(60) as i64,
                    0,
                )
            }),
        ),
        (
            "c_time6",
            maybe(r, n, |r| {
                let us = r.below(1_000_000) as i64;
                dur(
                    r.chance(1, 3),
                    r.below(200) as i64,
                    r.below(60) as i64,
                    r.below(60) as i64,
                    us,
                )
            }),
        ),
        ("c_year", maybe(r, n, |r| i(r, 1901, 2155))),
        ("c_enum", maybe(r, n, |r| V::U(r.range(1, 3)))),
        ("c_set", maybe(r, n, |r| u(r, 15))),
        ("c_bit", maybe(r, n, |r| u(r, 1023))),
        (
            "c_json",
            maybe(r, n, |r| {
                let k = r.below(1000) as i64;
                V::J(Jv::obj(&[
                    ("n", Jv::I64(k - 500)),
                    ("tags", Jv::Arr(vec![Jv::s("x"), Jv::F64(*r.pick(DOUBLES))])),
                    ("ok", Jv::Bool(k % 2 == 0)),
                ]))
            }),
        ),
    ]
}

fn employee(r: &mut Rng, h: i64) -> Vec<(&'static str, V)> {
    vec![
        ("id", V::I(h)),
        ("name", s(&format!("emp{h}"))),
        ("email", maybe(r, 15, |_| s(&format!("emp{h}@example.com")))),
        ("dept_id", maybe(r, 10, |r| V::I(r.range(1, 12) as i64))),
        ("salary", maybe(r, 5, |r| cents(r, 50_000_000))),
        (
            "hired",
            date(r.range(2000, 2025), r.range(1, 12), r.range(1, 28)),
        ),
        ("active", V::I(r.below(2) as i64)),
        ("note", maybe(r, 50, |r| words(r, 0, 80))),
    ]
}

fn order_line(r: &mut Rng, no: &str, line: i64) -> Vec<(&'static str, V)> {
    vec![
        ("order_no", s(no)),
        ("line", V::I(line)),
        ("sku", s(&format!("SKU{:05}", r.below(100000)))),
        ("qty", maybe(r, 10, |r| V::U(r.range(1, 65535)))),
        ("price", cents(r, 100_000)),
        ("note", maybe(r, 40, |r| words(r, 0, 50))),
        ("placed", rand_dt(r, 0)),
    ]
}

const KINDS: &[&str] = &["click", "view", "buy", "error", "login"];

fn event(r: &mut Rng) -> Vec<(&'static str, V)> {
    vec![
        ("at", rand_dt(r, 3)),
        ("kind", s(r.pick::<&str>(KINDS))),
        ("value", maybe(r, 10, |r| V::F(*r.pick(DOUBLES)))),
        (
            "tags",
            maybe(r, 30, |r| {
                let k = *r.pick(KINDS);
                V::J(Jv::obj(&[
                    ("src", Jv::s(k)),
                    ("w", Jv::I64(r.below(10) as i64)),
                ]))
            }),
        ),
    ]
}

fn sample(r: &mut Rng, id: i64) -> Vec<(&'static str, V)> {
    let milli = r.below(100_000_000);
    vec![
        ("id", V::I(id)),
        ("sensor", s(&format!("s{}", id % 7))),
        (
            "reading",
            maybe(r, 10, |_| {
                V::Dec(format!("{}.{:03}", milli / 1000, milli % 1000))
            }),
        ),
        ("taken", rand_dt(r, 0)),
    ]
}

fn order_nos() -> Vec<String> {
    let mut v: Vec<String> = (1..=24).map(|i| format!("ORD-{i:04}")).collect();
    v.push("A".into());
    v.push("Zürich-Straße".into());
    v.push("ORD-0001-extra-long-number".into());
    v
}

// ---------------------------------------------------------------------------------------------
// The history
// ---------------------------------------------------------------------------------------------

fn raw_put(raw: Vec<u8>, b: &[u8]) -> Mut {
    Mut {
        raw,
        op: MutOp::Put(Payload::Raw(b.to_vec()), b.to_vec()),
        alt3: None,
    }
}

fn set(row: &mut [(&'static str, V)], name: &str, v: V) {
    row.iter_mut().find(|(n, _)| *n == name).unwrap().1 = v;
}

/// 70 000 bytes of ASCII text: makes the row value exceed 65535 bytes (large v2 row).
fn big_blob() -> Vec<u8> {
    let mut b = Vec::new();
    let mut i = 0;
    while b.len() < 70_000 {
        b.extend_from_slice(format!("line {i:05} of the big blob;\n").as_bytes());
        i += 1;
    }
    b.truncate(70_000);
    b
}

impl Gen {
    /// A pessimistic lock (SELECT FOR UPDATE in a pessimistic txn that never went on).
    fn pessimistic_lock(&mut self, raw: &[u8]) {
        let start = self.tick();
        let mut l = LockRec::new(LockType::Pessimistic, raw, start, 20000);
        l.for_update_ts = start;
        self.op(
            start,
            "lock",
            tg::lock_key(raw),
            Some(l.to_bytes()),
            None,
            raw,
        );
        self.locks.push(LockNote {
            raw: raw.to_vec(),
            primary: raw.to_vec(),
            start_ts: start,
            lock_type: LockType::Pessimistic,
            resolved: None,
        });
    }

    fn insert_many(
        &mut self,
        tid: i64,
        rows: Vec<(i64, Vec<(&'static str, V)>)>,
        per_txn: usize,
        fmt: impl Fn(i64) -> Fmt,
    ) {
        for chunk in rows.chunks(per_txn) {
            let mut m = Vec::new();
            for (h, r) in chunk {
                m.extend(self.put_row(tid, *h, r.clone(), fmt(*h)));
            }
            self.txn(m);
        }
    }

    fn update(&mut self, tid: i64, h: i64, changes: Vec<(&str, V)>) -> u64 {
        let m = self.upd_row(&self.key(tid, h), changes, Fmt::V2);
        self.txn(m)
    }

    fn delete(&mut self, tid: i64, h: i64) -> u64 {
        let m = self.del_row(&self.key(tid, h));
        self.txn(m)
    }
}

fn script(g: &mut Gen) {
    use Fmt::*;
    let v2 = |_| V2;
    // ---- Phase A: store1 is imaged at its end (T1).
    g.create_db(100, "shop");
    g.create_db(110, "hr");
    g.create_db(120, "metrics");
    for t in [
        t_all_types(),
        t_orders(),
        t_old_stuff(),
        t_cart(),
        t_employees(),
        t_departments(),
        t_events(),
        t_samples(),
    ] {
        g.put_table(t);
    }
    // The _tidb_rowid allocator of metrics.events.
    g.txn(vec![raw_put(
        tg::meta_hash_key("DB:120", "TID:121"),
        b"30000",
    )]);

    // shop.all_types 1..=9: row format v1 (written by a TiDB before v4.0).
    let mut rows = vec![
        all_types_extreme(1, false),
        all_types_extreme(2, true),
        all_types_nulls(3),
        all_types_tricky(4),
    ];
    rows.extend((5..=9).map(|id| all_types_gen(&mut g.rng, id)));
    let rows: Vec<_> = rows.into_iter().map(|r| (0, r)).collect();
    g.insert_many(101, rows, 1, |_| V1);
    g.flush(&CFS);
    let mut rows = vec![
        all_types_extreme(10, false),
        all_types_extreme(11, true),
        all_types_nulls(12),
        all_types_tricky(13),
    ];
    rows.extend((20..70).map(|id| all_types_gen(&mut g.rng, id)));
    let rows: Vec<_> = rows.into_iter().map(|r| (0, r)).collect();
    g.insert_many(101, rows, 4, v2);
    let mut big = all_types_gen(&mut g.rng, 1000);
    set(&mut big, "c_blob", V::B(big_blob()));
    let m = g.put_row(101, 0, big, V2);
    // Data past 65535 bytes: the large form (flag bit 0, u32 ids and offsets).
    assert!(
        matches!(&m[0].op, MutOp::Put(_, b) if b[0] == 0x80 && b[1] & 1 == 1 && b.len() > 70_000)
    );
    g.txn(m);

    // hr.employees: negative handles, both extremes; every 7th row with a checksum.
    let mut hs: Vec<i64> = vec![i64::MIN];
    hs.extend(-50..=-1);
    hs.extend(1..=100);
    hs.push(i64::MAX);
    let rows: Vec<_> = hs.iter().map(|&h| (h, employee(&mut g.rng, h))).collect();
    g.insert_many(111, rows, 10, |h| if h % 7 == 0 { V2Checksum } else { V2 });
    let rows: Vec<_> = (1..=12)
        .map(|d| {
            let name = format!("Dept {d}");
            (
                0,
                vec![("id", V::I(d)), ("name", s(&name)), ("floor", V::I(d % 5))],
            )
        })
        .collect();
    g.insert_many(112, rows, 12, v2);
    let rows: Vec<_> = (1..=150).map(|rid| (rid, event(&mut g.rng))).collect();
    g.insert_many(EVENTS_ID, rows, 10, v2);
    for (i, no) in order_nos().iter().enumerate() {
        let mut lines: Vec<i64> = (1..=1 + i as i64 % 4).collect();
        if no == "A" {
            lines.push(-1);
        }
        let rows: Vec<_> = lines
            .iter()
            .map(|&l| (0, order_line(&mut g.rng, no, l)))
            .collect();
        g.insert_many(102, rows, 8, v2);
    }
    let rows: Vec<_> = (0..300)
        .step_by(3)
        .map(|id| (0, sample(&mut g.rng, id)))
        .collect();
    g.insert_many(122, rows, 10, v2);
    let rows: Vec<_> = (1..=20)
        .map(|id| {
            (
                0,
                vec![
                    ("id", V::I(id)),
                    ("label", words(&mut g.rng, 3, 20)),
                    ("qty", V::I(id * 3)),
                ],
            )
        })
        .collect();
    g.insert_many(103, rows, 20, v2);
    let rows: Vec<_> = (1..=30)
        .map(|id| {
            let r = &mut g.rng;
            let v = vec![
                ("id", V::I(id)),
                ("user_id", V::I(r.range(1, 9) as i64)),
                ("item", words(r, 3, 20)),
                ("added", rand_dt(r, 0)),
            ];
            (0, v)
        })
        .collect();
    g.insert_many(104, rows, 10, v2);
    g.flush(&CFS);
    g.compact(&["default"], Some(2));
    g.compact(&["write"], None);

    // MVCC history on top.
    for id in 20..=29 {
        g.update(
            101,
            id,
            vec![
                ("c_varchar", s(&format!("updated {id}"))),
                ("c_int", V::I(id * 1000)),
            ],
        );
    }
    g.update(101, 5, vec![("c_tinyint", V::I(55))]); // a v1 row rewritten as v2
    for id in 30..=34 {
        g.delete(101, id);
    }
    for h in 1..=20 {
        g.update(
            111,
            h,
            vec![
                ("dept_id", V::I(h % 12 + 1)),
                ("salary", V::Dec(format!("{}.50", 1000 + h))),
            ],
        );
    }
    for h in -10..=-6 {
        g.delete(111, h);
    }
    for h in [1, 2, 3, 1] {
        let m = g.lock_row(&g.key(111, h));
        g.txn(m);
    }
    let m = g.lock_row(&g.key(101, 10));
    g.txn(m);
    // Rollbacks on top of puts, and of an insert that never happened.
    let p = g.prewrite(g.upd_row(&g.key(111, 4), vec![("name", s("never"))], V2));
    g.rollback(p);
    let p = g.prewrite(g.upd_row(&g.key(101, 11), vec![("c_text", s("rolled back"))], V2));
    g.rollback(p);
    let e = employee(&mut g.rng, 500);
    let p = g.prewrite(g.put_row(111, 0, e, V2));
    g.rollback(p);
    // Overlapped rollbacks: one under a newer version (gc_fence = its commit_ts), one on the
    // newest version (gc_fence 0).
    let c1 = g.update(111, 5, vec![("note", s("first"))]);
    let c2 = g.update(111, 5, vec![("note", s("second"))]);
    let k5 = g.key(111, 5);
    g.overlapped_rollback(&k5, c1, c2);
    let c3 = g.update(111, 6, vec![("note", s("only version after insert"))]);
    let k6 = g.key(111, 6);
    g.overlapped_rollback(&k6, c3, 0);
    for (no, line) in [("ORD-0004", 1), ("ORD-0008", 2), ("A", -1)] {
        let k = order_key(g, no, line);
        let m = g.upd_row(
            &k,
            vec![("price", V::Dec("0.99".into())), ("note", s("repriced"))],
            V2,
        );
        g.txn(m);
    }
    for (no, line) in [("ORD-0006", 2), ("ORD-0010", 1)] {
        let m = g.del_row(&order_key(g, no, line));
        g.txn(m);
    }
    for id in [3, 99, 102, 201, 297] {
        g.update(122, id, vec![("reading", V::Dec("-1.250".into()))]);
    }
    for id in [6, 150, 240] {
        g.delete(122, id);
    }
    g.update(103, 1, vec![("label", s("updated before drop"))]);
    g.update(104, 2, vec![("item", s("changed mind"))]);
    g.delete(104, 3);
    for rid in [1, 2, 3] {
        g.update(EVENTS_ID, rid, vec![("kind", s("edited"))]);
    }
    g.delete(EVENTS_ID, 4);
    g.flush(&CFS);
    // S1: prewritten before T1, committed after it (a pending lock in store1).
    let mut m = g.upd_row(
        &g.key(111, 7),
        vec![("salary", V::Dec("77777.77".into()))],
        V2,
    );
    m.extend(g.upd_row(
        &g.key(101, 12),
        vec![("c_varchar", s("S1 committed after T1"))],
        V2,
    ));
    let s1 = g.prewrite(m);
    // Tail of phase A: in store1's WAL only.
    let rows: Vec<_> = (151..=160).map(|rid| (rid, event(&mut g.rng))).collect();
    g.insert_many(EVENTS_ID, rows, 5, v2);
    let rows: Vec<_> = (101..=105).map(|h| (h, employee(&mut g.rng, h))).collect();
    g.insert_many(111, rows, 5, v2);
    g.update(101, 21, vec![("c_text", s("tail of phase A"))]);
    g.t[0] = g.tick();

    script_b(g, s1);
}

fn order_key(g: &Gen, no: &str, line: i64) -> Vec<u8> {
    let t = g.def(102);
    let vals = BTreeMap::from([(1, s(no)), (2, V::I(line))]);
    record_key(t, t.id, 0, &vals)
}

/// Phase B (store2 is imaged at its end, T2) and phase C (store3, T3).
fn script_b(g: &mut Gen, s1: Pending) {
    use Fmt::*;
    let v2 = |_| V2;
    g.commit(s1);
    // hr.departments gets two columns; rows 1..=12 were written without them.
    g.add_column(
        112,
        Col::new(4, "region", Ty::Varchar(32)).default("unknown"),
    );
    g.add_column(112, Col::new(5, "budget", Ty::Long).default("42"));
    let rows: Vec<_> = (13..=20)
        .map(|d| {
            let name = format!("Dept {d}");
            let mut v = vec![("id", V::I(d)), ("name", s(&name)), ("floor", V::I(d % 5))];
            match d {
                13 => v.push(("region", V::Null)), // explicit NULL: stored, not the default
                14 => {}                           // both columns from their defaults
                15 => v.push(("budget", V::Null)),
                _ => {
                    v.push(("region", s(["north", "south", "east"][d as usize % 3])));
                    v.push(("budget", V::I(d * 1000)));
                }
            }
            (0, v)
        })
        .collect();
    g.insert_many(112, rows, 4, v2);
    g.update(112, 1, vec![("floor", V::I(9))]); // gains region 'unknown' and budget 42, stored
    g.update(112, 2, vec![("region", s("west"))]);
    g.delete(112, 5);
    for id in 2..=4 {
        g.update(103, id, vec![("qty", V::I(-id))]);
    }
    g.drop_table(103);
    g.flush(&CFS);
    for h in 21..=30 {
        g.update(
            111,
            h,
            vec![("active", V::I(0)), ("note", s(&format!("phase B {h}")))],
        );
    }
    for h in [31, 32, 33, 34, 35, i64::MAX] {
        g.delete(111, h);
    }
    let e = employee(&mut g.rng, -8);
    let m = g.put_row(111, 0, e, V2); // re-insert of a row deleted in phase A
    g.txn(m);
    // The planted conflict: employees 8 committed at one commit_ts with different bytes in
    // store2 and store3.
    let k8 = g.key(111, 8);
    let mut m2 = g.upd_row(&k8, vec![("note", s("store2 version"))], V2);
    let m3 = g.upd_row(&k8, vec![("note", s("store3 version"))], V2);
    assert!(m2.len() == 1 && m3.len() == 1);
    let MutOp::Put(p3, b3) = &m3[0].op else {
        unreachable!()
    };
    m2[0].alt3 = Some((p3.clone(), b3.clone()));
    let c = g.txn(m2);
    g.conflict = Some((k8, c));
    // metrics.events changes: store3 never has this region, so these are only in store2.
    for rid in 5..=10 {
        g.update(
            EVENTS_ID,
            rid,
            vec![("kind", s("phase-b")), ("value", V::F(0.5))],
        );
    }
    for rid in 11..=20 {
        g.delete(EVENTS_ID, rid);
    }
    let rows: Vec<_> = (1..=3)
        .map(|l| (0, order_line(&mut g.rng, "ORD-0100", l)))
        .collect();
    g.insert_many(102, rows, 3, v2);
    for id in 40..=44 {
        g.update(
            101,
            id,
            vec![(
                "c_json",
                V::J(Jv::obj(&[("phase", Jv::s("B")), ("id", Jv::I64(id))])),
            )],
        );
    }
    g.delete(101, 6); // a v1 row
    g.update(101, 1, vec![("c_double", V::F(1.0))]); // v1 → v2
    g.flush(&CFS);
    g.compact(&["default", "write", "lock"], None);
    // S2 commits after T2, S3 rolls back after T2: both pending locks in store2.
    let mut m = g.upd_row(&g.key(111, 9), vec![("email", s("s2@example.com"))], V2);
    let o = order_line(&mut g.rng, "ORD-0002", 9);
    m.extend(g.put_row(102, 0, o, V2));
    let s2 = g.prewrite(m);
    let s3 = g.prewrite(g.upd_row(&g.key(101, 13), vec![("c_text", s("S3 never commits"))], V2));
    // Tail of phase B: in store2's WAL only.
    let rows: Vec<_> = (161..=165).map(|rid| (rid, event(&mut g.rng))).collect();
    g.insert_many(EVENTS_ID, rows, 5, v2);
    for h in 40..=42 {
        g.update(111, h, vec![("salary", V::Dec("4242.42".into()))]);
    }
    g.t[1] = g.tick();

    // ---- Phase C
    g.commit(s2);
    g.rollback(s3);
    g.truncate_table(104, 130);
    let rows: Vec<_> = (1..=12)
        .map(|id| {
            let r = &mut g.rng;
            let v = vec![
                ("id", V::I(id)),
                ("user_id", V::I(r.range(1, 9) as i64)),
                ("item", words(r, 3, 20)),
                ("added", rand_dt(r, 0)),
            ];
            (0, v)
        })
        .collect();
    g.insert_many(130, rows, 6, v2);
    // Deletes only store3 sees: the newest commit of these keys is a delete in one store.
    for h in 10..=14 {
        g.delete(111, h);
    }
    for id in 20..=22 {
        g.delete(101, id);
    }
    for l in 1..=3 {
        let m = g.del_row(&order_key(g, "ORD-0003", l));
        g.txn(m);
    }
    for id in [9, 105, 291] {
        g.delete(122, id);
    }
    for id in (12..300).step_by(30) {
        g.update(122, id, vec![("sensor", s("recalibrated"))]);
    }
    g.update(112, 6, vec![("budget", V::I(-7))]);
    g.flush(&CFS);
    g.compact(&["lock"], None);
    // Pending prewrites, never resolved: none of them may show up in a row.
    let e = employee(&mut g.rng, 600);
    let _pending = g.prewrite(g.put_row(111, 0, e, V2));
    let (mut a, e) = (all_types_gen(&mut g.rng, 2000), employee(&mut g.rng, 601));
    set(
        &mut a,
        "c_text",
        s(&"pending value in the default CF; ".repeat(10)),
    );
    let mut m = g.put_row(101, 0, a, V2);
    m.extend(g.put_row(111, 0, e, V2));
    let _pending = g.prewrite(m);
    let _pending = g.prewrite(g.del_row(&g.key(111, 15)));
    let k16 = g.key(111, 16);
    g.pessimistic_lock(&k16);
    // Tail of phase C: in store3's WAL only.
    let m = g.upd_row(&order_key(g, "ORD-0005", 1), vec![("qty", V::U(65535))], V2);
    g.txn(m);
    g.update(101, 23, vec![("c_enum", V::U(3)), ("c_set", V::U(0b1010))]);
    let rows: Vec<_> = (106..=108).map(|h| (h, employee(&mut g.rng, h))).collect();
    g.insert_many(111, rows, 3, v2);
    g.t[2] = g.tick();
}

// ---------------------------------------------------------------------------------------------
// Writing the stores
// ---------------------------------------------------------------------------------------------

fn cf_opts(name: &str) -> Options {
    let mut bb = BlockBasedOptions::default();
    bb.set_format_version(2);
    bb.set_checksum_type(if NO_CHECKSUM.load(std::sync::atomic::Ordering::Relaxed) {
        ChecksumType::NoChecksum
    } else {
        ChecksumType::CRC32c
    });
    bb.set_block_size(32 * 1024);
    if name != "raft" {
        bb.set_bloom_filter(10.0, false);
    }
    let mut o = Options::default();
    o.set_block_based_table_factory(&bb);
    use DBCompressionType::{Lz4, None as No, Zstd};
    o.set_compression_per_level(&[No, No, Lz4, Lz4, Lz4, Zstd, Zstd]);
    o.set_write_buffer_size(256 << 10);
    o.set_disable_auto_compactions(true);
    o.set_target_file_size_base(32 << 10);
    o.set_max_bytes_for_level_base(128 << 10);
    match name {
        // TiKV's bottommost-level-compression: the data compacted to L6 is zstd.
        "write" => o.set_bottommost_compression_type(Zstd),
        // Static level sizes, so that a compaction can write L2 (lz4): the script first moves
        // compacted data to L2, then merges newer data into it.
        "default" => o.set_level_compaction_dynamic_level_bytes(false),
        _ => {}
    }
    o
}

/// Region ids and their key ranges (encoded keys without 'z'; empty end = +inf). Region 4 holds
/// metrics.events' rows, which store3 never had.
fn regions() -> Vec<(u64, Vec<u8>, Vec<u8>)> {
    let ev = tg::mc(&tg::record_prefix(EVENTS_ID));
    let ev_end = tg::mc(&tg::record_prefix(EVENTS_ID + 1));
    vec![
        (2, Vec::new(), ev.clone()),
        (4, ev, ev_end.clone()),
        (6, ev_end, Vec::new()),
    ]
}

/// Local keys every TiKV store has: StoreIdent (default CF) and per-region raft state (raft CF).
fn local_keys(si: usize) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut ident = Vec::new();
    tg::pb_varint(&mut ident, 1, TIKV_CLUSTER_ID);
    tg::pb_varint(&mut ident, 2, si as u64 + 1); // store_id
    out.push(("default", vec![0x01, 0x01], ident));
    for (id, start, end) in regions() {
        if si == 2 && id == 4 {
            continue;
        }
        let key = |pre: u8, sfx: u8| {
            let mut k = vec![0x01, pre];
            k.extend_from_slice(&id.to_be_bytes());
            k.push(sfx);
            k
        };
        let mut apply = Vec::new();
        tg::pb_varint(&mut apply, 1, 100 + si as u64 * 10); // applied_index
        out.push(("raft", key(0x02, 0x03), apply));
        let mut epoch = Vec::new();
        tg::pb_varint(&mut epoch, 1, 1);
        tg::pb_varint(&mut epoch, 2, 3);
        let mut peer = Vec::new();
        tg::pb_varint(&mut peer, 1, id * 10 + si as u64);
        tg::pb_varint(&mut peer, 2, si as u64 + 1);
        let mut region = Vec::new();
        tg::pb_varint(&mut region, 1, id);
        tg::pb_bytes(&mut region, 2, &start);
        tg::pb_bytes(&mut region, 3, &end);
        tg::pb_bytes(&mut region, 4, &epoch);
        tg::pb_bytes(&mut region, 5, &peer);
        let mut state = Vec::new();
        tg::pb_bytes(&mut state, 2, &region);
        out.push(("raft", key(0x03, 0x01), state));
    }
    out
}

/// Live keys per column family, as written.
type Live = BTreeMap<&'static str, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Replays the history up to the store's cutoff into a new RocksDB; returns the live keys per CF.
fn write_store(g: &Gen, si: usize, dir: &Path) -> Live {
    replay_store(
        g,
        STORES[si],
        dir,
        local_keys(si),
        g.t[si],
        |p| {
            if !store_has(si, &p.raw) {
                None
            } else if si == 2 && p.alt3.is_some() {
                Some(p.alt3.as_ref())
            } else {
                Some(p.val.as_ref())
            }
        },
        |_, _, _| {},
    )
}

/// Writes a store: its local keys, then every history event up to `cutoff` (`pick` says which
/// value a store writes for an operation, `None` = the store does not have that key, `Some(None)`
/// = a delete). `at(t, db, live)` is called before the first event at each new time `t` (after
/// the writes of the earlier times reached the DB) and once more at `cutoff + 1`: the hook for
/// store-local work such as GC. The DB is then reopened read-only and compared with `live`; LOG
/// files are removed.
fn replay_store<'a>(
    g: &'a Gen,
    name: &str,
    dir: &Path,
    local: Vec<(&'static str, Vec<u8>, Vec<u8>)>,
    cutoff: u64,
    pick: impl Fn(&'a Phys) -> Option<Option<&'a Vec<u8>>>,
    mut at: impl FnMut(u64, &DB, &mut Live),
) -> Live {
    std::fs::create_dir_all(dir).unwrap();
    let mut db_opts = cf_opts("default");
    db_opts.create_if_missing(true);
    db_opts.create_missing_column_families(true);
    let descs = || {
        CFS.iter()
            .map(|n| ColumnFamilyDescriptor::new(*n, cf_opts(n)))
    };
    let mut live: Live = CFS.iter().map(|c| (*c, BTreeMap::new())).collect();
    {
        let db = DB::open_cf_descriptors(&db_opts, dir, descs()).unwrap();
        let mut b = WriteBatch::default();
        for (cf, k, v) in local {
            b.put_cf(&db.cf_handle(cf).unwrap(), &k, &v);
            live.get_mut(cf).unwrap().insert(k, v);
        }
        db.write(std::mem::take(&mut b)).unwrap();
        let mut batch_time = 0;
        for ev in &g.evs {
            let t = match ev {
                Ev::Op(p) => p.time,
                Ev::Flush(t, _) | Ev::Compact(t, _, _) => *t,
            };
            assert!(t >= batch_time, "history out of order");
            if t > cutoff {
                break;
            }
            if t != batch_time && !b.is_empty() {
                db.write(std::mem::take(&mut b)).unwrap();
            }
            if t != batch_time {
                at(t, &db, &mut live);
            }
            batch_time = t;
            match ev {
                Ev::Op(p) => {
                    let Some(val) = pick(p) else {
                        continue;
                    };
                    let cf = db.cf_handle(p.cf).unwrap();
                    match val {
                        Some(v) => {
                            b.put_cf(&cf, &p.key, v);
                            live.get_mut(p.cf).unwrap().insert(p.key.clone(), v.clone());
                        }
                        None => {
                            b.delete_cf(&cf, &p.key);
                            live.get_mut(p.cf).unwrap().remove(&p.key);
                        }
                    }
                }
                Ev::Flush(_, cfs) => {
                    for c in cfs {
                        db.flush_cf(&db.cf_handle(c).unwrap()).unwrap();
                    }
                }
                Ev::Compact(_, cfs, level) => {
                    for c in cfs {
                        let cf = db.cf_handle(c).unwrap();
                        let mut co = rocksdb::CompactOptions::default();
                        // Rewrite even files a trivial move could place, so the output level's
                        // compression applies.
                        co.set_bottommost_level_compaction(
                            rocksdb::BottommostLevelCompaction::Force,
                        );
                        if let Some(l) = level {
                            co.set_change_level(true);
                            co.set_target_level(*l);
                        }
                        db.compact_range_cf_opt(&cf, None::<&[u8]>, None::<&[u8]>, &co);
                    }
                }
            }
        }
        if !b.is_empty() {
            db.write(b).unwrap();
        }
        at(cutoff + 1, &db, &mut live);
        // Dropped without a flush: the writes since the last flush stay in the WAL.
    }
    // Reopen read-only (replaying the WAL) and compare every CF with what was written.
    {
        let db = DB::open_cf_descriptors_read_only(&db_opts, dir, descs(), false).unwrap();
        for cf in CFS {
            let h = db.cf_handle(cf).unwrap();
            let got: BTreeMap<Vec<u8>, Vec<u8>> = db
                .iterator_cf(&h, IteratorMode::Start)
                .map(|kv| {
                    let (k, v) = kv.unwrap();
                    (k.to_vec(), v.to_vec())
                })
                .collect();
            assert_eq!(got.len(), live[cf].len(), "{name}: {cf} key count");
            assert!(got == live[cf], "{name}: {cf} keys or values differ");
        }
        let files = db.live_files().unwrap();
        let mut levels: BTreeMap<(String, i32), usize> = BTreeMap::new();
        for f in &files {
            *levels
                .entry((f.column_family_name.clone(), f.level))
                .or_default() += 1;
        }
        eprintln!(
            "{name}: keys default {} write {} lock {} raft {}; SSTs per (cf, level) {:?}",
            live["default"].len(),
            live["write"].len(),
            live["lock"].len(),
            live["raft"].len(),
            levels
        );
    }
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("LOG") {
            std::fs::remove_file(&p).unwrap();
        }
    }
    live
}

// ---------------------------------------------------------------------------------------------
// Expected results, from the logical history
// ---------------------------------------------------------------------------------------------

type Versions = BTreeMap<Vec<u8>, BTreeMap<u64, LWrite>>;

/// The write-CF versions store `si` holds (a rewrite of a record replaces it).
fn store_versions(g: &Gen, si: usize) -> Versions {
    let mut out: Versions = BTreeMap::new();
    for w in &g.writes {
        if w.time > g.t[si] || !store_has(si, &w.raw) {
            continue;
        }
        assert!(w.kind != WriteType::Rollback || w.key_ts == w.start_ts);
        let mut w = w.clone();
        if si == 2 {
            if let Some(a) = w.alt3.take() {
                w.payload = a;
            }
        }
        out.entry(w.raw.clone()).or_default().insert(w.key_ts, w);
    }
    out
}

/// The union of the stores' versions; for one (key, ts) the first store listed wins.
fn union(g: &Gen, stores: &[usize]) -> Versions {
    let mut out: Versions = BTreeMap::new();
    for &si in stores {
        for (raw, vers) in store_versions(g, si) {
            let e = out.entry(raw).or_default();
            for (ts, w) in vers {
                e.entry(ts).or_insert(w);
            }
        }
    }
    out
}

/// Latest committed value of every key (tikv.md §7 at read ts = max).
fn resolve(v: &Versions) -> BTreeMap<Vec<u8>, Payload> {
    let mut out = BTreeMap::new();
    for (raw, vers) in v {
        for w in vers.values().rev() {
            if matches!(w.gc_fence, Some(f) if f != 0) {
                break;
            }
            match w.kind {
                WriteType::Put => {
                    out.insert(raw.clone(), w.payload.clone());
                    break;
                }
                WriteType::Delete => break,
                WriteType::Lock | WriteType::Rollback => {}
            }
        }
    }
    out
}

fn table_rows(t: &TableDef, state: &BTreeMap<Vec<u8>, Payload>) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for phys in t.physical_ids() {
        let pre = tg::record_prefix(phys);
        for (k, p) in state.range(pre.clone()..) {
            if !k.starts_with(&pre) {
                break;
            }
            let Payload::Row(r) = p else {
                panic!("non-row value under {}", hex::encode(k))
            };
            assert_eq!(r.phys, phys);
            let cells = t
                .public_cols()
                .iter()
                .map(|c| match r.vals.get(&c.id) {
                    Some(v) => render(c, v),
                    None => render_origin_default(c),
                })
                .collect();
            rows.push(cells);
        }
    }
    rows
}

fn table_file(t: &TableDef, rows: &[Vec<Value>], extra: &[(&str, Value)]) -> String {
    let cols: Vec<&str> = t.public_cols().iter().map(|c| c.name).collect();
    let mut s = format!(
        "{{\"db\":{},\"table\":{},",
        serde_json::to_string(t.db).unwrap(),
        serde_json::to_string(t.name).unwrap()
    );
    for (k, v) in extra {
        s.push_str(&format!("{}:{},", serde_json::to_string(k).unwrap(), v));
    }
    s.push_str(&format!(
        "\"columns\":{},\"rows\":[",
        serde_json::to_string(&cols).unwrap()
    ));
    for (i, r) in rows.iter().enumerate() {
        s.push_str(if i == 0 { "\n" } else { ",\n" });
        s.push_str(&serde_json::to_string(r).unwrap());
    }
    s.push_str("\n]}\n");
    s
}

/// Tables whose newest TableInfo in `state` is public, by table id.
fn live_tables(state: &BTreeMap<Vec<u8>, Payload>) -> BTreeMap<i64, Rc<TableDef>> {
    state
        .values()
        .filter_map(|p| match p {
            Payload::Table(t) if t.state == 5 => Some((t.id, t.clone())),
            _ => None,
        })
        .collect()
}

fn scenarios() -> Vec<(&'static str, Vec<usize>)> {
    vec![
        ("merged", vec![0, 1, 2]),
        ("store1", vec![0]),
        ("store2", vec![1]),
        ("store3", vec![2]),
    ]
}

fn write_expected(g: &Gen, dir: &Path) {
    let mut live_in: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    let mut counts: Vec<String> = Vec::new();
    let mut merged_state = BTreeMap::new();
    for (name, stores) in scenarios() {
        let state = resolve(&union(g, &stores));
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (id, t) in live_tables(&state) {
            let rows = table_rows(&t, &state);
            counts.push(format!(
                "{name} {}.{} (id {id}): {} rows",
                t.db,
                t.name,
                rows.len()
            ));
            live_in.entry(id).or_default().push(name);
            let f = d.join(format!("{}.{}.json", t.db, t.name));
            std::fs::write(f, table_file(&t, &rows, &[])).unwrap();
        }
        // Every live table's database resolves, and so does the final schema version.
        for t in live_tables(&state).values() {
            let db = &state[&tg::meta_hash_key("DBs", &format!("DB:{}", t.db_id))];
            assert!(matches!(db, Payload::Db(id, n) if *id == t.db_id && *n == t.db));
        }
        if name == "merged" {
            let sv = &state[&tg::meta_string_key("SchemaVersionKey")];
            assert!(matches!(sv, Payload::Raw(b) if *b == g.schema_ver.to_string().into_bytes()));
            merged_state = state;
        }
    }
    // Dropped and truncated tables, with their last schema, over the merged state.
    let d = dir.join("dropped");
    std::fs::create_dir_all(&d).unwrap();
    let gone: Vec<(i64, u64, &str, Option<i64>)> = g
        .dropped
        .iter()
        .map(|&(id, ts)| (id, ts, "dropped", None))
        .chain(
            g.truncated
                .iter()
                .map(|&(id, new, ts)| (id, ts, "truncated", Some(new))),
        )
        .collect();
    for &(id, ts, kind, _) in &gone {
        let t = &g.tables[&id];
        let rows = table_rows(t, &merged_state);
        counts.push(format!(
            "dropped {}.{} (id {id}, {kind}): {} rows",
            t.db,
            t.name,
            rows.len()
        ));
        let extra = [
            ("id", json!(id)),
            ("kind", json!(kind)),
            ("deleted_at_ts", json!(ts)),
        ];
        let f = d.join(format!("{}.{}.json", t.db, t.name));
        std::fs::write(f, table_file(t, &rows, &extra)).unwrap();
    }
    write_locks(g, dir);
    write_divergence(g, dir);
    write_schema(g, dir, &live_in, &gone);
    for c in counts {
        eprintln!("  {c}");
    }
}

/// "db.table" of a record or index key (by physical id), or null.
fn key_table(g: &Gen, raw: &[u8]) -> Value {
    if raw.len() < 9 || raw[0] != b't' {
        return Value::Null;
    }
    let phys = (u64::from_be_bytes(raw[1..9].try_into().unwrap()) ^ (1 << 63)) as i64;
    g.tables
        .values()
        .find(|t| t.physical_ids().contains(&phys))
        .map_or(Value::Null, |t| json!(format!("{}.{}", t.db, t.name)))
}

fn lock_json(g: &Gen, l: &LockNote) -> Value {
    json!({
        "key": hex::encode(&l.raw),
        "primary": hex::encode(&l.primary),
        "start_ts": l.start_ts,
        "type": l.lock_type.name(),
        "table": key_table(g, &l.raw),
        "resolved": l.resolved.map(|(ts, how)| json!({"how": how, "at_ts": ts})),
    })
}

/// Lock-CF entries of each store, and those no store resolves (the merge's pending locks).
fn write_locks(g: &Gen, dir: &Path) {
    let mut per_store = serde_json::Map::new();
    for (si, name) in STORES.iter().enumerate() {
        let v: Vec<Value> = g
            .locks
            .iter()
            .filter(|l| l.start_ts <= g.t[si] && store_has(si, &l.raw))
            .filter(|l| l.resolved.is_none_or(|(ts, _)| ts > g.t[si]))
            .map(|l| lock_json(g, l))
            .collect();
        per_store.insert(name.to_string(), Value::Array(v));
    }
    let merged: Vec<Value> = g
        .locks
        .iter()
        .filter(|l| (0..3).any(|si| l.start_ts <= g.t[si] && store_has(si, &l.raw)))
        .filter(|l| {
            !(0..3)
                .any(|si| store_has(si, &l.raw) && l.resolved.is_some_and(|(ts, _)| ts <= g.t[si]))
        })
        .map(|l| lock_json(g, l))
        .collect();
    let j = json!({
        "note": "Lock-CF entries present in each store at its end (raw TiDB keys, hex). A lock of the \
                 merge is pending when no store holds its transaction's commit or rollback record; \
                 pending locks never change rows.",
        "stores": per_store,
        "merged_pending": merged,
    });
    std::fs::write(
        dir.join("locks.json"),
        serde_json::to_string_pretty(&j).unwrap() + "\n",
    )
    .unwrap();
}

fn write_divergence(g: &Gen, dir: &Path) {
    let (raw, ts) = g.conflict.clone().unwrap();
    let key = tg::ts_key(&raw, ts);
    let find = |alt: bool| {
        g.evs.iter().find_map(|e| match e {
            Ev::Op(p) if p.cf == "write" && p.key == key => {
                if alt {
                    p.alt3.clone()
                } else {
                    p.val.clone()
                }
            }
            _ => None,
        })
    };
    let j = json!({
        "conflicts": [{
            "key": hex::encode(&raw),
            "commit_ts": ts,
            "table": key_table(g, &raw),
            "write_cf_key": hex::encode(&key),
            "stores": ["store2", "store3"],
            "store2_value": hex::encode(find(false).unwrap()),
            "store3_value": hex::encode(find(true).unwrap()),
            "winner": "store2",
            "rule": "the first store on the command line (store1, store2, store3) wins",
        }],
        "missing_region": {
            "store": "store3",
            "table": "metrics.events",
            "physical_id": EVENTS_ID,
            "note": "store3 holds no record key of this table (write, default or lock CF); its \
                     rows in the merge come from store1 and store2",
        },
    });
    std::fs::write(
        dir.join("divergence.json"),
        serde_json::to_string_pretty(&j).unwrap() + "\n",
    )
    .unwrap();
}

fn write_schema(
    g: &Gen,
    dir: &Path,
    live_in: &BTreeMap<i64, Vec<&str>>,
    gone: &[(i64, u64, &str, Option<i64>)],
) {
    let dbs: Vec<Value> = g
        .dbs
        .iter()
        .map(|(id, n)| json!({"id": id, "name": n}))
        .collect();
    let tables: Vec<Value> = g
        .tables
        .values()
        .map(|t| {
            let g_ = gone.iter().find(|x| x.0 == t.id);
            json!({
                "db": t.db,
                "db_id": t.db_id,
                "name": t.name,
                "id": t.id,
                "physical_ids": t.physical_ids(),
                "partitions": t.parts.as_ref().map(|(e, ps)| json!({
                    "type": "range",
                    "expr": e,
                    "definitions": ps.iter().map(|p| json!({"id": p.id, "name": p.name, "less_than": p.less_than})).collect::<Vec<_>>(),
                })),
                "pk_is_handle": t.pk_is_handle,
                "is_common_handle": t.common_handle,
                "columns": t.public_cols().iter().map(|c| c.name).collect::<Vec<_>>(),
                "dropped": g_.is_some_and(|x| x.2 == "dropped"),
                "truncated": g_.is_some_and(|x| x.2 == "truncated"),
                "replaced_by": g_.and_then(|x| x.3),
                "meta_deleted_at_ts": g_.map(|x| x.1),
                "live_in": live_in.get(&t.id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let cut: serde_json::Map<String, Value> = STORES
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), json!(g.t[i])))
        .collect();
    let j = json!({
        "databases": dbs,
        "tables": tables,
        "cutoff_ts": cut,
        "schema_version": g.schema_ver,
    });
    std::fs::write(
        dir.join("schema.json"),
        serde_json::to_string_pretty(&j).unwrap() + "\n",
    )
    .unwrap();
}
