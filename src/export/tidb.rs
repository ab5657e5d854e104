//! TiDB export: salvage one or many TiKV stores, merge them (the newest commit of each key wins),
//! rebuild the schema at the read ts, decode every row and write each table as CSV (for TiDB
//! Lightning and `LOAD DATA`), SQL (Dumpling's layout) or JSON lines, with a report of what was
//! found: per-table counts, pending locks, store divergence and the tables that damage touched.
//!
//! Keys arrive in order (meta keys `m...` before table keys `t...`), so the schema is complete
//! before the first row, each physical table's rows arrive together and every table is written
//! in one pass, in bounded memory.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::plan::{ExportPlan, RefillRange};
use super::sqlschema::{
    create_database_sql_with, create_table_sql_with, push_quoted, quote_ident, SchemaOptions,
};
use crate::codec::hexfmt::push_hex;
use crate::lsm::salvage::DbSalvageOptions;
use crate::tidb::catalog::{Catalog, CatalogBuilder, CatalogTable, TableStatus};
use crate::tidb::decode::{decode_row, export_columns, Value};
use crate::tidb::gc;
use crate::tidb::key::decode_cmp_i64;
use crate::tidb::key::{record_key, RowHandle};
use crate::tidb::schema::ColumnInfo;
use crate::tikv::codec::decode_bytes_lenient;
use crate::tikv::mvcc::{parse_lock, parse_write, LockType, WriteType};
use crate::tikv::region::{self, MergeMode, RegionPlan};
use crate::tikv::store::{
    resolve, stream_stores, Divergence, KeyGroup, KeyState, MergedStores, RegionFilter,
    ResolveProblems, StoreOutcome,
};

/// Output format of table data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TidbFormat {
    Csv,
    Sql,
    Jsonl,
}

impl TidbFormat {
    fn ext(self) -> &'static str {
        match self {
            TidbFormat::Csv => "csv",
            TidbFormat::Sql => "sql",
            TidbFormat::Jsonl => "jsonl",
        }
    }
}

/// Options of [`export`].
#[derive(Clone, Debug)]
pub struct TidbExportOptions {
    pub format: TidbFormat,
    /// Only this database (case-insensitive).
    pub db: Option<String>,
    /// Only this table (case-insensitive).
    pub table: Option<String>,
    /// Read timestamp (TSO); `u64::MAX` reads the newest commit of every key.
    pub read_ts: u64,
    /// Also export dropped and truncated tables (under `OUT/dropped/`).
    pub include_dropped: bool,
    /// Also export TiDB's system databases ([`SYSTEM_DATABASES`]), which are skipped by default as
    /// Dumpling skips them (a `--db` naming one exports it too).
    pub include_system: bool,
    /// Start a new data file after this many bytes (0: one file per table).
    pub file_size: u64,
    /// Rows per INSERT statement at most (SQL).
    pub insert_rows: usize,
    /// Map collations MariaDB and MySQL 5.7 lack to ones they have in `CREATE TABLE`.
    pub portable_collations: bool,
    /// Salvage options (memory budget for the sorted runs of each store).
    pub salvage: DbSalvageOptions,
    /// How the stores are merged; `None`: by region when every store has region metadata, else
    /// key by key (format-specs/tikv.md §13).
    pub merge: Option<MergeMode>,
    /// Read stores of different clusters together.
    pub force: bool,
    /// Export only this node's share of an export plan (`tidb plan`), with the plan's schema.
    pub plan: Option<ExportPlan>,
}

impl Default for TidbExportOptions {
    fn default() -> Self {
        TidbExportOptions {
            format: TidbFormat::Csv,
            db: None,
            table: None,
            read_ts: u64::MAX,
            include_dropped: false,
            include_system: false,
            file_size: 0,
            insert_rows: 1000,
            portable_collations: false,
            salvage: DbSalvageOptions::default(),
            merge: None,
            force: false,
            plan: None,
        }
    }
}

/// Progress reported to the caller.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// Salvaging the stores' RocksDB files.
    Salvaging,
    /// Keys merged so far and rows written so far.
    Rows { keys: u64, rows: u64 },
}

/// What happened to one table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TableOutcome {
    pub db: String,
    pub table: String,
    pub id: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<i64>,
    pub status: String,
    /// Commit ts of the schema version used, and how many versions the stores hold.
    pub schema_ts: u64,
    pub schema_versions: usize,
    pub columns: usize,
    pub rows: u64,
    /// Rows with a record in a lost key range of some store, or older than a damaged WAL record:
    /// their value may not be the newest.
    pub suspect_rows: u64,
    /// Rows with a record that no checksum vouches for (from a table written with checksum type
    /// none, or from a carved block): exported, but their bytes are not proven intact.
    pub unverified_rows: u64,
    /// Rows deleted at the read ts (not exported).
    pub deleted_rows: u64,
    /// Rows whose committed value (in the default CF) no store holds.
    pub values_lost: u64,
    /// Rows with a pending lock: an uncommitted (or not yet resolved) write may change them; see
    /// `pending_locks` for each transaction's fate.
    pub locked_rows: u64,
    /// Rows that did not decode (not exported), and cells that did not (exported as NULL).
    pub row_errors: u64,
    pub cell_errors: u64,
    /// First problems, as `handle: message`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Data files written (relative to the output directory).
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_file: Option<String>,
}

/// A pending (uncommitted) lock, never mixed into the rows.
#[derive(Clone, Debug, Serialize)]
pub struct PendingLock {
    /// The raw key, hex.
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    pub lock_type: String,
    pub start_ts: u64,
    pub primary: String,
    pub store: usize,
    /// Where the prewritten value is: `short_value`, `default_cf`, `missing` or `none` (a delete
    /// or lock-only).
    pub value: String,
    /// The transaction's fate as its primary key records it in the merged stores (tikv.md §7):
    /// `committed` (at `commit_ts`: the row's exported value is older than the committed one),
    /// `rolled_back`, `locked` (the primary is still locked: undecided) or `unknown` (the primary
    /// holds neither: TiKV would roll it back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_ts: Option<u64>,
}

/// A lost key range of a damaged block, mapped to the tables it may have held.
#[derive(Clone, Debug, Serialize)]
pub struct AffectedRange {
    pub store: usize,
    pub file: String,
    pub offset: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_family: Option<String>,
    /// The lost raw keys (hex; null = open end), decoded from the data keys.
    pub from: Option<String>,
    pub to: Option<String>,
    pub tables: Vec<AffectedTable>,
    /// The range also covers meta keys (schema) or keys outside any known table.
    pub meta: bool,
    pub unknown_tables: Vec<i64>,
    /// Whether the export read this store there: false when stores were merged by region and
    /// other stores' replicas are authoritative for the whole range (the damage cost nothing).
    pub read: bool,
}

/// One table a lost range touches.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct AffectedTable {
    pub db: String,
    pub table: String,
    pub table_id: i64,
    pub physical_id: i64,
    /// Handle bounds (`null` = from the table's first / to its last row).
    pub handles_from: Option<String>,
    pub handles_to: Option<String>,
}

/// The report of an export.
#[derive(Debug, Serialize)]
pub struct TidbExportReport {
    pub read_ts: Option<u64>,
    pub format: TidbFormat,
    pub stores: Vec<StoreSummary>,
    /// How the stores were merged.
    pub merge: MergeMode,
    /// The region plan's outcome (`merge` = regions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions: Option<RegionsOutcome>,
    pub divergence: Divergence,
    pub databases: Vec<DbOutcome>,
    pub tables: Vec<TableOutcome>,
    pub pending_locks: Vec<PendingLock>,
    pub pending_lock_count: u64,
    pub affected_tables: Vec<AffectedRange>,
    /// Rows under physical table ids no schema names (schema lost, or dropped and its meta gone).
    pub rows_without_schema: BTreeMap<i64, u64>,
    pub keys: KeyCounts,
    pub schema_problems: Vec<String>,
    /// TiDB's GC safe point (`mysql.tidb`), when the stores hold it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_safe_point: Option<GcSafePoint>,
    pub notes: Vec<String>,
}

