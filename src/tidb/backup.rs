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
