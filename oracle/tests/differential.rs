//! Differential tests: real RocksDB (11.8.1, via the rocksdb crate and the
//! oracle shim) writes random tables, the oracle dumps them, and rockrescue's
//! own parser must produce exactly the same JSONL.
//!
//! The comparison with rockrescue uses
//! `rockrescue::export::dump::dump_file_jsonl(&Path) -> rockrescue::Result<String>`
//! and is compiled with the `compare` feature (on by default); with
//! `--no-default-features` the test still generates and oracle-dumps every
//! table (exercising the oracle itself).
//!
//! Environment: ROCKRESCUE_DIFF_SEED (default fixed), ROCKRESCUE_DIFF_TABLES
//! (default 100). Failing tables are kept under target/differential-failures/.
use rockrescue_oracle::gen::{self, text_value, CfSpec, Op, Rng};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

struct Table {
    options: String,
    sst_writer: bool,
    ops: Vec<Op>,
}

fn random_key(r: &mut Rng) -> Vec<u8> {
    match r.below(4) {
        0 => {
            let n = r.range(0, 24) as usize;
            r.bytes(n) // binary, possibly empty
        }
        1 => format!("k{:06}", r.below(5000)).into_bytes(),
        2 => format!("pre{:02}/{:x}", r.below(30), r.below(100_000)).into_bytes(),
        _ => {
            let mut k = format!("long-{:04}-", r.below(2000)).into_bytes();
            k.extend(std::iter::repeat_n(b'x', r.range(0, 200) as usize));
            k
        }
    }
}

fn random_value(r: &mut Rng, big_budget: &mut u32) -> Vec<u8> {
    match r.below(100) {
        0..=9 => Vec::new(),
        10..=11 if *big_budget > 0 => {
            *big_budget -= 1;
            let n = r.range(60_000, 200_000) as usize;
            if r.chance(1, 2) {
                r.bytes(n)
            } else {
                text_value(r, n)
            }
        }
        12..=30 => {
            let n = r.range(1, 100) as usize;
            r.bytes(n)
        }
        _ => {
            let n = r.range(1, 300) as usize;
            text_value(r, n)
        }
    }
}

fn random_options(r: &mut Rng) -> String {
    let fv = r.range(2, 7);
    let checksum = r.pick(&["kNoChecksum", "kCRC32c", "kxxHash", "kxxHash64", "kXXH3"]);
    let compression = *r.pick(&[
        "kNoCompression",
        "kSnappyCompression",
        "kZlibCompression",
        "kBZip2Compression",
        "kLZ4Compression",
        "kLZ4HCCompression",
        "kZSTD",
        "kZSTD+dict",
    ]);
    let block_size = match r.below(4) {
        0 => 256,
        1 => 4096,
        2 => 65536,
        _ => r.range(256, 65536),
    };
    let mut t = format!(
        "format_version={fv};checksum={checksum};block_size={block_size};block_restart_interval={};index_block_restart_interval={}",
        r.range(1, 32),
        r.range(1, 16)
    );
    let mut db = String::new();
    match r.below(5) {
        0 => {
            t += ";index_type=kHashSearch";
            db += "prefix_extractor=rocksdb.FixedPrefix.3;";
        }
        1 => {
            t += &format!(
                ";index_type=kTwoLevelIndexSearch;metadata_block_size={}",
                r.range(128, 4096)
            );
            if r.chance(1, 2) {
                t += ";partition_filters=true;filter_policy=bloomfilter:10:false";
            }
        }
        2 => t += ";index_type=kBinarySearchWithFirstKey",
        _ => t += ";index_type=kBinarySearch",
    }
    if !t.contains("filter_policy") {
        match r.below(3) {
            0 => t += ";filter_policy=bloomfilter:10:false",
            1 => t += ";filter_policy=ribbonfilter:10",
            _ => {}
        }
    }
    if r.chance(1, 4) {
        t += ";data_block_index_type=kDataBlockBinaryAndHash";
    }
    if compression == "kZSTD+dict" {
        db +=
            "compression=kZSTD;compression_opts={max_dict_bytes=4096;zstd_max_train_bytes=32768};";
    } else {
        db += &format!("compression={compression};");
    }
    format!("{db}block_based_table_factory={{{t}}}")
}