/// The GC safe point as `mysql.tidb` holds it (format-specs/tidb.md §13).
#[derive(Clone, Debug, Serialize)]
pub struct GcSafePoint {
    /// As stored.
    pub text: String,
    /// Its TSO (`None` when the text does not parse).
    pub ts: Option<u64>,
}

/// What choosing replicas by region did (format-specs/tikv.md §13).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RegionsOutcome {
    /// Region ids seen over all stores.
    pub regions: usize,
    /// Key ranges read, each from one store.
    pub ranges: usize,
    pub stores: Vec<StoreRegions>,
    /// Records read from a next-best replica because the better ones lost the range to damage
    /// (their rows are suspect).
    pub filled_records: u64,
    /// Regions whose chosen replica is behind another replica's applied index.
    pub behind: Vec<u64>,
    /// Key ranges no store holds a usable replica of, with the tables they touch.
    pub lost: Vec<LostRange>,
    /// With an export plan: key ranges this node owns but lost data in, and the replicas to
    /// take them from (`tidb plan --refill`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refill: Vec<RefillRange>,
}

/// One store under the region plan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StoreRegions {
    /// The store and the region metadata it holds.
    #[serde(flatten)]
    pub identity: super::regions::StoreLine,
    /// Key ranges read from this store.
    pub ranges: usize,
    /// Records not read because another store's replica was chosen for their range.
    pub unused_records: u64,
    /// Records outside every usable replica of this store ("stale leftovers": data of removed or
    /// moved-away peers, which TiKV deletes at its next start).
    pub leftover_records: u64,
}

/// A key range without a usable replica.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct LostRange {
    /// Encoded bounds as the regions hold them (hex, upper case; empty = open).
    pub start: String,
    pub end: String,
    /// The raw TiDB keys of the bounds (hex; null = open).
    pub from: Option<String>,
    pub to: Option<String>,
    pub tables: Vec<AffectedTable>,
    /// The range covers meta keys (schema) or keys outside any known table.
    pub meta: bool,
    pub unknown_tables: Vec<i64>,
}

/// Per-store summary (the full per-file reports go to `damage-report.json`).
#[derive(Clone, Debug, Serialize)]
pub struct StoreSummary {
    pub path: String,
    pub kv_dir: String,
    pub write_keys: u64,
    pub default_keys: u64,
    pub lock_keys: u64,
    pub tables_damaged: usize,
    pub wal_problems: usize,
    pub notes: Vec<String>,
}

/// A database.
#[derive(Clone, Debug, Serialize)]
pub struct DbOutcome {
    pub id: i64,
    pub name: String,
    pub dropped: bool,
    pub tables: usize,
    /// A TiDB system database (not exported unless asked for).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub system: bool,
}

/// Keys by kind.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KeyCounts {
    pub merged: u64,
    pub meta: u64,
    pub records: u64,
    pub index: u64,
    pub other: u64,
    pub undecodable: u64,
}

/// Writes one table's rows, in chunks.
struct TableWriter {
    dir: PathBuf,
    base: String,
    format: TidbFormat,
    columns: Vec<String>,
    table_sql_name: String,
    file_size: u64,
    insert_rows: usize,
    chunk: u32,
    w: Option<BufWriter<File>>,
    written: u64,
    in_insert: usize,
    files: Vec<String>,
    rel: String,
}

/// A file-name-safe form of a name (Dumpling keeps names, escaping only what the file system
/// cannot hold).
fn file_name_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == '\0' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

impl TableWriter {
    fn open_chunk(&mut self) -> io::Result<()> {
        let name = format!("{}.{:09}.{}", self.base, self.chunk, self.format.ext());
        let mut w = BufWriter::with_capacity(1 << 17, File::create(self.dir.join(&name))?);
        self.files.push(format!("{}{name}", self.rel));
        self.chunk += 1;
        self.written = 0;
        self.in_insert = 0;
        match self.format {
            TidbFormat::Csv => {
                let mut line = Vec::new();
                for (i, c) in self.columns.iter().enumerate() {
                    if i > 0 {
                        line.push(b',');
                    }
                    csv_field(&mut line, c.as_bytes());
                }
                line.push(b'\n');
                w.write_all(&line)?;
            }
            TidbFormat::Sql => {
                w.write_all(
                    b"/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n/*!40103 SET TIME_ZONE='+00:00' */;\n",
                )?;
            }
            TidbFormat::Jsonl => {}
        }
        self.w = Some(w);
        Ok(())
    }

    /// Write one row rendered by [`render_row`] (for SQL, its parenthesised tuple).
    fn write_row(&mut self, rendered: &[u8]) -> io::Result<()> {
        if self.w.is_none() || (self.file_size > 0 && self.written >= self.file_size) {
            self.finish_chunk()?;
            self.open_chunk()?;
        }
        let Some(w) = &mut self.w else {
            return Ok(());
        };
        if self.format == TidbFormat::Sql {
            if self.in_insert == 0 {
                w.write_all(b"INSERT INTO ")?;
                w.write_all(self.table_sql_name.as_bytes())?;
                w.write_all(b" VALUES\n")?;
            } else {
                w.write_all(b",\n")?;
            }
            w.write_all(rendered)?;
            self.in_insert += 1;
            if self.in_insert >= self.insert_rows {
                w.write_all(b";\n")?;
                self.in_insert = 0;
            }
        } else {
            w.write_all(rendered)?;
        }
        self.written += rendered.len() as u64 + 2;
        Ok(())
    }

    fn finish_chunk(&mut self) -> io::Result<()> {
        if let Some(mut w) = self.w.take() {
            if self.format == TidbFormat::Sql && self.in_insert > 0 {
                w.write_all(b";\n")?;
            }
            self.in_insert = 0;
            w.flush()?;
        }
        Ok(())
    }
}

/// One row in `format`: a CSV or JSON line, or an SQL tuple `(…)` (the writer adds the statement
/// around it). `json_keys`: each column's name as a JSON string followed by `:`.
fn render_row(format: TidbFormat, json_keys: &[Vec<u8>], values: &[Value]) -> Vec<u8> {
    let mut line = Vec::with_capacity(256);
    match format {
        TidbFormat::Csv => {
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                csv_value(&mut line, v);
            }
            line.push(b'\n');
        }
        TidbFormat::Sql => {
            line.push(b'(');
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                sql_value(&mut line, v);
            }
            line.push(b')');
        }
        TidbFormat::Jsonl => {
            line.push(b'{');
            for (i, (k, v)) in json_keys.iter().zip(values).enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                line.extend_from_slice(k);
                json_value(&mut line, v);
            }
            line.extend_from_slice(b"}\n");
        }
    }
    line
}

/// A CSV field: quoted, with backslash escapes (TiDB Lightning's `backslash-escape`, `LOAD DATA`'s
/// `ESCAPED BY '\\'`).
fn csv_field(out: &mut Vec<u8>, b: &[u8]) {
    push_quoted(out, b, b'"', b"\\\"");
}

fn csv_value(out: &mut Vec<u8>, v: &Value) {
    match v.text() {
        None => out.extend_from_slice(b"\\N"),
        Some(t) if v.is_numeric() => out.extend_from_slice(&t),
        Some(t) => csv_field(out, &t),
    }
}

fn sql_value(out: &mut Vec<u8>, v: &Value) {
    match (v, v.text()) {
        (_, None) => out.extend_from_slice(b"NULL"),
        (Value::Binary(b), _) if b.is_empty() => out.extend_from_slice(b"''"),
        (Value::Binary(b), _) => {
            out.extend_from_slice(b"x'");
            push_hex(out, b);
            out.push(b'\'');
        }
        (v, Some(t)) if v.is_numeric() => out.extend_from_slice(&t),
        (_, Some(t)) => push_quoted(out, &t, b'\'', b"\\'"),
    }
}

