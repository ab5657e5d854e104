//! Whole-database salvage against RocksDB's own final state of the same database
//! (corpus/db/multi-cf, written by RocksDB 11.8; `multi-cf.<cf>.expected.jsonl` is what RocksDB
//! reads after recovering the WAL). The corpus uses a "concat" merge operator rockrescue does not
//! implement, so the test applies the emitted merge operands itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rockrescue::lsm::salvage::{salvage_db, DbSalvageOptions};

const CFS: [&str; 3] = ["default", "alpha", "blobs"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/db")
}

fn copy_db() -> tempfile::TempDir {
    copy_corpus_db("multi-cf")
}

/// A copy of the database `corpus/db/<name>`.
fn copy_corpus_db(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(corpus().join(name)).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

fn expected(cf: &str) -> BTreeMap<String, String> {
    state_file(&format!("multi-cf.{cf}.expected.jsonl"))
}

/// A final-state file of corpus/db (`{"key","value"}` per line) as key -> value.
fn state_file(name: &str) -> BTreeMap<String, String> {
    let t = std::fs::read_to_string(corpus().join(name)).unwrap();
    t.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["key"].as_str().unwrap().into(),
                v["value"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// key -> (value with merge operands applied by concatenation, suspect)
fn salvaged(out: &Path, cf: &str) -> BTreeMap<String, (String, bool)> {
    let t = std::fs::read_to_string(out.join(format!("{cf}.jsonl"))).unwrap();
    let mut prev = String::new();
    t.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let key = v["key"].as_str().unwrap().to_string();
            assert!(
                key > prev || prev.is_empty(),
                "{cf}: not in key order at {key}"
            );
            prev = key.clone();
            let mut val = v["value"].as_str().unwrap_or("").to_string();
            for op in v["merge_operands"].as_array().into_iter().flatten() {
                val.push_str(op.as_str().unwrap());
            }
            assert!(
                v.get("blob_index").is_none(),
                "{cf}: unresolved blob index {l}"
            );
            (key, (val, v["suspect"] == true))
        })
        .collect()
}

fn run(dir: &Path) -> tempfile::TempDir {
    run_report(dir).0
}

fn run_report(dir: &Path) -> (tempfile::TempDir, rockrescue::lsm::salvage::DbSalvageReport) {
    let out = tempfile::tempdir().unwrap();
    let opts = DbSalvageOptions {
        memory_budget: 16 << 10, // small, so the runs spill and merge from disk
        ..DbSalvageOptions::default()
    };
    let rep = salvage_db(dir, out.path(), &opts).unwrap();
    (out, rep)
}

fn assert_exact(out: &Path, what: &str) {
    for cf in CFS {
        let got: BTreeMap<String, String> = salvaged(out, cf)
            .into_iter()
            .map(|(k, (v, _))| (k, v))
            .collect();
        assert_eq!(got, expected(cf), "{what}: column family {cf}");
    }
}

#[test]
fn intact_database_salvages_to_rocksdbs_final_state() {
    let d = copy_db();
    assert_exact(run(d.path()).path(), "intact");
}

#[test]
fn without_manifest_or_current_the_state_is_the_same() {
    let d = copy_db();
    std::fs::remove_file(d.path().join("CURRENT")).unwrap();
    assert_exact(run(d.path()).path(), "CURRENT deleted");
    let d = copy_db();
    for e in std::fs::read_dir(d.path()).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("MANIFEST-")
        {
            std::fs::remove_file(p).unwrap();
        }
    }
    assert_exact(run(d.path()).path(), "MANIFEST deleted");
}

/// The tables of a database directory, by name.
fn ssts_in(dir: &Path) -> Vec<PathBuf> {
    let mut ssts: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sst"))
        .collect();
    ssts.sort();
    ssts
}

/// A named way to damage a copy of the database.
type Plant = Box<dyn Fn(&Path)>;

