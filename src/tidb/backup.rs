//! TiDB's schema as a BR backup records it: the databases and tables of the backupmeta's `Schema`
//! entries (format-specs/br.md §2.4), with the checksums BR stored for each table.

use serde::Serialize;

use super::schema::{DbInfo, TableInfo};
use crate::br::meta::Backup;

/// A database in a backup.
#[derive(Clone, Debug, Serialize)]
pub struct BackupDatabase {
    pub id: i64,
    pub name: String,
    pub charset: String,
    pub collate: String,
    pub tables: usize,
    #[serde(skip)]
    pub info: DbInfo,
}

/// A table in a backup, with what BR recorded of its data.
#[derive(Clone, Debug, Serialize)]
pub struct BackupTable {
    pub db: String,
    pub table: String,
    pub id: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<i64>,
    pub columns: usize,
    pub indexes: usize,
    /// A view or a sequence: schema only, no rows.
    pub no_rows: bool,
    /// BR's checksum of the table's key-value pairs (0 when BR skipped it) and their count and
    /// size (br.md §5).
    pub crc64xor: u64,
    pub total_kvs: u64,
    pub total_bytes: u64,
    #[serde(skip)]
    pub info: TableInfo,
}

/// Everything a backup says about TiDB's schema.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BackupCatalog {
    pub databases: Vec<BackupDatabase>,
    pub tables: Vec<BackupTable>,
    /// Schema entries whose JSON does not parse.
    pub problems: Vec<String>,
}

/// Databases (in id order) and tables (by database and table name) of a backup.
pub fn catalog(b: &Backup) -> BackupCatalog {
    let mut c = BackupCatalog::default();
    let mut dbs: std::collections::BTreeMap<i64, BackupDatabase> = Default::default();
    for (i, s) in b.schemas.iter().enumerate() {
        let db = match DbInfo::parse(&s.db) {
            Ok(d) => d,
            Err(e) => {
                c.problems.push(format!(
                    "schema entry {i}: database JSON does not parse: {e}"
                ));
                continue;
            }
        };
        let entry = dbs.entry(db.id).or_insert_with(|| BackupDatabase {
            id: db.id,
            name: db.db_name.original.clone(),
            charset: db.charset.clone(),
            collate: db.collate.clone(),
            tables: 0,
            info: db.clone(),
        });
        if s.table.is_empty() {
            continue;
        }
        let t = match TableInfo::parse(&s.table) {
            Ok(t) => t,
            Err(e) => {
                c.problems.push(format!(
                    "schema entry {i} (database {}): table JSON does not parse: {e}",
                    db.db_name.original
                ));
                continue;
            }
        };
        entry.tables += 1;
        c.tables.push(BackupTable {
            db: db.db_name.original.clone(),
            table: t.name.original.clone(),
            id: t.id,
            partitions: t
                .partition
                .as_ref()
                .map(|p| p.definitions.iter().map(|d| d.id).collect())
                .unwrap_or_default(),
            columns: t.cols.len(),
            indexes: t.index_info.as_ref().map_or(0, Vec::len),
            no_rows: t.view.is_some() || t.sequence.is_some(),
            crc64xor: s.crc64xor,
            total_kvs: s.total_kvs,
            total_bytes: s.total_bytes,
            info: t,
        });
    }
    c.databases = dbs.into_values().collect();
    c.tables
        .sort_by(|a, b| (&a.db, &a.table, a.id).cmp(&(&b.db, &b.table, b.id)));
    c
}

