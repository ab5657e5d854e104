//! LevelDB tables with raw keys (format-specs/sst.md §14.1): tables written through
//! `leveldb::TableBuilder` directly (corpus/gen-leveldb-raw.cc, real LevelDB 1.23) hold user keys
//! without the 8-byte sequence/type trailer. They must be recognised as raw for the whole table,
//! verify clean and dump exactly what LevelDB's own reader returns; no internal-key table may be
//! taken for raw.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use rockrescue::export::dump::{dump_file_jsonl, salvage_dump, DumpFormat};
use rockrescue::ikey;
use rockrescue::sst::format::{EntryFormat, EntryIter};
use rockrescue::sst::salvage::Salvage;
use rockrescue::sst::table::{KeyFormat, TableFormat};
use rockrescue::sst::verify::{verify_path, Status};
use rockrescue::sst::Table;

const RAW: [&str; 3] = [
    "leveldb-raw-snappy",
    "leveldb-raw-nocompress-trap",
    "leveldb-raw-bloom",
];

fn raw_table(name: &str) -> PathBuf {
    common::corpus_file(&format!("{name}.sst"))
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(common::corpus_file(&format!("{name}.expected.jsonl"))).unwrap()
}

fn open<'a>(bytes: &'a [u8], path: &Path) -> Table<'a> {
    Table::open(bytes, path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every raw-key corpus table is detected as raw, verifies clean under a deep audit, and dumps
/// exactly the entries LevelDB's reader returned, each marked as a raw key.
#[test]
fn raw_key_tables_are_detected_verified_and_dumped_exactly() {
    for name in RAW {
        let path = raw_table(name);
        let bytes = std::fs::read(&path).unwrap();
        let t = open(&bytes, &path);
        assert_eq!(t.format, TableFormat::LevelDb, "{name}");
        assert_eq!(t.key_format, KeyFormat::Raw, "{name}: not detected as raw");

        let v = verify_path(&path, true);
        assert_eq!(v.file.status, Status::Ok, "{name}: {:#?}", v.issues);
        assert!(v.file.raw_keys, "{name}: verdict does not say raw keys");
        let stats = v.stats.unwrap();
        assert_eq!(
            stats.min_seq, None,
            "{name}: raw keys have no sequence numbers"
        );
        assert!(stats.notes.is_empty(), "{name}: {:?}", stats.notes);

        let want = expected(name);
        let got = dump_file_jsonl(&path).unwrap();
        assert_eq!(got, want, "{name}: dump differs from LevelDB's reading");
        assert!(got.lines().count() > 300, "{name}: too few entries");
        assert!(
            got.lines()
                .all(|l| l.ends_with(",\"raw_key\":true}")
                    && l.contains("\"seq\":0,\"type\":\"put\""))
        );

        // The salvage report says so too, and finds nothing damaged.
        let s = Salvage::plan(&bytes, &path);
        let mut out = Vec::new();
        let report = salvage_dump(&s, DumpFormat::Jsonl, &mut out).unwrap();
        assert!(report.file.raw_keys, "{name}");
        assert!(report.damaged.is_empty(), "{name}: {:?}", report.damaged);
        assert_eq!(String::from_utf8(out).unwrap(), want, "{name}");
    }
}

/// The fixtures are the traps they claim to be: keys whose last 8 bytes look like a valid trailer,
/// so a per-key (or first-block) decision would split them into a user key and a made-up sequence
/// number. Only the table-wide decision reads them whole.
#[test]
fn trailer_shaped_raw_keys_are_read_whole() {
    let internal_shape =
        |k: &[u8]| ikey::parse(k).is_some_and(|p| ikey::is_table_point_type(p.vtype));
    // leveldb-raw-nocompress-trap: the first data block holds only trailer-shaped keys.
    // leveldb-raw-bloom: every data block does; only the index shows the keys are raw.
    for (name, all_blocks) in [
        ("leveldb-raw-nocompress-trap", false),
        ("leveldb-raw-bloom", true),
    ] {
        let path = raw_table(name);
        let bytes = std::fs::read(&path).unwrap();
        let t = open(&bytes, &path);
        let blocks = if all_blocks { t.data_blocks.len() } else { 1 };
        for d in &t.data_blocks[..blocks] {
            let c = t.read_data_block(d.handle).unwrap();
            let mut it = EntryIter::new(&c, EntryFormat::Standard).unwrap();
            while let Some(e) = it.next() {
                let e = e.unwrap();
                assert!(
                    internal_shape(e.key),
                    "{name}: key {} is not trailer-shaped",
                    hex::encode(e.key)
                );
            }
        }
        // ... and yet they are dumped whole, with seq 0: the first key is longer than 8 bytes and
        // comes out with its trailer-shaped tail.
        let first = expected(name).lines().next().unwrap().to_string();
        let got = dump_file_jsonl(&path).unwrap();
        assert_eq!(got.lines().next().unwrap(), first, "{name}");
        let key = first.split('"').nth(3).unwrap();
        assert!(key.len() / 2 > 8, "{name}: {first}");
    }
}

/// No internal-key table is taken for raw: every other corpus table (RocksDB of every format
/// version, RocksDB format_version 0 with the LevelDB magic, LevelDB tables written by a database,
/// including binary user keys shorter than 8 bytes) keeps internal keys.
#[test]
fn internal_key_tables_are_never_detected_as_raw() {
    let mut leveldb = 0;
    for (path, _) in common::corpus_tables() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if RAW.contains(&name.as_str()) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let t = open(&bytes, &path);
        assert_eq!(t.key_format, KeyFormat::Internal, "{name} taken for raw");
        if t.format == TableFormat::LevelDb {
            leveldb += 1;
        }
        assert!(!verify_path(&path, false).file.raw_keys, "{name}");
        let s = Salvage::plan(&bytes, &path);
        assert_eq!(s.key_format, KeyFormat::Internal, "{name}");
    }
    assert!(
        leveldb >= 2,
        "only {leveldb} LevelDB internal-key tables checked"
    );
}