fn json_string(out: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(s) => out.extend_from_slice(serde_json::to_string(s).unwrap_or_default().as_bytes()),
        Err(_) => {
            out.extend_from_slice(b"{\"hex\":\"");
            push_hex(out, b);
            out.extend_from_slice(b"\"}");
        }
    }
}

fn json_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Uint(u) => out.extend_from_slice(u.to_string().as_bytes()),
        Value::Float(f) if f.is_finite() => out.extend_from_slice(f.to_string().as_bytes()),
        Value::Double(f) if f.is_finite() => out.extend_from_slice(f.to_string().as_bytes()),
        // A JSON document as its text in a string: embedded, the JSON literal null could not be
        // told from SQL NULL.
        Value::Vector(s) => out.extend_from_slice(s.as_bytes()),
        Value::Binary(b) => {
            out.extend_from_slice(b"{\"hex\":\"");
            push_hex(out, b);
            out.extend_from_slice(b"\"}");
        }
        v => json_string(out, &v.text().unwrap_or_default()),
    }
}

/// The raw key of a data key (`z` + memcomparable) that may be cut anywhere (a lost-range bound),
/// as far as its groups are whole; the second value is whether it decoded completely.
fn lenient_raw(data_key: &[u8]) -> (Vec<u8>, bool) {
    match data_key.strip_prefix(b"z") {
        Some(rest) => decode_bytes_lenient(rest),
        None => (data_key.to_vec(), false),
    }
}

fn handle_text(raw: &[u8]) -> Option<String> {
    match record_key(raw) {
        Some((_, RowHandle::Int(h))) => Some(h.to_string()),
        Some((_, RowHandle::Common(b))) => Some(format!("0x{}", hex::encode(b))),
        None => None,
    }
}

/// The physical table id a raw key falls in: below every table (`i64::MIN`), at/after table
/// `id`, or past every table.
fn table_id_of(raw: &[u8], low: bool) -> i64 {
    match raw.first() {
        Some(b't') => match decode_cmp_i64(raw.get(1..9).unwrap_or(&[])) {
            Some(id) => id,
            None if low => i64::MIN,
            None => i64::MAX,
        },
        Some(c) if *c > b't' => i64::MAX,
        _ => i64::MIN,
    }
}

/// The tables (and partitions) a raw key range touches, with handle bounds at its ends; whether it
/// touches meta keys or keys of no table; table ids no schema names. `to` is inclusive, or
/// exclusive when `to_exclusive`.
fn map_range(
    from: Option<&[u8]>,
    to: Option<&[u8]>,
    to_exclusive: bool,
    catalog: &Catalog,
) -> (Vec<AffectedTable>, bool, Vec<i64>) {
    let lo = from.map_or(i64::MIN, |r| table_id_of(r, true));
    let mut hi = to.map_or(i64::MAX, |r| table_id_of(r, false));
    // An exclusive end at a table's very first key (`t{id}`) does not touch that table.
    if to_exclusive && to.is_some_and(|r| r.len() == 9 && r[0] == b't') && hi > lo {
        hi -= 1;
    }
    let meta = from.is_none_or(|r| r < b"t".as_slice());
    let mut tables = Vec::new();
    let mut known = std::collections::BTreeSet::new();
    for (&pid, &(tid, _)) in catalog.physical.range(lo..=hi) {
        known.insert(pid);
        let Some(t) = catalog.tables.get(&tid) else {
            continue;
        };
        let handles_from = (pid == lo).then(|| from.and_then(handle_text)).flatten();
        let handles_to = (pid == hi).then(|| to.and_then(handle_text)).flatten();
        tables.push(AffectedTable {
            db: t.db_name.clone(),
            table: t.info.name.original.clone(),
            table_id: tid,
            physical_id: pid,
            handles_from,
            handles_to,
        });
    }
    let mut unknown = Vec::new();
    for id in [lo, hi] {
        if id != i64::MIN && id != i64::MAX && !known.contains(&id) && !unknown.contains(&id) {
            unknown.push(id);
        }
    }
    (tables, meta, unknown)
}

/// The parts of this node's ranges its stores lost to damage, with the plan's next-best replicas.
fn refills(
    p: &ExportPlan,
    node: &RegionPlan,
    stores: &[StoreOutcome],
    local: &[Option<u64>],
) -> Vec<RefillRange> {
    let mut out = Vec::new();
    for (si, s) in stores.iter().enumerate() {
        for (cf, spans) in s.lost_spans().iter().enumerate() {
            // Write and default keys end in an 8-byte timestamp; lock keys do not.
            let with_ts = cf < 2;
            let enc = |k: &[u8]| -> Vec<u8> {
                let k = k.strip_prefix(b"z").unwrap_or(k);
                if with_ts && k.len() >= 8 {
                    k[..k.len() - 8].to_vec()
                } else {
                    k.to_vec()
                }
            };
            for (from, to) in spans {
                let lo = from.as_deref().map(enc).unwrap_or_default();
                // Exclusive: just past the last lost key.
                let hi = to.as_deref().map(|t| {
                    let mut e = enc(t);
                    e.push(0);
                    e
                });
                for (r, pr) in node.ranges.iter().zip(&p.ranges) {
                    if r.stores.first() != Some(&si) {
                        continue;
                    }
                    let start = lo.clone().max(r.start.clone());
                    let end = match (&hi, r.end.is_empty()) {
                        (None, _) => r.end.clone(),
                        (Some(h), true) => h.clone(),
                        (Some(h), false) => h.clone().min(r.end.clone()),
                    };
                    if !end.is_empty() && start >= end {
                        continue;
                    }
                    out.push(RefillRange {
                        start: hex::encode_upper(&start),
                        end: hex::encode_upper(&end),
                        region_id: r.region_id,
                        store_id: local[si].unwrap_or(0),
                        next_store_ids: pr.store_ids.iter().skip(1).copied().collect(),
                    });
                }
            }
        }
    }
    out
}

/// Whether any key range of `[from, to]` (raw keys, hex; `None` = open) is read from `store` as
/// the authoritative replica under the region plan.
fn read_there(plan: &RegionPlan, store: usize, from: Option<&str>, to: Option<&str>) -> bool {
    let enc = |h: Option<&str>| {
        h.and_then(|x| hex::decode(x).ok())
            .map(|raw| crate::tikv::codec::encode_bytes(&raw))
    };
    let (lo, hi) = (enc(from), enc(to));
    plan.ranges.iter().any(|r| {
        r.stores.first() == Some(&store)
            && lo
                .as_ref()
                .is_none_or(|l| r.end.is_empty() || l.as_slice() < r.end.as_slice())
            && hi
                .as_ref()
                .is_none_or(|h| r.start.as_slice() <= h.as_slice())
    })
}

/// The GC safe point if `g` is its row of `mysql.tidb` (read at the newest commit).
fn gc_safe_point(g: &KeyGroup, info: &crate::tidb::schema::TableInfo) -> Option<GcSafePoint> {
    let (pid, handle) = record_key(&g.raw)?;
    if pid != info.id {
        return None;
    }
    let KeyState::Value { value, .. } = resolve(g, u64::MAX, &mut ResolveProblems::default())
    else {
        return None;
    };
    let cols = export_columns(info);
    let (vals, _) = decode_row(info, &cols, &handle, &value).ok()?;
    let col = |name: &str| {
        cols.iter()
            .position(|c| c.name.original.eq_ignore_ascii_case(name))
            .and_then(|i| vals.get(i))
    };
    match col("VARIABLE_NAME")? {
        Value::Text(n) if n.as_slice() == gc::SAFE_POINT_VAR => {}
        _ => return None,
    }
    let Value::Text(v) = col("VARIABLE_VALUE")? else {
        return None;
    };
    let text = String::from_utf8_lossy(v).into_owned();
    Some(GcSafePoint {
        ts: gc::parse_gc_time(&text).map(gc::tso_of_ms),
        text,
    })
}

