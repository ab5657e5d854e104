//! MANIFEST replay against RocksDB's own view of the same database (corpus/db, written by RocksDB
//! 11.8; `NAME.live-files.json` is `DB::live_files()` from a read-only open).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rockrescue::manifest::{current_manifest, replay};

fn db_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/db/multi-cf")
}

type LiveFile = (String, u64, u32, u64, String, String);

fn rocksdb_live_files() -> BTreeSet<LiveFile> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/db/multi-cf.live-files.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["name"].as_str().unwrap();
            (
                f["column_family"].as_str().unwrap().to_string(),
                name.trim_end_matches(".sst").parse().unwrap(),
                f["level"].as_u64().unwrap() as u32,
                f["size"].as_u64().unwrap(),
                f["smallest_user_key"].as_str().unwrap().to_string(),
                f["largest_user_key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn replayed(bytes: &[u8]) -> (BTreeSet<LiveFile>, rockrescue::manifest::Version) {
    let v = replay(bytes, |_, _| {});
    let files = v
        .column_families
        .iter()
        .flat_map(|cf| {
            cf.files.iter().map(|(level, f)| {
                (
                    cf.name.clone(),
                    f.number,
                    *level,
                    f.size,
                    hex::encode(f.smallest_user_key()),
                    hex::encode(f.largest_user_key()),
                )
            })
        })
        .collect();
    (files, v)
}

#[test]
fn replay_matches_rocksdb_live_files() {
    let m = current_manifest(&db_dir()).unwrap();
    let bytes = std::fs::read(&m).unwrap();
    let (files, v) = replayed(&bytes);
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(files, rocksdb_live_files());
    // The dropped column family is gone; the live ones are there with their ids.
    let names: Vec<_> = v.column_families.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["default", "alpha", "blobs"]);
    // Every live table exists on disk with the recorded size.
    for cf in &v.column_families {
        for (_, f) in &cf.files {
            let p = db_dir().join(format!("{:06}.sst", f.number));
            assert_eq!(
                std::fs::metadata(&p).unwrap().len(),
                f.size,
                "{}",
                p.display()
            );
        }
    }
}

#[test]
fn damaged_manifests_are_reported_and_replay_goes_on() {
    let m = current_manifest(&db_dir()).unwrap();
    let clean = std::fs::read(&m).unwrap();
    // A torn tail: reported, and the state is that of the records before it.
    let torn = &clean[..clean.len() - 3];
    let (_, v) = replayed(torn);
    assert!(
        v.problems.iter().any(|p| p.kind == "torn_tail"),
        "{:?}",
        v.problems
    );
    // A flipped byte inside a record: that record is reported at its offset and skipped.
    for at in [40, clean.len() / 2, clean.len() - 40] {
        let mut bad = clean.clone();
        bad[at] ^= 0x20;
        let (_, v) = replayed(&bad);
        assert!(!v.problems.is_empty(), "flip at {at} not reported");
        assert!(v.problems[0].offset as usize <= at, "{:?}", v.problems);
        assert!(v.records > 0);
    }
}
