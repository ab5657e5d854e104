//! The expected tables of corpus/tikv (written by oracle/src/bin/gen-tikv.rs from its own inputs):
//! `corpus/tikv/expected/<scenario>/<db>.<table>.json`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/tikv")
}

pub fn stores(names: &[&str]) -> Vec<PathBuf> {
    names.iter().map(|n| corpus().join(n)).collect()
}

/// A cell: None = NULL, else the bytes the MySQL client prints.
pub type Cell = Option<Vec<u8>>;

#[derive(Debug, PartialEq)]
pub struct Table {
    pub db: String,
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// Expected tables of a scenario (`merged`, `store1`, ...), keyed `db.table`.
pub fn expected_dir(scenario: &str) -> BTreeMap<String, Table> {
    expected_dir_at(&corpus(), scenario)
}

/// Expected tables of a scenario of another fixture set (`corpus/tikv-regions`, ...).
pub fn expected_dir_at(root: &Path, scenario: &str) -> BTreeMap<String, Table> {
    let dir = root.join("expected").join(scenario);
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        // Other expectation files (backup.json, damage.json, ...) sit beside the tables.
        if v.get("db").is_none() || v.get("rows").is_none() {
            continue;
        }
        let (db, table) = (
            v["db"].as_str().unwrap().to_string(),
            v["table"].as_str().unwrap().to_string(),
        );
        let columns = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        let rows = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(expected_cell).collect())
            .collect();
        out.insert(
            format!("{db}.{table}"),
            Table {
                db,
                table,
                columns,
                rows,
            },
        );
    }
    out
}

fn expected_cell(c: &serde_json::Value) -> Cell {
    match c {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.as_bytes().to_vec()),
        serde_json::Value::Object(o) => Some(hex::decode(o["hex"].as_str().unwrap()).unwrap()),
        other => Some(other.to_string().into_bytes()),
    }
}

pub fn show(c: &Cell) -> String {
    match c {
        None => "NULL".into(),
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => format!("{s:?}"),
            Err(_) => format!("0x{}", hex::encode(b)),
        },
    }
}