/// Map the key ranges no usable replica covers to tables.
pub(crate) fn lost_ranges(plan: &RegionPlan, catalog: &Catalog) -> Vec<LostRange> {
    plan.gaps
        .iter()
        .map(|g| {
            let raw = |b: &[u8]| (!b.is_empty()).then(|| decode_bytes_lenient(b).0);
            let (from, to) = (raw(&g.start), raw(&g.end));
            let (tables, meta, unknown_tables) =
                map_range(from.as_deref(), to.as_deref(), true, catalog);
            LostRange {
                start: hex::encode_upper(&g.start),
                end: hex::encode_upper(&g.end),
                from: from.as_ref().map(hex::encode),
                to: to.as_ref().map(hex::encode),
                tables,
                meta,
                unknown_tables,
            }
        })
        .collect()
}

/// Map lost key ranges in the stores' damage reports to tables.
fn affected(stores: &[StoreOutcome], catalog: &Catalog) -> Vec<AffectedRange> {
    let mut out = Vec::new();
    for (si, s) in stores.iter().enumerate() {
        for f in &s.report.tables {
            for d in &f.damaged {
                let lost = d.lost_keys.as_ref();
                let from = lost
                    .and_then(|l| l.from.as_deref())
                    .and_then(|h| hex::decode(h).ok());
                let to = lost
                    .and_then(|l| l.to.as_deref())
                    .and_then(|h| hex::decode(h).ok());
                if lost.is_none() && !matches!(d.kind.as_str(), "data" | "unknown") {
                    continue;
                }
                let from_raw = from.as_deref().map(lenient_raw);
                let to_raw = to.as_deref().map(lenient_raw);
                let (tables, meta, unknown) = map_range(
                    from_raw.as_ref().map(|(r, _)| r.as_slice()),
                    to_raw.as_ref().map(|(r, _)| r.as_slice()),
                    false,
                    catalog,
                );
                out.push(AffectedRange {
                    store: si,
                    file: f.file.path.clone(),
                    offset: d.offset,
                    column_family: f.column_family.clone(),
                    from: from_raw.as_ref().map(|(r, _)| hex::encode(r)),
                    to: to_raw.as_ref().map(|(r, _)| hex::encode(r)),
                    tables,
                    meta,
                    unknown_tables: unknown,
                    read: true,
                });
            }
        }
    }
    out
}

struct Target {
    table_id: i64,
    outcome: usize,
    /// Column names as JSON object keys (`"name":`), for JSON lines.
    json_keys: Vec<Vec<u8>>,
    writer: Option<TableWriter>,
    last_physical: i64,
}

/// TiDB's system databases, which Dumpling's default filter leaves out: loading TiDB's `mysql`
/// tables into MySQL or MariaDB would overwrite that server's own (`mysql.user`, ...).
pub const SYSTEM_DATABASES: [&str; 6] = [
    "mysql",
    "sys",
    "INFORMATION_SCHEMA",
    "PERFORMANCE_SCHEMA",
    "METRICS_SCHEMA",
    "INSPECTION_SCHEMA",
];

/// Whether `db` is one of [`SYSTEM_DATABASES`].
pub fn is_system_db(db: &str) -> bool {
    SYSTEM_DATABASES.iter().any(|s| s.eq_ignore_ascii_case(db))
}

fn wanted(t: &CatalogTable, opts: &TidbExportOptions) -> bool {
    let db_ok = match &opts.db {
        Some(d) => d.eq_ignore_ascii_case(&t.db_name),
        None => opts.include_system || !is_system_db(&t.db_name),
    };
    let t_ok = opts
        .table
        .as_ref()
        .is_none_or(|n| n.eq_ignore_ascii_case(&t.info.name.original));
    db_ok && t_ok && (t.status == TableStatus::Live || opts.include_dropped)
}

/// Salvage `datadirs` (TiKV data directories, kv DB directories or directories of SSTs) and export
/// their TiDB tables to `out` (None: only count, for listings). Sorted runs and the per-store
/// spools go under `tmp`, emptied first and removed at the end.
pub fn export(
    datadirs: &[PathBuf],
    out: Option<&Path>,
    tmp: &Path,
    opts: &TidbExportOptions,
    progress: &dyn Fn(Progress),
) -> io::Result<(TidbExportReport, Vec<StoreOutcome>)> {
    prepare_dirs(out, tmp, datadirs)?;
    progress(Progress::Salvaging);
    // Each store's data column families stream straight into the merge: nothing is spooled
    // (format-specs/tikv.md §11).
    let live = stream_stores(datadirs, tmp, &opts.salvage)?;
    let n = live.metas.len();
    let (dirs, salvage, again_tmp) = (datadirs.to_vec(), opts.salvage.clone(), tmp.join("again"));
    let finish = live.finish;
    let input = StoresInput {
        merged: live.merged,
        metas: live.metas,
        lost: vec![Default::default(); n],
        finish: Box::new(move || finish.join()),
        // The primaries' write and lock records, read again (only the tables that hold them).
        again: Box::new(move |keys| {
            let ranges = keys
                .iter()
                .map(|k| {
                    let from = crate::tikv::mvcc::data_key(k, None);
                    let mut below = from.clone();
                    below.extend_from_slice(&[0xff; 9]);
                    (from, Some(below))
                })
                .collect();
            let o = crate::lsm::salvage::DbSalvageOptions {
                filter: Some(crate::lsm::salvage::KeyFilter {
                    cfs: vec!["write".into(), "lock".into()],
                    ranges,
                }),
                progress: None,
                ..salvage.clone()
            };
            let _ = std::fs::remove_dir_all(&again_tmp);
            Ok(stream_stores(&dirs, &again_tmp, &o)?.merged)
        }),
    };
    export_from(input, out, tmp, opts, progress, None)
}

/// Check that neither `out` nor `tmp` lies on an input (nothing is written onto an input,
/// [`crate::io::ensure_outside_inputs`]), then create `out` and an empty `tmp`.
pub(crate) fn prepare_dirs<P: AsRef<Path>>(
    out: Option<&Path>,
    tmp: &Path,
    inputs: &[P],
) -> io::Result<()> {
    if let Some(o) = out {
        crate::io::ensure_outside_inputs("output directory", o, inputs)?;
    }
    crate::io::ensure_outside_inputs("temporary directory", tmp, inputs)?;
    if let Some(o) = out {
        std::fs::create_dir_all(o)?;
    }
    let _ = std::fs::remove_dir_all(tmp);
    std::fs::create_dir_all(tmp)
}

/// Export from stores already spooled under `tmp/store-<i>/` (the layout of
/// [`crate::tikv::store::salvage_stores`]).
/// `schema`: a catalog builder that already holds the schema (a BR backup's); the stream's meta
/// keys are then not used.
pub(crate) fn export_spooled(
    stores: Vec<StoreOutcome>,
    out: Option<&Path>,
    tmp: &Path,
    opts: &TidbExportOptions,
    progress: &dyn Fn(Progress),
    schema: Option<CatalogBuilder>,
) -> io::Result<(TidbExportReport, Vec<StoreOutcome>)> {
    let n = stores.len();
    let spools = tmp.to_path_buf();
    let input = StoresInput {
        merged: MergedStores::open(tmp, n)?,
        metas: stores.iter().map(|s| s.meta.clone()).collect(),
        lost: stores.iter().map(|s| s.lost_spans()).collect(),
        finish: Box::new(move || Ok(stores)),
        again: Box::new(move |_| MergedStores::open(&spools, n)),
    };
    export_from(input, out, tmp, opts, progress, schema)
}