/// Damage: every key not marked suspect has exactly RocksDB's value; a key RocksDB does not have
/// (a delete lost with a damaged block) is always suspect.
#[test]
fn damaged_tables_and_wal_lose_nothing_silently() {
    let d0 = copy_db();
    let ssts = ssts_in(d0.path());
    let mut plants: Vec<(String, Plant)> = Vec::new();
    for s in &ssts {
        let name = s.file_name().unwrap().to_owned();
        plants.push((
            format!("bit flip in the first block of {}", name.to_string_lossy()),
            Box::new(move |d: &Path| {
                let p = d.join(&name);
                let mut b = std::fs::read(&p).unwrap();
                b[200] ^= 0x08;
                std::fs::write(&p, b).unwrap();
            }),
        ));
    }
    // A table that cannot be opened at all (here a directory in its place): its keys lie in its
    // MANIFEST range, where every key must be suspect or bounded by the report.
    for s in &ssts {
        let name = s.file_name().unwrap().to_owned();
        plants.push((
            format!("{} unreadable", name.to_string_lossy()),
            Box::new(move |d: &Path| {
                let p = d.join(&name);
                std::fs::remove_file(&p).unwrap();
                std::fs::create_dir(&p).unwrap();
            }),
        ));
    }
    plants.push((
        "bit flip in the WAL".into(),
        Box::new(|d: &Path| {
            let p = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.extension().is_some_and(|x| x == "log")
                        && std::fs::metadata(p).unwrap().len() > 0
                })
                .unwrap();
            let mut b = std::fs::read(&p).unwrap();
            b[40] ^= 0x08;
            std::fs::write(&p, b).unwrap();
        }),
    ));
    for (what, plant) in plants {
        let d = copy_db();
        plant(d.path());
        let (out, rep) = run_report(d.path());
        let mut suspects = 0;
        // Key ranges the damage report says were lost.
        let lost: Vec<(Option<String>, Option<String>)> = rep
            .tables
            .iter()
            .flat_map(|t| t.damaged.iter())
            .filter_map(|r| r.lost_keys.as_ref().map(|l| (l.from.clone(), l.to.clone())))
            .collect();
        let wal_damaged = rep.wals.iter().any(|w| !w.problems.is_empty());
        for cf in CFS {
            let want = expected(cf);
            let got = salvaged(out.path(), cf);
            for (k, (v, suspect)) in &got {
                suspects += *suspect as usize;
                if !suspect {
                    assert_eq!(
                        want.get(k),
                        Some(v),
                        "{what}: {cf} key {k} not suspect but wrong"
                    );
                }
            }
            // Nothing intact lost: a key RocksDB has that salvage lacks lies in a reported lost
            // range (or a damaged WAL record took it).
            for k in want.keys().filter(|k| !got.contains_key(*k)) {
                let in_lost = lost.iter().any(|(f, t)| {
                    f.as_ref().is_none_or(|f| f <= k) && t.as_ref().is_none_or(|t| k <= t)
                });
                assert!(
                    in_lost || wal_damaged,
                    "{what}: {cf} key {k} lost without a report"
                );
            }
        }
        assert!(suspects > 0, "{what}: damage but no suspect key");
    }
}

/// A corrupt (not deleted) MANIFEST, a WAL torn at its tail, and an orphan table next to the live
/// ones: the state stays RocksDB's (the orphan is a stale copy of an older table, skipped while
/// the MANIFEST is usable; with a corrupt MANIFEST every table is read and sequence numbers decide).
#[test]
fn corrupt_manifest_torn_wal_and_orphans() {
    // Corrupt MANIFEST: every table is read by its properties.
    let d = copy_db();
    let m = rockrescue::manifest::current_manifest(d.path()).unwrap();
    let mut b = std::fs::read(&m).unwrap();
    let n = b.len();
    b[n / 2] ^= 0x20;
    std::fs::write(&m, b).unwrap();
    assert_exact(run(d.path()).path(), "corrupt MANIFEST");
    // An orphan: a copy of a live table under an unused number.
    let d = copy_db();
    let first = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sst"))
        .min()
        .unwrap();
    std::fs::copy(&first, d.path().join("000999.sst")).unwrap();
    assert_exact(run(d.path()).path(), "orphan table");
    // A WAL torn inside its last record: that write is lost (as RocksDB would lose it), nothing else.
    let d = copy_db();
    let wal = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "log") && std::fs::metadata(p).unwrap().len() > 0
        })
        .unwrap();
    let b = std::fs::read(&wal).unwrap();
    std::fs::write(&wal, &b[..b.len() - 5]).unwrap();
    let out = run(d.path());
    let mut differ = 0;
    for cf in CFS {
        let want = expected(cf);
        for (k, (v, _)) in salvaged(out.path(), cf) {
            if want.get(&k) != Some(&v) {
                differ += 1;
            }
        }
    }
    // The torn last batch was a single delete of key00007 in the default column family.
    assert!(differ <= 1, "{differ} keys differ after a torn tail");
}