fn random_table(r: &mut Rng) -> Table {
    let options = random_options(r);
    let sst_writer = r.chance(1, 4);
    let n = r.range(1, 3000) as usize;
    let mut big = 2u32;
    let mut ops = Vec::new();
    if sst_writer {
        let mut keys: Vec<Vec<u8>> = (0..n).map(|_| random_key(r)).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            match r.below(10) {
                0 => ops.push(Op::Delete(k)),
                1 => ops.push(Op::Merge(k, random_value(r, &mut big))),
                _ => ops.push(Op::Put(k, random_value(r, &mut big))),
            }
        }
        for _ in 0..r.below(6) {
            let (mut a, mut b) = (random_key(r), random_key(r));
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            if a < b {
                ops.push(Op::DeleteRange(a, b));
            }
        }
    } else {
        // key -> "only one Put so far" (eligible for SingleDelete), or None once
        // it had anything else; single-deleted keys are never touched again.
        let mut hist: HashMap<Vec<u8>, bool> = HashMap::new();
        let mut sd_done: std::collections::HashSet<Vec<u8>> = Default::default();
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for _ in 0..n {
            let k = if !keys.is_empty() && r.chance(1, 3) {
                keys[r.below(keys.len() as u64) as usize].clone()
            } else {
                random_key(r)
            };
            if sd_done.contains(&k) {
                continue;
            }
            keys.push(k.clone());
            let roll = r.below(100);
            let single_put = hist.get(&k).copied();
            match roll {
                0..=4 => ops.push(Op::Snapshot),
                5..=14 => {
                    ops.push(Op::Delete(k.clone()));
                    hist.insert(k, false);
                }
                15..=19 if single_put == Some(true) => {
                    ops.push(Op::SingleDelete(k.clone()));
                    sd_done.insert(k);
                }
                20..=29 => {
                    ops.push(Op::Merge(k.clone(), random_value(r, &mut big)));
                    hist.insert(k, false);
                }
                30 => {
                    let mut e = random_key(r);
                    let mut s = k;
                    if s > e {
                        std::mem::swap(&mut s, &mut e);
                    }
                    if s < e {
                        ops.push(Op::DeleteRange(s, e));
                    }
                }
                _ => {
                    ops.push(Op::Put(k.clone(), random_value(r, &mut big)));
                    let first = !hist.contains_key(&k);
                    hist.insert(k, first);
                }
            }
        }
        if ops.iter().all(|o| !matches!(o, Op::Put(..))) {
            ops.push(Op::Put(b"at-least-one".to_vec(), b"v".to_vec()));
        }
    }
    Table {
        options,
        sst_writer,
        ops,
    }
}

fn write_table(dir: &Path, t: &Table) -> Result<Option<PathBuf>, String> {
    if t.sst_writer {
        let p = dir.join("w.sst");
        gen::write_sst_file_writer(&p, &t.options, &t.ops)?;
        Ok(Some(p))
    } else {
        let cf = CfSpec {
            name: "default".into(),
            options: t.options.clone(),
            ops: t.ops.clone(),
        };
        let files = gen::write_db_flush(&dir.join("db"), &t.options, &[cf])?;
        Ok(files.into_iter().next().map(|(_, p)| p))
    }
}

fn failures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/differential-failures")
}

#[cfg(feature = "compare")]
fn compare(path: &Path, expected: &str) -> Result<(), String> {
    let got = rockrescue::export::dump::dump_file_jsonl(path)
        .map_err(|e| format!("rockrescue failed: {e}"))?
        // Tables without checksums mark every entry unverified; RocksDB has no such mark.
        .replace(",\"unverified\":true", "");
    let (g, e): (Vec<&str>, Vec<&str>) = (got.lines().collect(), expected.lines().collect());
    for (i, (a, b)) in g.iter().zip(e.iter()).enumerate() {
        if a != b {
            return Err(format!(
                "line {}: rockrescue {a}\n          oracle     {b}",
                i + 1
            ));
        }
    }
    if g.len() != e.len() {
        return Err(format!(
            "rockrescue printed {} lines, oracle {}",
            g.len(),
            e.len()
        ));
    }
    Ok(())
}

#[cfg(not(feature = "compare"))]
fn compare(_path: &Path, _expected: &str) -> Result<(), String> {
    Ok(())
}

