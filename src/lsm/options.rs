//! OPTIONS-NNNNNN files: the INI-like dump of a database's options (format-specs/manifest.md §6).
//! Read leniently: only what `check` and salvage need.

use std::collections::BTreeMap;

/// Options per section: DB options, and per column family its CFOptions and table options merged.
#[derive(Clone, Debug, Default)]
pub struct OptionsFile {
    pub version: BTreeMap<String, String>,
    pub db: BTreeMap<String, String>,
    pub column_families: BTreeMap<String, BTreeMap<String, String>>,
}

/// Parse an OPTIONS file; unknown sections and malformed lines are skipped.
pub fn parse(text: &str) -> OptionsFile {
    let mut o = OptionsFile::default();
    let mut section: Option<(String, Option<String>)> = None;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (kind, name) = match h.split_once(' ') {
                Some((k, n)) => (k.to_string(), Some(n.trim().trim_matches('"').to_string())),
                None => (h.to_string(), None),
            };
            if kind == "CFOptions" {
                if let Some(n) = &name {
                    o.column_families.entry(n.clone()).or_default();
                }
            }
            section = Some((kind, name));
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim().to_string(), v.trim().to_string());
        match &section {
            Some((kind, None)) if kind == "Version" => {
                o.version.insert(k, v);
            }
            Some((kind, None)) if kind == "DBOptions" => {
                o.db.insert(k, v);
            }
            Some((kind, Some(name)))
                if kind == "CFOptions" || kind.starts_with("TableOptions/") =>
            {
                let key = if kind == "CFOptions" {
                    k
                } else {
                    format!("table.{k}")
                };
                o.column_families
                    .entry(name.clone())
                    .or_default()
                    .insert(key, v);
            }
            _ => {}
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_values() {
        let t = "# comment\n[Version]\n  rocksdb_version=11.8.1\n[DBOptions]\n  create_if_missing=true\n\
[CFOptions \"default\"]\n  comparator=leveldb.BytewiseComparator\n  merge_operator=nullptr\n\
[TableOptions/BlockBasedTable \"default\"]\n  format_version=7\n[CFOptions \"a b\"]\n  comparator=x\n";
        let o = parse(t);
        assert_eq!(o.version["rocksdb_version"], "11.8.1");
        assert_eq!(o.db["create_if_missing"], "true");
        assert_eq!(
            o.column_families["default"]["comparator"],
            "leveldb.BytewiseComparator"
        );
        assert_eq!(o.column_families["default"]["table.format_version"], "7");
        assert_eq!(o.column_families["a b"]["comparator"], "x");
    }
}