/// A RocksDB format_version 0 table (LevelDB magic) whose metaindex is damaged has no properties
/// in view and so looks like a LevelDB table to the detector; it must still read its internal keys
/// (its index separators carry RocksDB's kValueTypeForSeek, internal-key.md §5.5).
#[test]
fn rocksdb_fv0_without_properties_is_not_raw() {
    let path = common::corpus_file("old-fv0-crc32c-snappy.sst");
    let mut bytes = std::fs::read(&path).unwrap();
    let t = open(&bytes, &path);
    let m = t.footer.metaindex;
    drop(t);
    // Zero the metaindex contents: its checksum fails and its entries are unreadable.
    bytes[m.offset as usize..(m.offset + m.size) as usize].fill(0);
    let t = open(&bytes, &path);
    assert_eq!(t.format, TableFormat::LevelDb);
    assert!(t.properties.is_none());
    assert_eq!(t.key_format, KeyFormat::Internal);
    drop(t);
    // Salvage carves the blocks the lost metaindex named and still finds no raw keys.
    let s = Salvage::plan(&bytes, &path);
    let mut out = Vec::new();
    let report = salvage_dump(&s, DumpFormat::Jsonl, &mut out).unwrap();
    assert!(!report.file.raw_keys, "{:?}", report.notes);
    assert!(!String::from_utf8(out).unwrap().contains("raw_key"));
}

/// Damage in one data block of a raw-key table is reported for that block only; the other blocks'
/// entries are still recovered as raw keys, exactly.
#[test]
fn damaged_block_of_a_raw_key_table() {
    let name = "leveldb-raw-snappy";
    let path = raw_table(name);
    let mut bytes = std::fs::read(&path).unwrap();
    let t = open(&bytes, &path);
    let victim = t.data_blocks[0].handle;
    let n_blocks = t.data_blocks.len();
    drop(t);
    bytes[(victim.offset + victim.size / 2) as usize] ^= 0x40;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ldb");
    std::fs::write(&bad, &bytes).unwrap();

    let t = open(&bytes, &bad);
    assert_eq!(
        t.key_format,
        KeyFormat::Raw,
        "the index and the last block still tell"
    );
    let v = verify_path(&bad, true);
    assert_eq!(v.file.status, Status::Damaged);
    assert_eq!(v.blocks_bad, 1, "{:#?}", v.issues);
    assert!(
        v.issues.iter().all(|i| i.offset == victim.offset),
        "{:#?}",
        v.issues
    );

    let s = Salvage::plan(&bytes, &bad);
    let mut out = Vec::new();
    let report = salvage_dump(&s, DumpFormat::Jsonl, &mut out).unwrap();
    assert_eq!(report.damaged.len(), 1);
    assert_eq!(report.blocks.damaged, 1);
    let got = String::from_utf8(out).unwrap();
    let want = expected(name);
    // What was recovered is exactly the expectation minus the first block's entries.
    assert!(
        want.ends_with(&got),
        "recovered entries are not the expected tail"
    );
    assert!(got.lines().count() < want.lines().count());
    assert!(n_blocks > 2);
    // The first lost key is the empty key; the damage report bounds the lost range by the next
    // block's first key.
    let lost = report.damaged[0].lost_keys.as_ref().unwrap();
    assert_eq!(lost.from, None);
    let first_recovered = got.lines().next().unwrap().split('"').nth(3).unwrap();
    assert_eq!(lost.to.as_deref(), Some(first_recovered));
}

