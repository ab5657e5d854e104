//! compare-repair: on damaged copies of corpus/db/multi-cf, count what RocksDB 11.8's own
//! RepairDB + a full scan recovers, against `rockrescue salvage` on the same copies, both checked
//! against RocksDB's final state of the intact database (`multi-cf.<cf>.expected.jsonl`).
//! Prints a markdown table. (The corpus's merge operator is "concat": RocksDB resolves merges on
//! read; rockrescue's operands are applied here the same way before comparing.)
//!
//! Usage: cargo run -p rockrescue-oracle --release --bin compare-repair
use rockrescue::lsm::salvage::{salvage_db, DbSalvageOptions};
use rocksdb::{ColumnFamilyDescriptor, IteratorMode, MergeOperands, Options, DB};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CFS: [&str; 3] = ["default", "alpha", "blobs"];

fn concat(_key: &[u8], existing: Option<&[u8]>, ops: &MergeOperands) -> Option<Vec<u8>> {
    let mut v = existing.map(|e| e.to_vec()).unwrap_or_default();
    for op in ops {
        v.extend_from_slice(op);
    }
    Some(v)
}

fn opts() -> Options {
    let mut o = Options::default();
    o.set_merge_operator_associative("concat", concat);
    o.create_if_missing(false);
    o.create_missing_column_families(true);
    o
}

type State = BTreeMap<String, BTreeMap<String, String>>;

fn expected(corpus: &Path) -> State {
    CFS.iter()
        .map(|cf| {
            let t = std::fs::read_to_string(corpus.join(format!("multi-cf.{cf}.expected.jsonl")))
                .unwrap();
            let m = t
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    (
                        v["key"].as_str().unwrap().to_string(),
                        v["value"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (cf.to_string(), m)
        })
        .collect()
}

fn copy(src: &Path, dst: &Path) {
    let _ = std::fs::remove_dir_all(dst);
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dst.join(p.file_name().unwrap())).unwrap();
    }
}

fn repair_and_scan(dir: &Path) -> Result<State, String> {
    DB::repair(&opts(), dir).map_err(|e| e.to_string())?;
    let mut names = DB::list_cf(&opts(), dir).map_err(|e| e.to_string())?;
    for cf in CFS {
        if !names.iter().any(|n| n == cf) {
            names.push(cf.to_string());
        }
    }
    let db = DB::open_cf_descriptors(
        &opts(),
        dir,
        names.iter().map(|n| ColumnFamilyDescriptor::new(n, opts())),
    )
    .map_err(|e| e.to_string())?;
    let mut s = State::new();
    for cf in CFS {
        let h = db.cf_handle(cf).unwrap();
        let mut m = BTreeMap::new();
        for item in db.iterator_cf(&h, IteratorMode::Start) {
            match item {
                Ok((k, v)) => {
                    m.insert(hex::encode(k), hex::encode(v));
                }
                Err(_) => break,
            }
        }
        s.insert(cf.to_string(), m);
    }
    Ok(s)
}

fn rockrescue(dir: &Path, out: &Path) -> (State, std::collections::HashSet<(String, String)>) {
    let _ = std::fs::remove_dir_all(out);
    salvage_db(dir, out, &DbSalvageOptions::default()).unwrap();
    let mut suspect = std::collections::HashSet::new();
    let s = CFS
        .iter()
        .map(|cf| {
            let t = std::fs::read_to_string(out.join(format!("{cf}.jsonl"))).unwrap_or_default();
            let m = t
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let mut val = v["value"].as_str().unwrap_or("").to_string();
                    for op in v["merge_operands"].as_array().into_iter().flatten() {
                        val.push_str(op.as_str().unwrap());
                    }
                    if v["suspect"] == true {
                        suspect.insert((cf.to_string(), v["key"].as_str().unwrap().to_string()));
                    }
                    (v["key"].as_str().unwrap().to_string(), val)
                })
                .collect();
            (cf.to_string(), m)
        })
        .collect();
    (s, suspect)
}