/// A table's checksum as BR recorded it in its `Schema`, against the XOR and sums of the recorded
/// values of the data files holding the table's keys (br.md §6.3): a backupmeta whose file and
/// table records disagree was altered or damaged, or lost files.
#[derive(Clone, Debug, Serialize)]
pub struct TableChecksum {
    pub db: String,
    pub table: String,
    pub id: i64,
    /// Data files whose range starts inside the table (its record or index ranges, or those of a
    /// partition).
    pub files: usize,
    pub files_crc64xor: u64,
    pub files_kvs: u64,
    pub files_bytes: u64,
    pub recorded_crc64xor: u64,
    pub recorded_kvs: u64,
    pub recorded_bytes: u64,
    /// `None` when BR recorded no checksum for the table (all three zero: skipped or disabled).
    pub matches: Option<bool>,
    /// The same XOR and sums recomputed from the files' entries (when the audit recomputed every
    /// file of the table), and whether they equal what BR recorded for the table: the check that
    /// the data, not only the metadata, adds up to `ADMIN CHECKSUM TABLE` at backup time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recomputed: Option<Recomputed>,
    /// The table's data files the audit could not read whole (damaged blocks, missing or
    /// unreadable; names): the table's data cannot be recomputed while any is listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bad_files: Vec<String>,
}

/// A table's checksum recomputed from its files.
#[derive(Clone, Debug, Serialize)]
pub struct Recomputed {
    pub crc64xor: u64,
    pub kvs: u64,
    pub bytes: u64,
    /// `None` when BR recorded no checksum for the table.
    pub matches: Option<bool>,
}

/// Every table's recorded checksum against its files (tables of no rows, views and sequences
/// left out), and how many data files lie in no table of the schema.
/// With `check` (the audit of the same backup, files in the same order), the recomputed values
/// are compared too.
pub fn table_checksums(
    b: &Backup,
    cat: &BackupCatalog,
    check: Option<&crate::br::verify::BackupCheck>,
) -> (Vec<TableChecksum>, usize) {
    // Per table: (xor, kvs, bytes, every file recomputed).
    let mut rec: Vec<(u64, u64, u64, bool)> = Vec::new();
    let mut by_id: std::collections::HashMap<i64, usize> = Default::default();
    let mut out: Vec<TableChecksum> = Vec::new();
    for t in cat.tables.iter().filter(|t| !t.no_rows) {
        let i = out.len();
        by_id.insert(t.id, i);
        for p in &t.partitions {
            by_id.insert(*p, i);
        }
        out.push(TableChecksum {
            db: t.db.clone(),
            table: t.table.clone(),
            id: t.id,
            files: 0,
            files_crc64xor: 0,
            files_kvs: 0,
            files_bytes: 0,
            recorded_crc64xor: t.crc64xor,
            recorded_kvs: t.total_kvs,
            recorded_bytes: t.total_bytes,
            matches: None,
            recomputed: None,
            bad_files: Vec::new(),
        });
        rec.push((0, 0, 0, check.is_some()));
    }
    let mut outside = 0;
    for (fi, f) in b.files.iter().enumerate() {
        // A file's start key is a raw TiDB key: `t` + the table id (br.md §5.3).
        let id = match f.start_key.first() {
            Some(b't') if f.start_key.len() >= 9 => super::key::decode_cmp_i64(&f.start_key[1..9]),
            _ => None,
        };
        match id.and_then(|id| by_id.get(&id)) {
            Some(&i) => {
                let t = &mut out[i];
                t.files += 1;
                t.files_crc64xor ^= f.crc64xor;
                t.files_kvs += f.total_kvs;
                t.files_bytes += f.total_bytes;
                // A file whose entries were not all read (damaged, missing, unreadable); one that
                // only disagrees with the backupmeta still recomputes exactly.
                if let Some(c) = check.and_then(|c| c.files.get(fi)) {
                    if c.table.as_ref().is_none_or(|t| !t.file.status.is_clean()) {
                        t.bad_files.push(c.name.clone());
                    }
                }
                let r = &mut rec[i];
                match check.and_then(|c| c.files.get(fi)) {
                    Some(c) if c.kvs_compared => {
                        r.0 ^= c.crc64xor.unwrap_or(0);
                        r.1 += c.kvs;
                        r.2 += c.bytes;
                        // A file whose entries were not all read recomputes nothing exact.
                        r.3 &= c.table.as_ref().is_some_and(|t| t.file.status.is_clean())
                            && (c.crc64xor.is_some() || f.crc64xor == 0);
                    }
                    _ => r.3 = false,
                }
            }
            None => outside += 1,
        }
    }
    for (t, r) in out.iter_mut().zip(&rec) {
        let recorded = t.recorded_crc64xor != 0 || t.recorded_kvs != 0 || t.recorded_bytes != 0;
        if recorded {
            t.matches = Some(
                t.files_crc64xor == t.recorded_crc64xor
                    && t.files_kvs == t.recorded_kvs
                    && t.files_bytes == t.recorded_bytes,
            );
        }
        if r.3 {
            t.recomputed = Some(Recomputed {
                crc64xor: r.0,
                kvs: r.1,
                bytes: r.2,
                matches: recorded.then_some(
                    r.0 == t.recorded_crc64xor && r.1 == t.recorded_kvs && r.2 == t.recorded_bytes,
                ),
            });
        }
    }
    (out, outside)
}

