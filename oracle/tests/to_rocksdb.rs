//! `salvage --to-rocksdb`: the salvaged state of corpus/db/multi-cf written into a fresh database
//! through RocksDB, read back through RocksDB, equals RocksDB's own final state of the original
//! (for every key whose value salvage could write: merge operands of the corpus's custom "concat"
//! operator stay unresolved, so those keys hold their base value only).

use std::collections::BTreeMap;
use std::path::Path;

use rockrescue::lsm::salvage::{salvage_db, DbSalvageOptions};
use rockrescue::lsm::to_rocksdb::write_db;
use rocksdb::{IteratorMode, Options, DB};

#[test]
fn salvaged_state_reopens_in_rocksdb() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/db");
    let out = tempfile::tempdir().unwrap();
    let new_db = tempfile::tempdir().unwrap();
    let rep = salvage_db(
        &corpus.join("multi-cf"),
        out.path(),
        &DbSalvageOptions::default(),
    )
    .unwrap();
    let written = write_db(out.path(), &rep, &new_db.path().join("db")).unwrap();
    assert_eq!(written.len(), 3);
    let names = DB::list_cf(&Options::default(), new_db.path().join("db")).unwrap();
    let db = DB::open_cf(&Options::default(), new_db.path().join("db"), &names).unwrap();
    for cf in ["default", "alpha", "blobs"] {
        let text =
            std::fs::read_to_string(corpus.join(format!("multi-cf.{cf}.expected.jsonl"))).unwrap();
        let want: BTreeMap<String, String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["key"].as_str().unwrap().into(),
                    v["value"].as_str().unwrap().into(),
                )
            })
            .collect();
        let merged: std::collections::HashSet<String> =
            std::fs::read_to_string(out.path().join(format!("{cf}.jsonl")))
                .unwrap()
                .lines()
                .filter(|l| l.contains("merge_operands"))
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["key"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
        let h = db.cf_handle(cf).unwrap();
        let mut n = 0;
        for item in db.iterator_cf(&h, IteratorMode::Start) {
            let (k, v) = item.unwrap();
            let k = hex::encode(k);
            if !merged.contains(&k) {
                assert_eq!(want.get(&k), Some(&hex::encode(v)), "{cf} {k}");
                n += 1;
            }
        }
        assert_eq!(
            n + merged.iter().filter(|k| want.contains_key(*k)).count(),
            want.len(),
            "{cf}"
        );
    }
}