/// When the OPTIONS file names a built-in merge operator, merge operands are applied.
#[test]
fn builtin_merge_operator_from_options_is_applied() {
    let d = copy_db();
    for e in std::fs::read_dir(d.path()).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("OPTIONS-")
        {
            let t = std::fs::read_to_string(&p).unwrap();
            std::fs::write(
                &p,
                t.replace("merge_operator=concat", "merge_operator=stringappend"),
            )
            .unwrap();
        }
    }
    let out = tempfile::tempdir().unwrap();
    let rep = salvage_db(d.path(), out.path(), &DbSalvageOptions::default()).unwrap();
    for cf in &rep.column_families {
        assert_eq!(cf.with_merge_operands, 0, "{}", cf.name);
        assert!(cf.merges_resolved > 0, "{}", cf.name);
    }
    // concat and stringappend agree once the delimiters are taken out, for values without commas.
    let t = std::fs::read_to_string(out.path().join("default.jsonl")).unwrap();
    let want = expected("default");
    let mut checked = 0;
    for l in t.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let key = v["key"].as_str().unwrap();
        let got = hex::decode(v["value"].as_str().unwrap()).unwrap();
        let w = hex::decode(&want[key]).unwrap();
        if got.contains(&b'+') && !w.contains(&b',') {
            let stripped: Vec<u8> = got.iter().copied().filter(|&c| c != b',').collect();
            assert_eq!(stripped, w, "key {key}");
            checked += 1;
        }
    }
    assert!(checked > 5);
}

fn sst_corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/sst")
        .join(name)
}

/// A directory holding one table (no MANIFEST): salvage reads it as the default column family.
fn dir_with_table(bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("000001.sst"), bytes).unwrap();
    dir
}