/// What an export reads: the stores' merged stream, and what to do once it is read.
pub(crate) struct StoresInput {
    pub merged: MergedStores,
    /// Each store's identity and region metadata.
    pub metas: Vec<region::StoreMeta>,
    /// Per store, per data CF: the key ranges lost to damage, where known before the merge
    /// (spools; live streams tell theirs as they go).
    pub lost: Vec<[Vec<crate::tikv::store::LostSpan>; 3]>,
    /// The stores' outcomes, once the stream has been read to its end.
    pub finish: Box<dyn FnOnce() -> io::Result<Vec<StoreOutcome>>>,
    /// A second stream holding at least the write and lock records of these raw keys (the
    /// primaries of pending locks).
    pub again: ReadAgain,
}

/// Reads the stores again for some raw keys (see [`StoresInput::again`]).
pub(crate) type ReadAgain = Box<dyn Fn(&[Vec<u8>]) -> io::Result<MergedStores>>;

/// Export the TiDB tables of the stores' merged stream.
pub(crate) fn export_from(
    input: StoresInput,
    out: Option<&Path>,
    tmp: &Path,
    opts: &TidbExportOptions,
    progress: &dyn Fn(Progress),
    schema: Option<CatalogBuilder>,
) -> io::Result<(TidbExportReport, Vec<StoreOutcome>)> {
    let StoresInput {
        mut merged,
        metas,
        lost,
        finish,
        again,
    } = input;
    let n = metas.len();
    region::check_stores(&metas, opts.force)
        .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let without: Vec<&str> = metas
        .iter()
        .filter(|m| !m.has_regions())
        .map(|m| m.path.as_str())
        .collect();
    let mode = match opts.merge {
        _ if opts.plan.is_some() => MergeMode::Regions,
        Some(MergeMode::Regions) if !without.is_empty() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "--merge regions: no region metadata (no RegionLocalState in CF raft) in {}; \
                     use --merge keys",
                    without.join(", ")
                ),
            ))
        }
        Some(m) => m,
        None if without.is_empty() => MergeMode::Regions,
        None => MergeMode::Keys,
    };
    let mut region_plan = None;
    let local: Vec<Option<u64>> = metas.iter().map(|m| m.store_id).collect();
    if let Some(p) = &opts.plan {
        if !opts.force {
            if let Some(m) = metas
                .iter()
                .find(|m| m.cluster_id.is_some() && m.cluster_id != p.cluster_id)
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is a store of cluster {}, the plan is for cluster {}",
                        m.path,
                        m.cluster_id.unwrap_or(0),
                        p.cluster_id.map_or("?".into(), |c| c.to_string())
                    ),
                ));
            }
        }
        if !local
            .iter()
            .any(|l| p.stores.iter().any(|s| Some(s.store_id) == *l))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "none of the stores given ({}) is in the plan (store ids {:?})",
                    metas
                        .iter()
                        .map(|m| format!(
                            "{}: store {}",
                            m.path,
                            m.store_id.map_or("?".into(), |i| i.to_string())
                        ))
                        .collect::<Vec<_>>()
                        .join(", "),
                    p.stores.iter().map(|s| s.store_id).collect::<Vec<_>>()
                ),
            ));
        }
        let plan = p.for_node(&local);
        merged.use_regions(RegionFilter {
            plan: plan.clone(),
            lost: lost.clone(),
        })?;
        region_plan = Some(plan);
    } else if mode == MergeMode::Regions {
        let plan = region::plan(&metas);
        merged.use_regions(RegionFilter {
            plan: plan.clone(),
            lost: lost.clone(),
        })?;
        region_plan = Some(plan);
    }
    let read_ts = opts.read_ts;
    let mut rep = TidbExportReport {
        read_ts: (read_ts != u64::MAX).then_some(read_ts),
        format: opts.format,
        // Filled in once the stores' salvage is complete.
        stores: Vec::new(),
        merge: mode,
        regions: None,
        divergence: Divergence::default(),
        databases: Vec::new(),
        tables: Vec::new(),
        pending_locks: Vec::new(),
        pending_lock_count: 0,
        affected_tables: Vec::new(),
        rows_without_schema: BTreeMap::new(),
        keys: KeyCounts::default(),
        schema_problems: Vec::new(),
        gc_safe_point: None,
        notes: Vec::new(),
    };
    let schema_given = schema.is_some();
    let mut builder = Some(schema.unwrap_or_else(|| CatalogBuilder::new(read_ts)));
    // With a plan, the schema is the plan's (read from the meta region's authoritative replica).
    if let (Some(p), Some(b)) = (&opts.plan, builder.as_mut()) {
        for g in p.meta_groups()? {
            b.add(&g);
        }
    }
    let schema_from_plan = opts.plan.is_some() || schema_given;
    let mut catalog = Catalog::default();
    // Physical id -> index into `targets`.
    let mut by_physical: BTreeMap<i64, usize> = BTreeMap::new();
    let mut targets: Vec<Target> = Vec::new();
    let mut rows_total = 0u64;
    let schema_opts = SchemaOptions {
        portable_collations: opts.portable_collations,
    };
    let mut last_closed_below = i64::MIN;
    // mysql.tidb, where TiDB keeps the GC safe point.
    let mut gc_table: Option<crate::tidb::schema::TableInfo> = None;
    // A reader thread merges the stores and hands over batches of keys; once the schema is known,
    // each batch is decoded and rendered in parallel and applied in key order.
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<KeyGroup>>>(4);
    let reader = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            match merged.next_group() {
                Ok(Some(g)) => {
                    batch.push(g);
                    if batch.len() == BATCH
                        && tx
                            .send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))))
                            .is_err()
                    {
                        break;
                    }
                }
                Ok(None) => {
                    if !batch.is_empty() {
                        let _ = tx.send(Ok(batch));
                    }
                    break;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            }
        }
        let counts = merged.region_counts();
        (merged.divergence, counts)
    });
    for batch in rx {
        let batch = batch?;
        let mut start = 0;
        // The meta keys come first: the schema is built from them, one by one.
        while builder.is_some() && start < batch.len() {
            let g = &batch[start];
            if g.bad_key {
                rep.keys.merged += 1;
                rep.keys.undecodable += 1;
                start += 1;
                continue;
            }
            if g.raw.first().is_some_and(|c| *c > b'm') {
                break;
            }
            rep.keys.merged += 1;
            start += 1;
            let locks = pending_locks(g, read_ts, &catalog);
            add_locks(&mut rep, locks);
            if let Some(b) = builder.as_mut() {
                if schema_from_plan {
                    rep.keys.meta += (g.raw.first() == Some(&b'm')) as u64;
                } else if b.add(g) {
                    rep.keys.meta += 1;
                } else {
                    rep.keys.other += 1;
                }
            }
        }
        if start == batch.len() {
            continue;
        }
        if let Some(b) = builder.take() {
            (catalog, targets, by_physical) = plan(b, opts, out, &schema_opts, &mut rep)?;
            gc_table = catalog
                .tables
                .values()
                .find(|t| {
                    t.status == TableStatus::Live
                        && t.db_name.eq_ignore_ascii_case(gc::GC_DB)
                        && t.info.name.original.eq_ignore_ascii_case(gc::GC_TABLE)
                })
                .map(|t| t.info.clone());
        }
        if let Some(info) = &gc_table {
            for g in &batch[start..] {
                if let Some(sp) = gc_safe_point(g, info) {
                    rep.gc_safe_point = Some(sp);
                }
            }
        }
        let ctx = Ctx {
            catalog: &catalog,
            by_physical: &by_physical,
            targets: targets
                .iter()
                .map(|t| {
                    let ct = catalog.tables.get(&t.table_id)?;
                    Some((ct, export_columns(&ct.info), t.json_keys.as_slice()))
                })
                .collect(),
            read_ts,
            format: opts.format,
            render: out.is_some(),
        };
        let processed: Vec<Processed> = batch[start..]
            .par_iter()
            .map(|g| process(g, &ctx))
            .collect();
        drop(ctx);
        for p in processed {
            rep.keys.merged += 1;
            add_locks(&mut rep, p.locks);
            let (ti, pid) = match &p.outcome {
                Outcome::Undecodable => {
                    rep.keys.undecodable += 1;
                    continue;
                }
                Outcome::Index => {
                    rep.keys.index += 1;
                    continue;
                }
                Outcome::Other => {
                    rep.keys.other += 1;
                    continue;
                }
                Outcome::NoSchema(pid) => {
                    rep.keys.records += 1;
                    *rep.rows_without_schema.entry(*pid).or_insert(0) += 1;
                    continue;
                }
                Outcome::Unwanted => {
                    rep.keys.records += 1;
                    continue;
                }
                Outcome::Row { ti, pid, .. }
                | Outcome::Deleted { ti, pid }
                | Outcome::Absent { ti, pid }
                | Outcome::Lost { ti, pid, .. }
                | Outcome::RowError { ti, pid, .. } => (*ti, *pid),
            };
            rep.keys.records += 1;
            // Close writers of tables whose last partition is behind us.
            if pid > last_closed_below {
                for t in targets.iter_mut().filter(|t| t.last_physical < pid) {
                    if let Some(mut w) = t.writer.take() {
                        w.finish_chunk()?;
                        rep.tables[t.outcome].files = std::mem::take(&mut w.files);
                    }
                }
                last_closed_below = pid;
            }
            let target = &mut targets[ti];
            let o = &mut rep.tables[target.outcome];
            for m in &p.problems {
                push_problem(o, m);
            }
            match p.outcome {
                Outcome::Row {
                    line,
                    suspect,
                    unverified,
                    locked,
                    cell_errors,
                    ..
                } => {
                    o.rows += 1;
                    o.suspect_rows += suspect as u64;
                    o.unverified_rows += unverified as u64;
                    o.locked_rows += locked as u64;
                    o.cell_errors += cell_errors;
                    if let Some(w) = &mut target.writer {
                        w.write_row(&line)?;
                    }
                    rows_total += 1;
                }
                Outcome::Deleted { .. } => o.deleted_rows += 1,
                Outcome::Lost { .. } => o.values_lost += 1,
                Outcome::RowError { .. } => o.row_errors += 1,
                _ => {}
            }
        }
        progress(Progress::Rows {
            keys: rep.keys.merged,
            rows: rows_total,
        });
    }
    let (divergence, (unused, leftover, filled)) = reader
        .join()
        .map_err(|_| io::Error::other("the store merge thread panicked"))?;
    if let Some(b) = builder.take() {
        (catalog, targets, _) = plan(b, opts, out, &schema_opts, &mut rep)?;
    }
    for t in &mut targets {
        if let Some(mut w) = t.writer.take() {
            w.finish_chunk()?;
            rep.tables[t.outcome].files = std::mem::take(&mut w.files);
        }
    }
    progress(Progress::Rows {
        keys: rep.keys.merged,
        rows: rows_total,
    });
    rep.divergence = divergence;
    // The stream is read: the stores' salvage reports are complete.
    let stores = finish()?;
    rep.stores = stores
        .iter()
        .map(|s| StoreSummary {
            path: s.path.clone(),
            kv_dir: s.kv_dir.clone(),
            default_keys: s.keys[0],
            write_keys: s.keys[1],
            lock_keys: s.keys[2],
            tables_damaged: s
                .report
                .tables
                .iter()
                .filter(|t| !t.damaged.is_empty())
                .count(),
            wal_problems: s.report.wals.iter().map(|w| w.problems.len()).sum(),
            notes: s.report.notes.clone(),
        })
        .collect();
    if let Some(sp) = &rep.gc_safe_point {
        if let Some(ts) = sp.ts.filter(|ts| read_ts != u64::MAX && read_ts < *ts) {
            rep.notes.push(format!(
                "--read-ts {read_ts} is older than TiDB's GC safe point {} (ts {ts}): versions at \
                 or below the safe point may already be garbage-collected on some stores, so rows \
                 can be missing or show newer values",
                sp.text
            ));
        }
    }
    rep.affected_tables = affected(&stores, &catalog);
    if let Some(plan) = &region_plan {
        for a in &mut rep.affected_tables {
            a.read = read_there(plan, a.store, a.from.as_deref(), a.to.as_deref());
        }
        rep.regions = Some(RegionsOutcome {
            regions: plan.regions.len(),
            ranges: plan.ranges.len(),
            stores: metas
                .iter()
                .enumerate()
                .map(|(i, m)| StoreRegions {
                    identity: super::regions::StoreLine::of(i, m),
                    ranges: plan
                        .ranges
                        .iter()
                        .filter(|r| r.stores.first() == Some(&i))
                        .count(),
                    unused_records: unused[i],
                    leftover_records: leftover[i],
                })
                .collect(),
            filled_records: filled,
            refill: opts
                .plan
                .as_ref()
                .map(|p| refills(p, plan, &stores, &local))
                .unwrap_or_default(),
            behind: plan
                .regions
                .iter()
                .filter(|c| c.behind)
                .map(|c| c.region_id)
                .collect(),
            lost: if opts.plan.is_some() {
                Vec::new()
            } else {
                lost_ranges(plan, &catalog)
            },
        });
        if let Some(p) = &opts.plan {
            rep.notes.push(format!(
                "exported this node's share of an export plan: {} of its {} key range(s); the \
                 plan lists {} lost range(s)",
                plan.ranges.iter().filter(|r| !r.stores.is_empty()).count(),
                p.ranges.len(),
                p.lost.len()
            ));
        }
    } else if n > 1 {
        let why = if opts.merge == Some(MergeMode::Keys) {
            "as asked (--merge keys)".to_string()
        } else {
            format!("no region metadata in {}", without.join(", "))
        };
        rep.notes.push(format!(
            "stores merged key by key ({why}): per key the newest commit in any store; rows \
             deleted and garbage-collected on one store can come back from another"
        ));
    }
    rep.schema_problems = catalog
        .problems
        .iter()
        .map(|(k, f, m)| format!("{k} {f}: {m}"))
        .collect();
    for (id, (d, dropped)) in &catalog.databases {
        rep.databases.push(DbOutcome {
            id: *id,
            system: is_system_db(&d.db_name.original),
            name: d.db_name.original.clone(),
            dropped: *dropped,
            tables: catalog
                .tables
                .values()
                .filter(|t| t.db_id == *id && t.status == TableStatus::Live)
                .count(),
        });
    }
    let skipped: Vec<&str> = rep
        .databases
        .iter()
        .filter(|d| d.system && d.tables > 0 && opts.db.is_none() && !opts.include_system)
        .map(|d| d.name.as_str())
        .collect();
    if !skipped.is_empty() {
        rep.notes.push(format!(
            "system database(s) {} not exported, as Dumpling does (loading TiDB's system tables into \
             MySQL would overwrite its own); --include-system or --db exports them",
            skipped.join(", ")
        ));
    }
    for s in &rep.stores {
        if s.write_keys == 0 {
            rep.notes.push(format!(
                "{}: no write-CF records: not a TiKV kv database, or its write column family is lost",
                s.path
            ));
        }
    }
    if !rep.rows_without_schema.is_empty() {
        rep.notes.push(
            "rows_without_schema: record keys of physical table ids no TableInfo names (the table's \
             meta keys are lost, or it was dropped long enough ago for its schema to be gone); they \
             are not exported"
                .into(),
        );
    }
    if !rep.pending_locks.is_empty() {
        primary_status(&*again, &mut rep.pending_locks)?;
        let committed = rep
            .pending_locks
            .iter()
            .filter(|l| l.primary_status.as_deref() == Some("committed"))
            .count();
        if committed > 0 {
            rep.notes.push(format!(
                "{committed} pending lock(s) belong to transactions whose primary key committed: the \
                 locked rows' newer values are not in the export (see pending_locks)"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(tmp);
    Ok((rep, stores))
}

fn push_problem(o: &mut TableOutcome, msg: &str) {
    if o.problems.len() < 100 {
        o.problems.push(msg.to_string());
    }
}

fn add_locks(rep: &mut TidbExportReport, locks: Vec<PendingLock>) {
    for l in locks {
        rep.pending_lock_count += 1;
        if rep.pending_locks.len() < 10_000 {
            rep.pending_locks.push(l);
        }
    }
}

/// Keys per batch handed from the merge thread to the decoders.
const BATCH: usize = 4096;

/// What the parallel decoders share.
struct Ctx<'a> {
    catalog: &'a Catalog,
    by_physical: &'a BTreeMap<i64, usize>,
    /// Per target: its table and exported columns, and the JSON keys of those columns.
    /// (None only if a target's table left the catalog, which cannot happen.)
    targets: Vec<Option<TargetView<'a>>>,
    read_ts: u64,
    format: TidbFormat,
    /// Rows are written (not only counted, as for the listings).
    render: bool,
}

/// A target's table, its exported columns, and their JSON keys.
type TargetView<'a> = (&'a CatalogTable, Vec<&'a ColumnInfo>, &'a [Vec<u8>]);

/// What one key became.
enum Outcome {
    Undecodable,
    Index,
    Other,
    /// A record of a physical table no schema names.
    NoSchema(i64),
    /// A record of a table not exported (filtered out, or dropped).
    Unwanted,
    Row {
        ti: usize,
        pid: i64,
        line: Vec<u8>,
        suspect: bool,
        unverified: bool,
        locked: bool,
        cell_errors: u64,
    },
    Deleted {
        ti: usize,
        pid: i64,
    },
    Absent {
        ti: usize,
        pid: i64,
    },
    Lost {
        ti: usize,
        pid: i64,
    },
    RowError {
        ti: usize,
        pid: i64,
    },
}

struct Processed {
    outcome: Outcome,
    locks: Vec<PendingLock>,
    /// Messages for the table's problem list (`handle: message`).
    problems: Vec<String>,
}

/// Resolve, decode and render one key (runs in parallel).
fn process(g: &KeyGroup, ctx: &Ctx<'_>) -> Processed {
    let mut p = Processed {
        outcome: Outcome::Other,
        locks: Vec::new(),
        problems: Vec::new(),
    };
    if g.bad_key {
        p.outcome = Outcome::Undecodable;
        return p;
    }
    if !g.locks.is_empty() {
        p.locks = pending_locks(g, ctx.read_ts, ctx.catalog);
    }
    let Some((pid, handle)) = record_key(&g.raw) else {
        if g.raw.len() > 10 && g.raw[0] == b't' && &g.raw[9..11] == b"_i" {
            p.outcome = Outcome::Index;
        }
        return p;
    };
    let Some(&ti) = ctx.by_physical.get(&pid) else {
        p.outcome = if ctx.catalog.physical.contains_key(&pid) {
            Outcome::Unwanted
        } else {
            Outcome::NoSchema(pid)
        };
        return p;
    };
    let Some((ct, cols, json_keys)) = ctx.targets.get(ti).and_then(Option::as_ref) else {
        p.outcome = Outcome::Unwanted;
        return p;
    };
    // The row's name in problem messages, made only when there is one.
    let h = || handle_text(&g.raw).unwrap_or_else(|| hex::encode(&g.raw));
    let mut rp = ResolveProblems::default();
    let state = resolve(g, ctx.read_ts, &mut rp);
    for (ts, msg) in rp.bad_writes {
        p.problems
            .push(format!("{}: write record at ts {ts}: {msg}", h()));
    }
    let value = match state {
        KeyState::Value { value, .. } => value,
        KeyState::Deleted { .. } => {
            p.outcome = Outcome::Deleted { ti, pid };
            return p;
        }
        KeyState::ValueLost { start_ts, .. } => {
            p.problems.push(format!(
                "{}: committed value (start_ts {start_ts}) is in no store's default CF",
                h()
            ));
            p.outcome = Outcome::Lost { ti, pid };
            return p;
        }
        KeyState::Absent => {
            p.outcome = Outcome::Absent { ti, pid };
            return p;
        }
    };
    let handle = match handle {
        RowHandle::Int(_) if ct.info.is_common_handle => RowHandle::Common(&g.raw[11..]),
        h => h,
    };
    p.outcome = match decode_row(&ct.info, cols, &handle, &value) {
        Ok((vals, errs)) => {
            let cell_errors = errs.len() as u64;
            for (c, e) in errs {
                p.problems.push(format!("{}: column {c}: {e}", h()));
            }
            Outcome::Row {
                ti,
                pid,
                line: if ctx.render {
                    render_row(ctx.format, json_keys, &vals)
                } else {
                    Vec::new()
                },
                suspect: g.suspect,
                unverified: g.unverified,
                locked: !p.locks.is_empty(),
                cell_errors,
            }
        }
        Err(e) => {
            p.problems.push(format!("{}: {e}", h()));
            Outcome::RowError { ti, pid }
        }
    };
    p
}

/// The schema is complete: build the catalog, write the schema files and open a writer per table.
fn plan(
    b: CatalogBuilder,
    opts: &TidbExportOptions,
    out: Option<&Path>,
    schema_opts: &SchemaOptions,
    rep: &mut TidbExportReport,
) -> io::Result<(Catalog, Vec<Target>, BTreeMap<i64, usize>)> {
    let catalog = b.build();
    let mut targets = Vec::new();
    let mut by_physical = BTreeMap::new();
    plan_targets(
        &catalog,
        opts,
        out,
        schema_opts,
        rep,
        &mut targets,
        &mut by_physical,
    )?;
    Ok((catalog, targets, by_physical))
}

#[allow(clippy::too_many_arguments)]
fn plan_targets(
    catalog: &Catalog,
    opts: &TidbExportOptions,
    out: Option<&Path>,
    schema_opts: &SchemaOptions,
    rep: &mut TidbExportReport,
    targets: &mut Vec<Target>,
    by_physical: &mut BTreeMap<i64, usize>,
) -> io::Result<()> {
    let mut db_schema_written = std::collections::BTreeSet::new();
    for (id, t) in &catalog.tables {
        if !wanted(t, opts) {
            continue;
        }
        let live = t.status == TableStatus::Live;
        let cols = export_columns(&t.info);
        let mut o = TableOutcome {
            db: t.db_name.clone(),
            table: t.info.name.original.clone(),
            id: *id,
            partitions: match &t.info.partition {
                Some(p) => p.definitions.iter().map(|d| d.id).collect(),
                None => Vec::new(),
            },
            status: format!("{:?}", t.status).to_lowercase(),
            schema_ts: t.schema_ts,
            schema_versions: t.schema_versions,
            columns: cols.len(),
            ..TableOutcome::default()
        };
        let mut writer = None;
        if let Some(out) = out {
            let (dir, rel, base) = if live {
                (
                    out.to_path_buf(),
                    String::new(),
                    format!(
                        "{}.{}",
                        file_name_part(&t.db_name),
                        file_name_part(&t.info.name.original)
                    ),
                )
            } else {
                (
                    out.join("dropped"),
                    "dropped/".to_string(),
                    format!(
                        "{}.{}@{}",
                        file_name_part(&t.db_name),
                        file_name_part(&t.info.name.original),
                        id
                    ),
                )
            };
            std::fs::create_dir_all(&dir)?;
            if db_schema_written.insert((t.db_id, live)) {
                if let Some((d, _)) = catalog.databases.get(&t.db_id) {
                    std::fs::write(
                        dir.join(format!("{}-schema-create.sql", file_name_part(&t.db_name))),
                        create_database_sql_with(d, schema_opts),
                    )?;
                }
            }
            let schema_name = format!("{base}-schema.sql");
            std::fs::write(
                dir.join(&schema_name),
                create_table_sql_with(&t.info, schema_opts),
            )?;
            o.schema_file = Some(format!("{rel}{schema_name}"));
            writer = Some(TableWriter {
                dir,
                base,
                format: opts.format,
                columns: cols.iter().map(|c| c.name.original.clone()).collect(),
                table_sql_name: quote_ident(&t.info.name.original),
                file_size: opts.file_size,
                insert_rows: opts.insert_rows.max(1),
                chunk: 0,
                w: None,
                written: 0,
                in_insert: 0,
                files: Vec::new(),
                rel,
            });
        }
        let phys = t.info.physical_ids();
        let idx = targets.len();
        for p in &phys {
            by_physical.insert(*p, idx);
        }
        rep.tables.push(o);
        targets.push(Target {
            table_id: *id,
            outcome: rep.tables.len() - 1,
            json_keys: cols
                .iter()
                .map(|c| {
                    let mut k = Vec::new();
                    json_string(&mut k, c.name.original.as_bytes());
                    k.push(b':');
                    k
                })
                .collect(),
            writer,
            last_physical: phys.iter().copied().max().unwrap_or(*id),
        });
    }
    // A table with no rows still gets its (empty) data file, so loaders see every table.
    for t in targets.iter_mut() {
        if let Some(w) = &mut t.writer {
            if w.w.is_none() {
                w.open_chunk()?;
            }
        }
    }
    Ok(())
}

fn pending_locks(g: &KeyGroup, read_ts: u64, catalog: &Catalog) -> Vec<PendingLock> {
    let mut out = Vec::new();
    for l in &g.locks {
        let Ok(lock) = parse_lock(&l.value) else {
            continue;
        };
        if lock.start_ts > read_ts {
            continue;
        }
        // A commit or rollback of the same transaction means the lock is a leftover.
        let resolved = g.writes.iter().any(|w| {
            parse_write(&w.value)
                .map(|x| x.start_ts == lock.start_ts)
                .unwrap_or(false)
        });
        if resolved {
            continue;
        }
        let table = record_key(&g.raw).and_then(|(pid, _)| {
            let (tid, _) = catalog.physical.get(&pid)?;
            let t = catalog.tables.get(tid)?;
            Some(format!("{}.{}", t.db_name, t.info.name.original))
        });
        let value = match lock.kind {
            LockType::Put => {
                if lock.short_value.is_some() {
                    "short_value"
                } else if g.defaults.iter().any(|d| d.start_ts == lock.start_ts) {
                    "default_cf"
                } else {
                    "missing"
                }
            }
            _ => "none",
        };
        out.push(PendingLock {
            key: hex::encode(&g.raw),
            table,
            handle: handle_text(&g.raw),
            lock_type: format!("{:?}", lock.kind).to_lowercase(),
            start_ts: lock.start_ts,
            primary: hex::encode(&lock.primary),
            store: l.store,
            value: value.into(),
            primary_status: None,
            commit_ts: None,
        });
    }
    out
}

/// Find each pending lock's transaction on its primary key: a second pass over the merged stores
/// (locks are few; only the primaries' write records are looked at).
fn primary_status(
    again: &dyn Fn(&[Vec<u8>]) -> io::Result<MergedStores>,
    locks: &mut [PendingLock],
) -> io::Result<()> {
    let mut wanted: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
    for (i, l) in locks.iter().enumerate() {
        if let Ok(p) = hex::decode(&l.primary) {
            wanted.entry(p).or_default().push(i);
        }
    }
    let keys: Vec<Vec<u8>> = wanted.keys().cloned().collect();
    let mut merged = again(&keys)?;
    while let Some(g) = merged.next_group()? {
        let Some(idx) = wanted.get(&g.raw) else {
            continue;
        };
        for &i in idx {
            let start = locks[i].start_ts;
            let found = g.writes.iter().find_map(|w| {
                let r = parse_write(&w.value).ok()?;
                (r.start_ts == start).then_some((w.ts, r))
            });
            // A rollback of this transaction may live as a flag on another one's commit record
            // at the same ts (overlapped rollback).
            let overlapped = g.writes.iter().any(|w| {
                w.ts == start && parse_write(&w.value).is_ok_and(|r| r.has_overlapped_rollback)
            });
            let (status, ts) = match found {
                Some((_, r)) if r.kind == WriteType::Rollback => ("rolled_back", None),
                _ if overlapped => ("rolled_back", None),
                Some((ts, _)) => ("committed", Some(ts)),
                None if g
                    .locks
                    .iter()
                    .any(|l| parse_lock(&l.value).is_ok_and(|x| x.start_ts == start)) =>
                {
                    ("locked", None)
                }
                None => ("unknown", None),
            };
            locks[i].primary_status = Some(status.into());
            locks[i].commit_ts = ts;
        }
    }
    for l in locks.iter_mut().filter(|l| l.primary_status.is_none()) {
        l.primary_status = Some("unknown".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tikv::mvcc::data_key;

    fn uvarint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn spool(path: &Path, recs: &[(Vec<u8>, Vec<u8>)]) {
        let mut f = File::create(path).unwrap();
        for (k, v) in recs {
            f.write_all(&(k.len() as u32).to_le_bytes()).unwrap();
            f.write_all(k).unwrap();
            f.write_all(&(v.len() as u32).to_le_bytes()).unwrap();
            f.write_all(v).unwrap();
            f.write_all(&[0]).unwrap();
        }
    }

    fn write_rec(kind: u8, start: u64) -> Vec<u8> {
        let mut v = vec![kind];
        uvarint(&mut v, start);
        v
    }

    fn lock_rec(primary: &[u8], start: u64) -> Vec<u8> {
        let mut v = vec![b'P'];
        uvarint(&mut v, 2 * primary.len() as u64); // compact bytes: zigzag varint length
        v.extend_from_slice(primary);
        uvarint(&mut v, start);
        uvarint(&mut v, 3000);
        v
    }

    fn pending(key: &[u8], primary: &[u8], start: u64) -> PendingLock {
        PendingLock {
            key: hex::encode(key),
            table: None,
            handle: None,
            lock_type: "put".into(),
            start_ts: start,
            primary: hex::encode(primary),
            store: 0,
            value: "short_value".into(),
            primary_status: None,
            commit_ts: None,
        }
    }

    /// Each transaction's fate is read off its primary: committed, rolled back (a record, or an
    /// overlapped-rollback flag on another transaction's commit at the same ts), still locked, or
    /// nothing at all.
    #[test]
    fn pending_locks_resolved_through_their_primary() {
        let d = tempfile::tempdir().unwrap();
        let s = d.path().join("store-0");
        std::fs::create_dir_all(&s).unwrap();
        let (p1, p2, p3, p4, p5) = (b"p1", b"p2", b"p3", b"p4", b"p5");
        let mut overlapped = write_rec(b'P', 35);
        overlapped.push(b'R');
        spool(
            &s.join("write.run"),
            &[
                (data_key(p1, Some(12)), write_rec(b'P', 10)),
                (data_key(p2, Some(20)), write_rec(b'R', 20)),
                (data_key(p4, Some(40)), overlapped),
            ],
        );
        spool(
            &s.join("lock.run"),
            &[(data_key(p3, None), lock_rec(p3, 30))],
        );
        let mut locks = vec![
            pending(b"s1", p1, 10),
            pending(b"s2", p2, 20),
            pending(b"s3", p3, 30),
            pending(b"s4", p4, 40),
            pending(b"s5", p5, 50),
        ];
        let spools = d.path().to_path_buf();
        primary_status(&move |_| MergedStores::open(&spools, 1), &mut locks).unwrap();
        let got: Vec<(&str, Option<u64>)> = locks
            .iter()
            .map(|l| (l.primary_status.as_deref().unwrap(), l.commit_ts))
            .collect();
        assert_eq!(
            got,
            vec![
                ("committed", Some(12)),
                ("rolled_back", None),
                ("locked", None),
                ("rolled_back", None),
                ("unknown", None)
            ]
        );
    }
}
