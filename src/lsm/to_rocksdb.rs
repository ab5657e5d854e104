//! `salvage --to-rocksdb NEWDB`: write a salvaged state into a fresh database through RocksDB itself
//! (the rocksdb crate), so RocksDB and `ldb` open it. Only with the `to-rocksdb` cargo feature.
//!
//! Every salvaged key is written as a put, suspect keys included (they are the best knowledge there
//! is; the damage report lists them). Counted and not written: merge operands that stayed
//! unresolved (the base value, if any, is written), wide-column entities (the crate has no entity
//! API) and blob indexes whose blob could not be read.

use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use super::salvage::DbSalvageReport;

/// What was written per column family.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ToRocksdbCf {
    pub name: String,
    pub written: u64,
    pub suspect_written: u64,
    pub merge_operands_not_written: u64,
    pub entities_not_written: u64,
    pub blob_indexes_not_written: u64,
}

/// Write the column-family JSONL files of a salvage (in `out`) into a new database at `new_db`.
pub fn write_db(
    out: &Path,
    rep: &DbSalvageReport,
    new_db: &Path,
) -> Result<Vec<ToRocksdbCf>, String> {
    if new_db.exists()
        && std::fs::read_dir(new_db)
            .map_err(|e| e.to_string())?
            .next()
            .is_some()
    {
        return Err(format!("{} exists and is not empty", new_db.display()));
    }
    let mut opts = rocksdb::Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    let names: Vec<String> = rep.column_families.iter().map(|c| c.name.clone()).collect();
    let mut all = vec!["default".to_string()];
    all.extend(names.iter().filter(|n| *n != "default").cloned());
    let db = rocksdb::DB::open_cf(&opts, new_db, &all).map_err(|e| e.to_string())?;
    let mut result = Vec::new();
    for cf in &rep.column_families {
        let handle = db
            .cf_handle(&cf.name)
            .ok_or_else(|| format!("column family {} was not created", cf.name))?;
        let mut s = ToRocksdbCf {
            name: cf.name.clone(),
            ..ToRocksdbCf::default()
        };
        let f = std::fs::File::open(out.join(&cf.file)).map_err(|e| format!("{}: {e}", cf.file))?;
        let mut batch = rocksdb::WriteBatch::default();
        for line in std::io::BufReader::new(f).lines() {
            let line = line.map_err(|e| e.to_string())?;
            let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
            let key = hex::decode(v["key"].as_str().unwrap_or("")).map_err(|e| e.to_string())?;
            if v.get("merge_operands").is_some() {
                s.merge_operands_not_written += 1;
            }
            if v.get("entity").is_some() {
                s.entities_not_written += 1;
                continue;
            }
            if v.get("blob_error").is_some() {
                s.blob_indexes_not_written += 1;
                continue;
            }
            let Some(value) = v["value"].as_str() else {
                continue; // only merge operands, no base value
            };
            let value = hex::decode(value).map_err(|e| e.to_string())?;
            batch.put_cf(&handle, key, value);
            s.written += 1;
            if v["suspect"] == true {
                s.suspect_written += 1;
            }
            if batch.len() >= 4096 {
                db.write(std::mem::take(&mut batch))
                    .map_err(|e| e.to_string())?;
            }
        }
        db.write(batch).map_err(|e| e.to_string())?;
        db.flush_cf(&handle).map_err(|e| e.to_string())?;
        result.push(s);
    }
    Ok(result)
}