fn lines(out: &Path, cf: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join(format!("{cf}.jsonl")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Keys from a table written without checksums carry "unverified"; keys from a checksummed one
/// never do.
#[test]
fn entries_no_checksum_vouches_for_are_marked_unverified() {
    let bytes = std::fs::read(sst_corpus("fv7-nochecksum-none-4k.sst")).unwrap();
    let dir = dir_with_table(&bytes);
    let (out, rep) = run_report(dir.path());
    let got = lines(out.path(), "default");
    assert_eq!(got.len(), 400);
    assert!(
        got.iter().all(|v| v["unverified"] == true),
        "every key unverified"
    );
    assert_eq!(
        rep.tables[0].file.status,
        rockrescue::sst::report::Status::Unverified
    );

    let bytes = std::fs::read(sst_corpus("fv5-range-del-flush.sst")).unwrap();
    let dir = dir_with_table(&bytes);
    let (out, _) = run_report(dir.path());
    let got = lines(out.path(), "default");
    assert!(!got.is_empty());
    assert!(got.iter().all(|v| v.get("unverified").is_none()));
}

/// A range-deletion block that lost a byte: the keys its tombstones deleted come back (nothing can
/// hide them any more), so every one of them must be marked suspect, and the report must bound the
/// keys the lost tombstones could cover.
#[test]
fn lost_range_deletion_block_makes_covered_keys_suspect() {
    let path = sst_corpus("fv5-range-del-flush.sst");
    let mut bytes = std::fs::read(&path).unwrap();
    let h = rockrescue::sst::Table::open(&bytes, &path)
        .unwrap()
        .range_del_handle()
        .unwrap();
    bytes[h.offset as usize + 2] ^= 0x40;
    // RocksDB's view of the table: point versions and tombstones (corpus expectation).
    let exp = std::fs::read_to_string(sst_corpus("fv5-range-del-flush.expected.jsonl")).unwrap();
    let mut seq_of: BTreeMap<String, u64> = BTreeMap::new();
    let mut tombs: Vec<(Vec<u8>, Vec<u8>, u64)> = Vec::new();
    for l in exp.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let key = v["key"].as_str().unwrap().to_string();
        let seq = v["seq"].as_u64().unwrap();
        if v["type"] == "range_delete" {
            let end = hex::decode(v["value"].as_str().unwrap()).unwrap();
            tombs.push((hex::decode(&key).unwrap(), end, seq));
        } else {
            let e = seq_of.entry(key).or_insert(0);
            *e = (*e).max(seq);
        }
    }
    let dir = dir_with_table(&bytes);
    let (out, rep) = run_report(dir.path());
    let got = salvaged(out.path(), "default");
    let mut resurrected = 0;
    for (key, (_, suspect)) in &got {
        let k = hex::decode(key).unwrap();
        let seq = seq_of[key];
        let deleted = tombs
            .iter()
            .any(|(s, e, ts)| s <= &k && &k < e && *ts > seq);
        if deleted {
            resurrected += 1;
            assert!(
                suspect,
                "{key} was deleted by a lost tombstone but is not suspect"
            );
        }
    }
    assert!(
        resurrected > 10,
        "the damage must bring deleted keys back ({resurrected})"
    );
    let t = &rep.tables[0];
    let r = t
        .damaged
        .iter()
        .find(|r| r.kind == "range-del")
        .expect("the range-deletion block is reported");
    assert!(r.lost_keys.is_some(), "the keys it could cover are bounded");
}

/// A LevelDB directory whose MANIFEST lists no table, beside a complete table made after the
/// MANIFEST's last edit (a flush whose edit never reached it; its log is gone): the table is read,
/// and the state equals what LevelDB was given (corpus/gen-leveldb-newer.cc).
#[test]
fn a_table_newer_than_the_manifest_is_read() {
    let dir = corpus().join("leveldb-newer");
    let (out, rep) = run_report(&dir);
    let expected = state_file("leveldb-newer.expected.jsonl");
    let got: BTreeMap<String, String> = salvaged(out.path(), "default")
        .into_iter()
        .map(|(k, (v, suspect))| {
            assert!(!suspect);
            (k, v)
        })
        .collect();
    assert_eq!(got.len(), 288);
    assert_eq!(got, expected);
    assert!(
        rep.notes
            .iter()
            .any(|n| n.contains("newer than its last edit")),
        "{:?}",
        rep.notes
    );

    // An older table the MANIFEST does not list is still an orphan, skipped.
    let copy = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, copy.path().join(p.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        sst_corpus("leveldb-snappy-bloom.sst"),
        copy.path().join("000001.ldb"),
    )
    .unwrap();
    let (out, rep) = run_report(copy.path());
    assert!(rep
        .notes
        .iter()
        .any(|n| n.contains("000001.ldb is not a live table (orphan): skipped")));
    assert_eq!(salvaged(out.path(), "default").len(), 288);
}

/// The same loss in a database with its MANIFEST: what the lost tombstone deleted comes back
/// suspect, while keys outside the table's recorded key range or newer than it stay clean.
#[test]
fn lost_range_deletion_block_with_manifest_bounds_the_suspects() {
    let dir = copy_db();
    let p = dir.path().join("000035.sst"); // column family alpha, the one range deletion
    let mut bytes = std::fs::read(&p).unwrap();
    let h = rockrescue::sst::Table::open(&bytes, &p)
        .unwrap()
        .range_del_handle()
        .unwrap();
    bytes[h.offset as usize + 2] ^= 0x40;
    std::fs::write(&p, bytes).unwrap();
    let (out, _) = run_report(dir.path());
    let got = salvaged(out.path(), "alpha");
    let want = expected("alpha");
    // Keys the tombstone deleted come back, and merge operands written after it now apply to the
    // old base: every key that differs from RocksDB's state must be suspect.
    let differ: Vec<&String> = got
        .iter()
        .filter(|(k, (v, _))| want.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        got.keys().any(|k| !want.contains_key(k)),
        "the lost tombstone brings keys back"
    );
    for k in &differ {
        assert!(
            got[*k].1,
            "{k} differs from RocksDB's state but is not suspect"
        );
    }
    let suspect = got.values().filter(|v| v.1).count();
    assert!(
        suspect < got.len(),
        "the MANIFEST's key range and sequence numbers narrow the suspects ({suspect} of {})",
        got.len()
    );
    assert!(salvaged(out.path(), "default").values().all(|v| !v.1));
}

/// The progress hook: the bytes reported read add up to what `bytes_to_read` promised (so a bar
/// ends at 100 %), and the keys reported written to the keys of the final state.
#[test]
fn progress_adds_up() {
    use rockrescue::lsm::salvage::{bytes_to_read, ProgressHook, SalvageProgress};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let d = copy_db();
    let read = Arc::new(AtomicU64::new(0));
    let keys = Arc::new(AtomicU64::new(0));
    let (r, k) = (read.clone(), keys.clone());
    let opts = DbSalvageOptions {
        progress: Some(ProgressHook(Arc::new(move |p| match p {
            SalvageProgress::Read(n) => {
                r.fetch_add(n, Ordering::Relaxed);
            }
            SalvageProgress::Keys(n) => {
                k.fetch_add(n, Ordering::Relaxed);
            }
        }))),
        ..DbSalvageOptions::default()
    };
    let out = tempfile::tempdir().unwrap();
    let rep = salvage_db(d.path(), out.path(), &opts).unwrap();
    let total = bytes_to_read(d.path());
    assert!(total > 0);
    assert_eq!(read.load(Ordering::Relaxed), total);
    let written: u64 = rep.column_families.iter().map(|c| c.keys).sum();
    assert_eq!(keys.load(Ordering::Relaxed), written);
}

/// corpus/db/levels (`gen-bench-db --small`, RocksDB 11.8): 17 tables of many blocks on L0, L5 and
/// L6 with overwrites and deletes, and unflushed WAL data. Its expected state is `KEY SHA` lines
/// (the first 16 hex digits of the value's SHA-256).
fn levels_copy() -> tempfile::TempDir {
    copy_corpus_db("levels")
}

fn levels_expected() -> BTreeMap<String, String> {
    std::fs::read_to_string(corpus().join("levels.expected.txt"))
        .unwrap()
        .lines()
        .map(|l| {
            let (k, h) = l.split_once(' ').unwrap();
            (k.to_string(), h.to_string())
        })
        .collect()
}

/// key -> (first 16 hex digits of the value's SHA-256, suspect)
fn levels_salvaged(out: &Path) -> BTreeMap<String, (String, bool)> {
    use sha2::{Digest, Sha256};
    salvaged(out, "default")
        .into_iter()
        .map(|(k, (v, s))| {
            let h = hex::encode(Sha256::digest(hex::decode(v).unwrap()));
            (k, (h[..16].to_string(), s))
        })
        .collect()
}

/// Salvage `dir` with a pool of `threads` threads: the output files' bytes and the report.
fn with_threads(dir: &Path, threads: usize) -> (tempfile::TempDir, serde_json::Value) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let rep = pool
        .install(|| salvage_db(dir, out.path(), &DbSalvageOptions::default()))
        .unwrap();
    (out, serde_json::to_value(&rep).unwrap())
}

