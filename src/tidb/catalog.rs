//! The schema at a read timestamp, rebuilt from TiDB's meta keys (format-specs/tidb.md §2-§3):
//! databases from the `DBs` hash, tables from each `DB:{id}` hash, every version of each kept so
//! that the one visible at the read ts is chosen, dropped tables can be listed with their last
//! schema, and a truncated table (a dropped id whose name lives on under a new id) is told apart.

use std::collections::BTreeMap;

use serde::Serialize;

use super::key::{self, MetaKind, TidbKey};
use super::schema::{DbInfo, TableInfo, STATE_PUBLIC};
use crate::tikv::store::{resolve, KeyGroup, KeyState, ResolveProblems};

/// How a table stands at the read ts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableStatus {
    Live,
    /// Its meta entry was deleted (DROP TABLE); rows may remain until GC.
    Dropped,
    /// Dropped, and a live table of the same database has its name (TRUNCATE TABLE, or re-created).
    Truncated,
}

/// One table of the catalog.
#[derive(Clone, Debug)]
pub struct CatalogTable {
    pub db_id: i64,
    pub db_name: String,
    pub info: TableInfo,
    pub status: TableStatus,
    /// Commit ts of the schema version used.
    pub schema_ts: u64,
    /// How many schema versions the stores hold for this table.
    pub schema_versions: usize,
}

impl CatalogTable {
    pub fn name(&self) -> &str {
        &self.info.name.original
    }
}

/// The databases and tables at the read ts.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Database id -> (info, dropped).
    pub databases: BTreeMap<i64, (DbInfo, bool)>,
    /// Table id -> table (live and dropped; views and sequences excluded).
    pub tables: BTreeMap<i64, CatalogTable>,
    /// Physical id (the table's own, or a partition's) -> (table id, partition index).
    pub physical: BTreeMap<i64, (i64, Option<usize>)>,
    /// Meta entries that could not be read: (meta key, field, why).
    pub problems: Vec<(String, String, String)>,
}

/// Collects meta keys, then builds the [`Catalog`].
#[derive(Default)]
pub struct CatalogBuilder {
    read_ts: u64,
    dbs: BTreeMap<i64, KeyState>,
    tables: BTreeMap<i64, (i64, KeyState, usize)>,
    problems: Vec<(String, String, String)>,
}

/// The schema JSON a meta field holds at the read ts, the commit ts of that version and whether
/// the field was deleted since (then the JSON is its last value); or that the value is in no
/// store's default CF; or that the field holds nothing.
fn schema_json(st: &KeyState) -> SchemaJson<'_> {
    match st {
        KeyState::Value { value, commit_ts } => SchemaJson::Found(value, *commit_ts, false),
        KeyState::Deleted {
            last_value: Some((ts, v)),
            ..
        } => SchemaJson::Found(v, *ts, true),
        KeyState::ValueLost { .. } => SchemaJson::Lost,
        _ => SchemaJson::Nothing,
    }
}

/// What [`schema_json`] found: (JSON, commit ts, dropped), a lost value, or nothing.
enum SchemaJson<'a> {
    Found(&'a [u8], u64, bool),
    Lost,
    Nothing,
}

fn id_after(s: &str, prefix: &str) -> Option<i64> {
    s.strip_prefix(prefix)?.parse().ok()
}

impl CatalogBuilder {
    pub fn new(read_ts: u64) -> CatalogBuilder {
        CatalogBuilder {
            read_ts,
            ..CatalogBuilder::default()
        }
    }

    /// A database's schema JSON as of commit ts `ts`, given directly (a BR backup's `Schema`).
    pub fn add_db_json(&mut self, id: i64, json: Vec<u8>, ts: u64) {
        self.dbs.insert(
            id,
            KeyState::Value {
                commit_ts: ts,
                value: json,
            },
        );
    }

    /// A table's schema JSON as of commit ts `ts`, given directly.
    pub fn add_table_json(&mut self, db_id: i64, table_id: i64, json: Vec<u8>, ts: u64) {
        self.tables.insert(
            table_id,
            (
                db_id,
                KeyState::Value {
                    commit_ts: ts,
                    value: json,
                },
                1,
            ),
        );
    }