/// `sst info` says the key format, in text and JSON.
#[test]
fn info_says_raw_keys() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rockrescue"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let table = "corpus/sst/leveldb-raw-bloom.sst";
    let o = run(&["sst", "info", table]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("keys") && l.contains("raw user keys, no sequence/type trailer")),
        "{text}"
    );
    assert!(
        text.contains("index           binary_search, raw keys"),
        "{text}"
    );
    let o = run(&["sst", "info", "--json", table]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["key_format"], "raw");
    assert_eq!(v["index_keys"], "raw keys");
    let o = run(&[
        "sst",
        "info",
        "--json",
        "corpus/sst/leveldb-snappy-bloom.sst",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["key_format"], "internal");
    let o = run(&["sst", "verify", table]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8(o.stdout).unwrap().contains(", raw keys"));
}

/// With the index damaged nothing in the table structure tells the key format: salvage learns it
/// from the blocks it carves (format-specs/carving.md §7.2) and still recovers every entry whole.
#[test]
fn carving_learns_raw_keys_when_the_index_is_lost() {
    // leveldb-raw-bloom: every data key looks internal; only its bloom filter (over whole keys)
    // still tells.
    for name in RAW {
        let path = raw_table(name);
        let mut bytes = std::fs::read(&path).unwrap();
        let t = open(&bytes, &path);
        let index = t.index_handle;
        drop(t);
        bytes[(index.offset + index.size / 2) as usize] ^= 0x10;
        let t = open(&bytes, &path);
        assert!(t.data_blocks.is_empty(), "{name}: the index still reads");
        assert_eq!(
            t.key_format,
            KeyFormat::Internal,
            "{name}: nothing to judge by"
        );
        drop(t);
        let s = Salvage::plan(&bytes, &path);
        let mut out = Vec::new();
        let report = salvage_dump(&s, DumpFormat::Jsonl, &mut out).unwrap();
        assert!(report.file.raw_keys, "{name}: {:?}", report.notes);
        assert!(
            report.notes.iter().any(|n| n.contains("found by carving")),
            "{name}: {:?}",
            report.notes
        );
        assert_eq!(report.damaged.len(), 1, "{name}: {:?}", report.damaged);
        assert_eq!(report.damaged[0].kind, "index");
        assert_eq!(String::from_utf8(out).unwrap(), expected(name), "{name}");
    }
}

/// A LevelDB bloom filter is built over whole raw keys by the table API, over user keys (the
/// trailer cut off) by a database: it tells the two apart (format-specs/sst.md §14.2).
#[test]
fn bloom_filter_tells_raw_from_internal_keys() {
    for (name, raw) in [("leveldb-raw-bloom", true), ("leveldb-snappy-bloom", false)] {
        let path = common::corpus_file(&format!("{name}.sst"));
        let bytes = std::fs::read(&path).unwrap();
        let t = open(&bytes, &path);
        assert!(t.data_blocks.len() > 2, "{name}");
        for d in &t.data_blocks {
            let c = t.read_data_block(d.handle).unwrap();
            assert_eq!(
                t.filter_says_raw(d.handle.offset, &c),
                Some(raw),
                "{name}: data block at {}",
                d.handle.offset
            );
        }
    }
    // No filter, no answer.
    let path = raw_table("leveldb-raw-snappy");
    let bytes = std::fs::read(&path).unwrap();
    let t = open(&bytes, &path);
    let d = &t.data_blocks[0];
    let c = t.read_data_block(d.handle).unwrap();
    assert_eq!(t.filter_says_raw(d.handle.offset, &c), None);
}