fn file_bytes(out: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The tables are streamed, not copied: nothing goes to scratch space, and with one thread or
/// several (the key space split into ranges merged in parallel) the state is RocksDB's, byte for
/// byte the same.
#[test]
fn levels_stream_to_rocksdbs_state_with_any_number_of_threads() {
    let d = levels_copy();
    let want = levels_expected();
    let mut first: Option<(BTreeMap<String, Vec<u8>>, serde_json::Value)> = None;
    for threads in [1, 2, 5] {
        let (out, rep) = with_threads(d.path(), threads);
        let got: BTreeMap<String, String> = levels_salvaged(out.path())
            .into_iter()
            .map(|(k, (h, suspect))| {
                assert!(!suspect, "{threads} threads: {k} suspect");
                (k, h)
            })
            .collect();
        assert!(got == want, "{threads} threads: not RocksDB's state");
        assert!(
            rep.get("scratch_bytes").is_none(),
            "{threads} threads: {rep}"
        );
        let ssts = std::fs::read_dir(d.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "sst")
            })
            .count();
        assert_eq!(rep["tables"].as_array().unwrap().len(), ssts);
        let files = file_bytes(out.path());
        match &first {
            None => first = Some((files, rep)),
            Some((f, r)) => {
                assert!(f == &files, "{threads} threads: other bytes");
                assert_eq!(r, &rep, "{threads} threads: another report");
            }
        }
    }
}

