#![no_main]
//! Damage to a whole database directory. The first byte picks the base: one time in sixteen the
//! committed multi-level database (corpus/db/levels: 17 tables on L0, L5 and L6, a WAL, the
//! MANIFEST and OPTIONS; 4.5 MB, so a few executions a second), otherwise the small one with
//! three column families and blob files (corpus/db/multi-cf, 184 KB). The rest is a list of
//! 8-byte edits to its files (flip bytes, cut the file short, zero a run, remove it); the files
//! left alone are symbolic links to the corpus.
//! Whole-database salvage must never panic or fail, must write each column family's keys in
//! strictly ascending order, and must write the same bytes and give the same report with one
//! thread as with three: the key ranges merged in parallel see the damage as one merge does.
use libfuzzer_sys::fuzz_target;
use rockrescue::lsm::salvage::{salvage_db, DbSalvageOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A base database's files: path and bytes.
type Base = Vec<(PathBuf, Vec<u8>)>;

fn load(name: &str) -> Base {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/db").join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus/db")
        .map(|e| e.expect("entry").path())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("corpus file");
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn base(levels: bool) -> &'static Base {
    static LEVELS: OnceLock<Base> = OnceLock::new();
    static MULTI_CF: OnceLock<Base> = OnceLock::new();
    if levels {
        LEVELS.get_or_init(|| load("levels"))
    } else {
        MULTI_CF.get_or_init(|| load("multi-cf"))
    }
}

/// A fresh scratch directory of this process.
fn scratch(what: &str) -> PathBuf {
    let tmp = Path::new("/dev/shm");
    let tmp = if tmp.is_dir() { tmp.to_path_buf() } else { std::env::temp_dir() };
    let d = tmp.join(format!("rockrescue-fuzz-db-{}-{what}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Salvage `dir` with `threads` threads: every output file's bytes, and the report as JSON.
fn salvage(dir: &Path, threads: usize) -> (BTreeMap<String, Vec<u8>>, String) {
    let out = scratch(&format!("out{threads}"));
    // One pool of each size for the whole run: a pool built and dropped per input leaves its
    // threads exiting after the input, which LeakSanitizer reports as their thread-local
    // destructor lists leaked.
    static POOLS: OnceLock<[rayon::ThreadPool; 2]> = OnceLock::new();
    let pools = POOLS.get_or_init(|| {
        let pool = |n| rayon::ThreadPoolBuilder::new().num_threads(n).build().expect("pool");
        [pool(1), pool(3)]
    });
    let pool = &pools[usize::from(threads > 1)];
    let rep = pool
        .install(|| salvage_db(dir, &out, &DbSalvageOptions::default()))
        .unwrap_or_else(|e| panic!("salvage failed: {e}"));
    let files = std::fs::read_dir(&out)
        .expect("output dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).expect("output")))
        .collect();
    let _ = std::fs::remove_dir_all(&out);
    (files, serde_json::to_string(&rep).expect("report as JSON"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let files = base(pick >= 240);
    // None: the file is removed.
    let mut edited: BTreeMap<usize, Option<Vec<u8>>> = BTreeMap::new();
    for e in data.chunks_exact(8) {
        let fi = e[0] as usize % files.len();
        let entry = edited.entry(fi).or_insert_with(|| Some(files[fi].1.clone()));
        let Some(bytes) = entry else { continue };
        if bytes.is_empty() {
            continue;
        }
        let off = u32::from_le_bytes([e[2], e[3], e[4], e[5]]) as usize % bytes.len();
        match e[1] % 4 {
            0 => bytes[off..]
                .iter_mut()
                .take(e[7] as usize % 16 + 1)
                .for_each(|b| *b ^= e[6].max(1)),
            1 => bytes.truncate(off),
            2 => bytes[off..]
                .iter_mut()
                .take((e[6] as usize + 1) << 4)
                .for_each(|b| *b = 0),
            _ => *entry = None,
        }
    }
    let dir = scratch("in");
    for (i, (from, _)) in files.iter().enumerate() {
        let path = dir.join(from.file_name().expect("a file name"));
        match edited.get(&i) {
            Some(Some(b)) => std::fs::write(&path, b).expect("write input"),
            Some(None) => {}
            None => std::os::unix::fs::symlink(from, &path).expect("link input"),
        }
    }
    let (one, rep1) = salvage(&dir, 1);
    let (three, rep3) = salvage(&dir, 3);
    let _ = std::fs::remove_dir_all(&dir);
    for (name, bytes) in &one {
        if !name.ends_with(".jsonl") {
            continue;
        }
        // Keys in strictly ascending order. Each line starts {"key":"<hex>"; lowercase hex keeps
        // the order of the bytes it encodes, so the hex strings are compared as they are.
        let mut last: Option<&[u8]> = None;
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let rest = line.strip_prefix(b"{\"key\":\"").expect("a line starting with the key");
            let end = rest.iter().position(|b| *b == b'"').expect("the key's end");
            let key = &rest[..end];
            assert!(last.is_none_or(|l| l < key), "{name}: keys out of order");
            last = Some(key);
        }
    }
    assert!(one == three, "other output with three threads");
    assert_eq!(rep1, rep3, "another report with three threads");
});