#[test]
fn random_tables_match_oracle() {
    let seed: u64 = std::env::var("ROCKRESCUE_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0F_0AC1E);
    let count: usize = std::env::var("ROCKRESCUE_DIFF_TABLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    if !cfg!(feature = "compare") {
        eprintln!("note: built without feature `compare`: only generating and oracle-dumping");
    }
    eprintln!("ROCKRESCUE_DIFF_SEED={seed} ROCKRESCUE_DIFF_TABLES={count}");
    let mut failures = Vec::new();
    let mut by_type: std::collections::BTreeMap<String, usize> = Default::default();
    let mut bytes = 0u64;
    for i in 0..count {
        let mut r = Rng::new(seed.wrapping_add(i as u64 * 0x1000_0001));
        let t = random_table(&mut r);
        let tmp = tempfile::tempdir().unwrap();
        let path = match write_table(tmp.path(), &t) {
            Ok(Some(p)) => p,
            Ok(None) => continue, // everything was dropped by the flush
            Err(e) => panic!("table {i}: RocksDB could not write it ({}): {e}", t.options),
        };
        let expected = rockrescue_oracle::dump_jsonl(&path)
            .unwrap_or_else(|e| panic!("table {i}: oracle failed ({}): {e}", t.options));
        assert!(!expected.is_empty(), "table {i}: empty oracle dump");
        bytes += std::fs::metadata(&path).unwrap().len();
        for l in expected.lines() {
            let t = l
                .split("\"type\":\"")
                .nth(1)
                .and_then(|x| x.split('"').next())
                .unwrap_or("?");
            *by_type.entry(t.to_string()).or_default() += 1;
        }
        if let Err(e) = compare(&path, &expected) {
            let keep = failures_dir();
            std::fs::create_dir_all(&keep).unwrap();
            let name = format!("seed{seed}-table{i}");
            std::fs::copy(&path, keep.join(format!("{name}.sst"))).unwrap();
            std::fs::write(keep.join(format!("{name}.expected.jsonl")), &expected).unwrap();
            failures.push(format!(
                "table {i} ({}, {}): {e}\n  kept as {}",
                if t.sst_writer {
                    "SstFileWriter"
                } else {
                    "DB flush"
                },
                t.options,
                keep.join(format!("{name}.sst")).display()
            ));
        }
    }
    eprintln!("{count} tables, {bytes} bytes, entries by type: {by_type:?}");
    assert!(
        failures.is_empty(),
        "{} of {count} tables differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/sst")
}

/// (name, expected_by) for every MANIFEST row.
fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv"))
        .expect("corpus/sst/MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f.get(2).unwrap_or(&"").to_string())
        })
        .collect()
}

/// Every corpus table is in the MANIFEST and has a non-empty expectation.
#[test]
fn corpus_is_complete() {
    let names: Vec<String> = manifest().into_iter().map(|(n, _)| n).collect();
    let mut on_disk = Vec::new();
    for e in std::fs::read_dir(corpus_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().map(|x| x == "sst").unwrap_or(false) {
            on_disk.push(p.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    on_disk.sort();
    let mut listed = names.clone();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "corpus/sst/*.sst and MANIFEST.tsv disagree"
    );
    for n in &names {
        let exp =
            std::fs::read_to_string(corpus_dir().join(format!("{n}.expected.jsonl"))).unwrap();
        assert!(!exp.trim().is_empty(), "{n}: empty expectation");
    }
}

/// The expectation files produced by the 11.8.1 oracle are what the oracle
/// says today.
#[test]
fn corpus_expectations_match_oracle() {
    let mut checked = 0;
    for (name, by) in manifest() {
        if !by.starts_with("oracle-dump") {
            continue;
        }
        let sst = corpus_dir().join(format!("{name}.sst"));
        let want =
            std::fs::read_to_string(corpus_dir().join(format!("{name}.expected.jsonl"))).unwrap();
        let got = rockrescue_oracle::dump_jsonl(&sst).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            got == want,
            "{name}: oracle output differs from {name}.expected.jsonl"
        );
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} oracle-checked corpus files");
}

/// rockrescue's dump of every corpus file equals its expectation.
#[cfg(feature = "compare")]
#[test]
fn corpus_matches_rockrescue() {
    let mut bad = Vec::new();
    for (name, _) in manifest() {
        let sst = corpus_dir().join(format!("{name}.sst"));
        let want =
            std::fs::read_to_string(corpus_dir().join(format!("{name}.expected.jsonl"))).unwrap();
        if let Err(e) = compare(&sst, &want) {
            bad.push(format!("{name}: {e}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} corpus files differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