/// Damage anywhere in any table gives the same keys, the same suspect marks and the same report
/// with one thread and with several, and every key not marked suspect is RocksDB's.
#[test]
fn damage_is_judged_the_same_with_any_number_of_threads() {
    let d0 = levels_copy();
    let ssts = ssts_in(d0.path());
    let want = levels_expected();
    let mut checked = 0;
    for s in &ssts {
        let len = std::fs::metadata(s).unwrap().len();
        for at in [len / 5, len / 2] {
            let d = levels_copy();
            let p = d.path().join(s.file_name().unwrap());
            let mut b = std::fs::read(&p).unwrap();
            b[at as usize] ^= 0x20;
            std::fs::write(&p, b).unwrap();
            let (o1, r1) = with_threads(d.path(), 1);
            let (o4, r4) = with_threads(d.path(), 4);
            let what = format!("{} at {at}", s.display());
            assert!(
                file_bytes(o1.path()) == file_bytes(o4.path()),
                "{what}: threads changed the output"
            );
            assert_eq!(r1, r4, "{what}: threads changed the report");
            let got = levels_salvaged(o1.path());
            for (k, (h, suspect)) in &got {
                if !suspect {
                    assert_eq!(want.get(k), Some(h), "{what}: {k} not suspect but wrong");
                }
            }
            checked += got.values().filter(|(_, s)| *s).count().min(1);
        }
    }
    // Most flips hit a data block: some keys are suspect.
    assert!(
        checked > ssts.len(),
        "only {checked} damaged cases had suspects"
    );
}

/// Tables whose contents are not what the MANIFEST records for their file numbers (two files of
/// different key ranges swapped): they are noticed and read into a sorted run; the state is still
/// exactly RocksDB's, with any number of threads.
#[test]
fn a_table_outside_its_manifest_bounds_is_merged_again() {
    let d = levels_copy();
    let mut ssts = ssts_in(d.path());
    // The two largest tables: bottom-level tables of different key ranges.
    ssts.sort_by_key(|p| std::fs::metadata(p).unwrap().len());
    let (a, b) = (ssts[ssts.len() - 1].clone(), ssts[ssts.len() - 2].clone());
    let tmp = d.path().join("swap");
    std::fs::rename(&a, &tmp).unwrap();
    std::fs::rename(&b, &a).unwrap();
    std::fs::rename(&tmp, &b).unwrap();
    for threads in [1, 3] {
        let (out, rep) = with_threads(d.path(), threads);
        let got: BTreeMap<String, String> = levels_salvaged(out.path())
            .into_iter()
            .map(|(k, (h, _))| (k, h))
            .collect();
        assert!(
            got == levels_expected(),
            "{threads} threads: not RocksDB's state"
        );
        let notes = rep["notes"].to_string();
        assert!(notes.contains("outside the bounds"), "{threads}: {notes}");
        assert!(rep.get("scratch_bytes").is_none());
    }
}