/// Where a data file's keys lie in TiDB's key space (br.md §5.3), for naming what a damaged or
/// missing file held.
#[derive(Clone, Debug, Serialize)]
pub struct FileKeys {
    /// `db.table` of the table or partition its start key falls in; `None` outside every table of
    /// the schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The physical id (a partition's, for a partitioned table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_id: Option<i64>,
    /// The file's key range in words (`table 101 row 5`, ...), end exclusive.
    pub from: String,
    pub to: String,
    /// Per damaged region of the file (in the order of its damage report): the keys lost there,
    /// in words, when the report bounds them.
    pub lost: Vec<Option<String>>,
}

/// A raw key in words, `end` for the open end.
fn words(raw: &[u8], end: bool) -> String {
    if raw.is_empty() {
        if end {
            "end of the key space".into()
        } else {
            "start of the key space".into()
        }
    } else {
        super::key::describe_bound(raw)
    }
}

/// A data key of a backup SST (`z` + mc(key) + ts, hex) in words.
fn data_key_words(h: &str) -> String {
    let Ok(k) = hex::decode(h) else {
        return h.to_string();
    };
    let enc = k.strip_prefix(b"z").unwrap_or(&k);
    words(&crate::tikv::codec::decode_bytes_lenient(enc).0, false)
}

/// For every data file of `b` (in `b.files` order; `check` the audit of the same backup, when the
/// lost key ranges of damaged files should be named): the table and keys it holds.
pub fn file_keys(
    b: &Backup,
    cat: &BackupCatalog,
    check: Option<&crate::br::verify::BackupCheck>,
) -> Vec<FileKeys> {
    let mut by_id: std::collections::HashMap<i64, String> = Default::default();
    for t in &cat.tables {
        by_id.insert(t.id, format!("{}.{}", t.db, t.table));
        for p in &t.partitions {
            by_id.insert(*p, format!("{}.{} (partition {p})", t.db, t.table));
        }
    }
    b.files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let id = match f.start_key.first() {
                Some(b't') if f.start_key.len() >= 9 => {
                    super::key::decode_cmp_i64(&f.start_key[1..9])
                }
                _ => None,
            };
            let lost = check
                .and_then(|c| c.files.get(i))
                .and_then(|c| c.table.as_ref())
                .map(|t| {
                    t.damaged
                        .iter()
                        .map(|d| {
                            d.lost_keys.as_ref().map(|l| {
                                format!(
                                    "{} .. {}",
                                    l.from.as_deref().map_or("?".into(), data_key_words),
                                    l.to.as_deref().map_or("?".into(), data_key_words)
                                )
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            FileKeys {
                table: id.and_then(|id| by_id.get(&id).cloned()),
                physical_id: id,
                from: words(&f.start_key, false),
                to: words(&f.end_key, true),
                lost,
            }
        })
        .collect()
}