    /// Take one key group; returns false when it is not a meta key the catalog needs.
    pub fn add(&mut self, g: &KeyGroup) -> bool {
        let TidbKey::Meta {
            key,
            meta: MetaKind::Hash { field },
        } = key::parse(&g.raw)
        else {
            return false;
        };
        let mut p = ResolveProblems::default();
        let st = resolve(g, self.read_ts, &mut p);
        for (ts, msg) in p.bad_writes {
            self.problems.push((
                key.clone(),
                field.clone(),
                format!("write record at ts {ts}: {msg}"),
            ));
        }
        let puts = g.writes.len();
        if key == "DBs" {
            if let Some(id) = id_after(&field, "DB:") {
                self.dbs.insert(id, st);
                return true;
            }
        } else if let (Some(db), Some(t)) = (id_after(&key, "DB:"), id_after(&field, "Table:")) {
            self.tables.insert(t, (db, st, puts));
            return true;
        }
        false
    }

    pub fn build(self) -> Catalog {
        let mut c = Catalog {
            problems: self.problems,
            ..Catalog::default()
        };
        for (id, st) in self.dbs {
            let (json, _, dropped) = match schema_json(&st) {
                SchemaJson::Found(j, ts, d) => (j, ts, d),
                SchemaJson::Lost => {
                    c.problems.push((
                        "DBs".into(),
                        format!("DB:{id}"),
                        "the DBInfo value is in no store's default CF".into(),
                    ));
                    continue;
                }
                SchemaJson::Nothing => continue,
            };
            match DbInfo::parse(json) {
                Ok(d) => {
                    c.databases.insert(id, (d, dropped));
                }
                Err(e) => c.problems.push((
                    "DBs".into(),
                    format!("DB:{id}"),
                    format!("DBInfo JSON: {e}"),
                )),
            }
        }
        for (id, (db, st, versions)) in self.tables {
            let (json, ts, dropped) = match schema_json(&st) {
                SchemaJson::Found(j, ts, d) => (j, ts, d),
                SchemaJson::Lost => {
                    c.problems.push((
                        format!("DB:{db}"),
                        format!("Table:{id}"),
                        "the TableInfo value is in no store's default CF".into(),
                    ));
                    continue;
                }
                SchemaJson::Nothing => continue,
            };
            let info = match TableInfo::parse(json) {
                Ok(t) => t,
                Err(e) => {
                    c.problems.push((
                        format!("DB:{db}"),
                        format!("Table:{id}"),
                        format!("TableInfo JSON: {e}"),
                    ));
                    continue;
                }
            };
            if info.view.is_some() || info.sequence.is_some() {
                continue;
            }
            let (db_name, db_dropped) = c
                .databases
                .get(&db)
                .map(|(d, dr)| (d.db_name.original.clone(), *dr))
                .unwrap_or_else(|| (format!("db_{db}"), false));
            let status = if dropped || db_dropped || info.state != STATE_PUBLIC {
                TableStatus::Dropped
            } else {
                TableStatus::Live
            };
            c.tables.insert(
                id,
                CatalogTable {
                    db_id: db,
                    db_name,
                    info,
                    status,
                    schema_ts: ts,
                    schema_versions: versions,
                },
            );
        }
        // A dropped table whose name a live table of the same database carries was truncated (or
        // dropped and re-created).
        let live: Vec<(i64, String)> = c
            .tables
            .values()
            .filter(|t| t.status == TableStatus::Live)
            .map(|t| (t.db_id, t.info.name.lower.clone()))
            .collect();
        for t in c.tables.values_mut() {
            if t.status == TableStatus::Dropped
                && live
                    .iter()
                    .any(|(d, n)| *d == t.db_id && *n == t.info.name.lower)
            {
                t.status = TableStatus::Truncated;
            }
        }
        for (id, t) in &c.tables {
            match &t.info.partition {
                Some(p) if !p.definitions.is_empty() => {
                    for (i, d) in p.definitions.iter().enumerate() {
                        c.physical.insert(d.id, (*id, Some(i)));
                    }
                }
                _ => {
                    c.physical.insert(*id, (*id, None));
                }
            }
        }
        c
    }
}