/// (right, wrong, missing) against the expected state.
fn score(got: &State, want: &State) -> (usize, usize, usize) {
    let (mut right, mut wrong, mut missing) = (0, 0, 0);
    for (cf, w) in want {
        let g = got.get(cf).cloned().unwrap_or_default();
        for (k, v) in w {
            match g.get(k) {
                Some(x) if x == v => right += 1,
                Some(_) => wrong += 1,
                None => missing += 1,
            }
        }
        wrong += g.keys().filter(|k| !w.contains_key(*k)).count();
    }
    (right, wrong, missing)
}

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/db");
    let src = corpus.join("multi-cf");
    let want = expected(&corpus);
    let total: usize = want.values().map(|m| m.len()).sum();
    let work = std::env::temp_dir().join("rockrescue-compare-repair");
    let mut ssts: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sst"))
        .collect();
    ssts.sort();
    type Plant = Box<dyn Fn(&Path)>;
    let flip = |name: String, at: usize| -> Plant {
        Box::new(move |d: &Path| {
            let p = d.join(&name);
            let mut b = std::fs::read(&p).unwrap();
            let at = at.min(b.len() - 1);
            b[at] ^= 0x08;
            std::fs::write(&p, b).unwrap();
        })
    };
    let mut cases: Vec<(String, Plant)> = vec![("intact".into(), Box::new(|_: &Path| {}))];
    let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().to_string();
    cases.push((
        format!("bit flip in a data block of {} (L6)", name(&ssts[0])),
        flip(name(&ssts[0]), 300),
    ));
    cases.push((
        format!(
            "bit flip in a data block of {} (L0)",
            name(&ssts[ssts.len() - 1])
        ),
        flip(name(&ssts[ssts.len() - 1]), 300),
    ));
    cases.push((
        "MANIFEST deleted".into(),
        Box::new(|d: &Path| {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("MANIFEST-")
                {
                    std::fs::remove_file(p).unwrap();
                }
            }
        }),
    ));
    cases.push((
        "CURRENT deleted".into(),
        Box::new(|d: &Path| std::fs::remove_file(d.join("CURRENT")).unwrap()),
    ));
    cases.push((
        "bit flip in the WAL".into(),
        Box::new(|d: &Path| {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "log")
                    && std::fs::metadata(&p).unwrap().len() > 0
                {
                    let mut b = std::fs::read(&p).unwrap();
                    b[40] ^= 0x08;
                    std::fs::write(&p, b).unwrap();
                }
            }
        }),
    ));
    println!("| damage | expected keys | RepairDB + scan: right / wrong / missing | rockrescue salvage: right / wrong / missing | rockrescue keys marked suspect | rockrescue wrong and not marked |");
    println!("|---|---|---|---|---|---|");
    for (what, plant) in cases {
        let a = work.join("a");
        let b = work.join("b");
        copy(&src, &a);
        plant(&a);
        copy(&a, &b);
        let repaired = match repair_and_scan(&a) {
            Ok(s) => {
                let (r, w, m) = score(&s, &want);
                format!("{r} / {w} / {m}")
            }
            Err(e) => format!("failed: {}", e.chars().take(60).collect::<String>()),
        };
        let (s, suspect) = rockrescue(&b, &work.join("out"));
        let (r, w, m) = score(&s, &want);
        // Wrong values (or keys RocksDB no longer has) that are not marked suspect.
        let unmarked = want
            .iter()
            .flat_map(|(cf, wm)| {
                let g = s.get(cf).cloned().unwrap_or_default();
                let suspect = &suspect;
                g.into_iter()
                    .filter(move |(k, v)| {
                        wm.get(k) != Some(v) && !suspect.contains(&(cf.clone(), k.clone()))
                    })
                    .collect::<Vec<_>>()
            })
            .count();
        println!(
            "| {what} | {total} | {repaired} | {r} / {w} / {m} | {} | {unmarked} |",
            suspect.len()
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}
