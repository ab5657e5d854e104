//! TiDB export against the TiKV fixtures of corpus/tikv (written through RocksDB 11.8 by
//! oracle/src/bin/gen-tikv.rs, whose expected rows come from its own inputs, never from our
//! decoder): every table of every store alone and of the three-store merge, in CSV, SQL and JSON
//! lines, cell for cell.

#[path = "support/export_read.rs"]
mod export_read;
#[path = "support/tikv_expected.rs"]
mod tikv_expected;

use export_read::{compare, read_back};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tikv_expected::{expected_dir, stores, Cell};

use rockrescue::export::tidb::{export, TidbExportOptions, TidbExportReport, TidbFormat};
use rockrescue::tikv::region::MergeMode;

/// Export with the default merge (by region: every store of corpus/tikv has region metadata).
fn run(
    dirs: &[PathBuf],
    format: TidbFormat,
    include_dropped: bool,
) -> (tempfile::TempDir, TidbExportReport) {
    run_merge(dirs, format, include_dropped, None)
}

fn run_merge(
    dirs: &[PathBuf],
    format: TidbFormat,
    include_dropped: bool,
    merge: Option<MergeMode>,
) -> (tempfile::TempDir, TidbExportReport) {
    let opts = TidbExportOptions {
        format,
        include_dropped,
        merge,
        // The generators' expectations hold every table, system ones (mysql.tidb) included.
        include_system: true,
        ..TidbExportOptions::default()
    };
    export_into_tmp(dirs, &opts)
}

/// Export `dirs` into a fresh temporary directory (temporary files in its `.tmp`).
fn export_into_tmp(
    dirs: &[PathBuf],
    opts: &TidbExportOptions,
) -> (tempfile::TempDir, TidbExportReport) {
    let out = tempfile::tempdir().unwrap();
    let (rep, _) = export(
        dirs,
        Some(out.path()),
        &out.path().join(".tmp"),
        opts,
        &|_| {},
    )
    .unwrap();
    (out, rep)
}

/// One node's share of an export plan (`tidb export --plan`), system databases included.
fn node_export(
    d: &Path,
    plan: &rockrescue::export::plan::ExportPlan,
) -> (tempfile::TempDir, TidbExportReport) {
    let opts = TidbExportOptions {
        plan: Some(plan.clone()),
        include_system: true,
        ..TidbExportOptions::default()
    };
    export_into_tmp(&[d.to_path_buf()], &opts)
}

fn check(scenario: &str, dirs: &[PathBuf], merge: Option<MergeMode>) {
    let want = expected_dir(scenario);
    for format in [TidbFormat::Csv, TidbFormat::Sql, TidbFormat::Jsonl] {
        let (out, rep) = run_merge(dirs, format, false, merge);
        let got = read_back(out.path(), &rep, format, &want);
        compare(&format!("{scenario}/{format:?}"), &got, &want);
    }
}

#[test]
fn each_store_alone() {
    for s in ["store1", "store2", "store3"] {
        check(s, &stores(&[s]), None);
        check(s, &stores(&[s]), Some(MergeMode::Keys));
    }
}

/// The key-level merge: per key the newest commit in any store (the generator's `merged`).
#[test]
fn three_stores_merged_by_key() {
    check(
        "merged",
        &stores(&["store1", "store2", "store3"]),
        Some(MergeMode::Keys),
    );
}

/// By region (the default): store3 has the highest applied index of regions 2 and 6 and is read
/// alone there; region 4 (metrics.events), which store3 lacks, comes from store2. No store ran GC,
/// so this equals the key-level merge except for the planted same-ts conflict, where the
/// authoritative store3's bytes are used.
#[test]
fn three_stores_merged_by_region() {
    let mut want = expected_dir("merged");
    let s3 = expected_dir("store3");
    let emp = want.get_mut("hr.employees").unwrap();
    let mut replaced = 0;
    for row in emp.rows.iter_mut() {
        let theirs = s3["hr.employees"].rows.iter().find(|r| r[0] == row[0]);
        if let Some(t) = theirs.filter(|t| *t != row) {
            *row = t.clone();
            replaced += 1;
        }
    }
    assert_eq!(replaced, 1, "the planted conflict row");
    let dirs = stores(&["store1", "store2", "store3"]);
    for format in [TidbFormat::Csv, TidbFormat::Jsonl] {
        let (out, rep) = run(&dirs, format, false);
        assert_eq!(rep.merge, MergeMode::Regions);
        let got = read_back(out.path(), &rep, format, &want);
        compare(&format!("by region/{format:?}"), &got, &want);
        let r = rep.regions.as_ref().unwrap();
        assert_eq!((r.regions, r.ranges), (3, 3));
        assert!(r.lost.is_empty());
        let ranges: Vec<usize> = r.stores.iter().map(|s| s.ranges).collect();
        assert_eq!(ranges, vec![0, 1, 2]);
        // Stores 1 and 2 hold replicas of every range but are not read where store3 is.
        assert!(r.stores[0].unused_records > 0 && r.stores[1].unused_records > 0);
        assert_eq!(r.stores[2].unused_records, 0);
        assert!(r.stores.iter().all(|s| s.leftover_records == 0));
    }
}

/// Dropped and truncated tables, exported on request with their last schema, under dropped/.
#[test]
fn dropped_and_truncated_tables() {
    let want = expected_dir("dropped");
    let dirs = stores(&["store1", "store2", "store3"]);
    for format in [TidbFormat::Csv, TidbFormat::Sql] {
        let (out, mut rep) = run(&dirs, format, true);
        rep.tables.retain(|t| t.status != "live");
        let statuses: Vec<(String, String)> = rep
            .tables
            .iter()
            .map(|t| (t.table.clone(), t.status.clone()))
            .collect();
        assert_eq!(
            statuses,
            vec![
                ("old_stuff".to_string(), "dropped".to_string()),
                ("cart".to_string(), "truncated".to_string())
            ]
        );
        assert!(rep
            .tables
            .iter()
            .all(|t| t.files[0].starts_with("dropped/")));
        let got = read_back(out.path(), &rep, format, &want);
        compare(&format!("dropped/{format:?}"), &got, &want);
    }
    // Without the flag they are not exported.
    let (_, rep) = run(&dirs, TidbFormat::Csv, false);
    assert!(rep.tables.iter().all(|t| t.status == "live"));
}

fn expected_json(name: &str) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(tikv_expected::corpus().join("expected").join(name)).unwrap(),
    )
    .unwrap()
}

/// Pending locks are reported, never applied: the merge's set equals the generator's, and each
/// store alone reports the locks whose transaction it holds no commit or rollback of.
#[test]
fn pending_locks_are_reported() {
    let want = expected_json("locks.json");
    let key = |v: &serde_json::Value| {
        (
            v["key"].as_str().unwrap().to_string(),
            v["start_ts"].as_u64().unwrap(),
            v["primary"].as_str().unwrap().to_string(),
            v["type"].as_str().unwrap().to_string(),
        )
    };
    let mut expected: Vec<_> = want["merged_pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    expected.sort();
    let (_, rep) = run(
        &stores(&["store1", "store2", "store3"]),
        TidbFormat::Csv,
        false,
    );
    let mut got: Vec<_> = rep
        .pending_locks
        .iter()
        .map(|l| {
            (
                l.key.clone(),
                l.start_ts,
                l.primary.clone(),
                l.lock_type.clone(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(rep.pending_lock_count, expected.len() as u64);
    // Their primaries are all still locked (none of these transactions got further).
    assert!(rep
        .pending_locks
        .iter()
        .all(|l| l.primary_status.as_deref() == Some("locked")));
    let employees = rep.tables.iter().find(|t| t.table == "employees").unwrap();
    assert_eq!(employees.locked_rows, 2);
    for s in ["store1", "store2", "store3"] {
        let mut expected: Vec<_> = want["stores"][s]
            .as_array()
            .unwrap()
            .iter()
            .map(key)
            .collect();
        expected.sort();
        let (_, rep) = run(&stores(&[s]), TidbFormat::Csv, false);
        let mut got: Vec<_> = rep
            .pending_locks
            .iter()
            .map(|l| {
                (
                    l.key.clone(),
                    l.start_ts,
                    l.primary.clone(),
                    l.lock_type.clone(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, expected, "{s}");
    }
}

/// The planted conflict (same key and commit ts, different values in store2 and store3) is
/// reported with the store whose value was used; store3 lacks a whole table.
#[test]
fn divergence_between_stores() {
    let want = expected_json("divergence.json");
    let (_, rep) = run_merge(
        &stores(&["store1", "store2", "store3"]),
        TidbFormat::Csv,
        false,
        Some(MergeMode::Keys),
    );
    let d = &rep.divergence;
    assert_eq!(d.conflict_count, 1);
    let c = &d.conflicts[0];
    let w = &want["conflicts"][0];
    assert_eq!(c.key, w["key"].as_str().unwrap());
    assert_eq!(c.ts, w["commit_ts"].as_u64().unwrap());
    assert_eq!((c.used_store, c.other_stores.clone()), (1, vec![2]));
    // Every version store3 lacks is counted; it lacks more than the stores imaged later hold.
    assert!(d.versions_missing[2] > 0 && d.versions_missing[0] > 0);
    let events = rep.tables.iter().find(|t| t.table == "events").unwrap();
    assert_eq!(events.rows, 154);
}

fn damaged(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/tikv-damaged")
        .join(name)
}

/// corpus/tikv-damaged (corpus/tikv-damage.sh): store1 has a flipped byte in a write-CF data block,
/// store2 lost CURRENT and MANIFEST, store3's WAL is torn. The other stores hold what store1's
/// block lost, so with clean store3 the merge still equals the expectation exactly; the lost key
/// range is mapped to the tables it covers.
#[test]
fn damage_is_mapped_to_tables_and_replicas_fill_it() {
    let want = expected_dir("merged");
    let dirs = vec![
        damaged("store1"),
        damaged("store2"),
        tikv_expected::corpus().join("store3"),
    ];
    let (out, rep) = run_merge(&dirs, TidbFormat::Csv, false, Some(MergeMode::Keys));
    let got = read_back(out.path(), &rep, TidbFormat::Csv, &want);
    compare(
        "damaged store1 + store2 without MANIFEST + store3",
        &got,
        &want,
    );
    assert_eq!(rep.affected_tables.len(), 1);
    let a = &rep.affected_tables[0];
    assert_eq!((a.store, a.column_family.as_deref()), (0, Some("write")));
    let names: Vec<&str> = a.tables.iter().map(|t| t.table.as_str()).collect();
    assert!(names.contains(&"employees"), "{names:?}");
    assert!(rep.stores[1].notes.iter().any(|n| n.contains("MANIFEST")));

    // store1 alone: rows outside the lost range are exact; what differs is marked suspect or
    // missing from a table the report names.
    let want1 = expected_dir("store1");
    let (out, rep) = run(&[damaged("store1")], TidbFormat::Csv, false);
    let got = read_back(out.path(), &rep, TidbFormat::Csv, &want1);
    let affected: Vec<String> = rep.affected_tables[0]
        .tables
        .iter()
        .map(|t| format!("{}.{}", t.db, t.table))
        .collect();
    for (name, w) in &want1 {
        let g = &got[name];
        let extra = g.rows.iter().filter(|r| !w.rows.contains(r)).count() as u64;
        let missing = w.rows.iter().filter(|r| !g.rows.contains(r)).count();
        let t = rep
            .tables
            .iter()
            .find(|t| format!("{}.{}", t.db, t.table) == *name)
            .unwrap();
        assert!(
            extra <= t.suspect_rows,
            "{name}: {extra} rows differ, {} suspect",
            t.suspect_rows
        );
        assert!(
            missing == 0 || affected.contains(name),
            "{name}: {missing} rows lost but not reported"
        );
    }
}

/// store3 written with checksum type none (`gen-tikv --no-checksum`): every row still equals the
/// expectation, and every row read from its tables is counted unverified, since no checksum vouches
/// for their records.
#[test]
fn rows_from_tables_without_checksums_are_unverified() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/tikv-nochecksum/store3");
    let want = expected_dir("store3");
    let (out, rep) = run(&[dir], TidbFormat::Csv, false);
    let got = read_back(out.path(), &rep, TidbFormat::Csv, &want);
    compare("store3 without checksums", &got, &want);
    let rows: u64 = rep.tables.iter().map(|t| t.rows).sum();
    let unverified: u64 = rep.tables.iter().map(|t| t.unverified_rows).sum();
    assert!(rows > 100);
    for t in &rep.tables {
        assert!(t.unverified_rows <= t.rows, "{}.{}", t.db, t.table);
    }
    // Every row is unverified except those whose records all come from store3's WAL (the last
    // transactions of the history, a handful of rows), which its record checksums vouch for.
    assert!(
        unverified < rows && rows - unverified <= 10,
        "{unverified} of {rows} rows unverified"
    );
    let (_, rep) = run(&stores(&["store3"]), TidbFormat::Csv, false);
    assert!(rep.tables.iter().all(|t| t.unverified_rows == 0));
}

/// `tidb plan` + `tidb export --plan` on each store: the per-node outputs are disjoint and their
/// union is the single-machine export by region, row for row.
#[test]
fn plan_and_per_node_exports_equal_one_machine() {
    use rockrescue::export::plan::{make_plan, PlanOptions};
    let dirs = stores(&["store1", "store2", "store3"]);
    let tmp = tempfile::tempdir().unwrap();
    let plan = make_plan(&dirs, &tmp.path().join("t"), &PlanOptions::default()).unwrap();
    assert_eq!(plan.ranges.len(), 3);
    assert!(plan.lost.is_empty());
    assert!(!plan.meta.is_empty());
    // A round trip through the file.
    let text = serde_json::to_string(&plan).unwrap();
    let plan: rockrescue::export::plan::ExportPlan = serde_json::from_str(&text).unwrap();
    let (single_out, single) = run(&dirs, TidbFormat::Csv, false);
    let want = expected_dir("merged");
    let single_rows = read_back(single_out.path(), &single, TidbFormat::Csv, &want);
    let mut union: BTreeMap<String, Vec<Vec<Cell>>> = BTreeMap::new();
    let mut per_node_rows = Vec::new();
    for d in &dirs {
        let (out, rep) = node_export(d, &plan);
        per_node_rows.push(rep.tables.iter().map(|t| t.rows).sum::<u64>());
        for (name, t) in read_back(out.path(), &rep, TidbFormat::Csv, &want) {
            union.entry(name).or_default().extend(t.rows);
        }
    }
    // store1 owns no range; store2 owns region 4, store3 regions 2 and 6.
    assert_eq!(per_node_rows[0], 0);
    assert!(per_node_rows[1] > 0 && per_node_rows[2] > 0);
    for (name, t) in &single_rows {
        let mut got = union.remove(name).unwrap_or_default();
        let mut want = t.rows.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{name}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A copy of store3 with one byte flipped in the middle data block of its largest write-CF table.
fn damaged_store3(dir: &Path) -> PathBuf {
    use rockrescue::sst::salvage::Salvage;
    use rockrescue::sst::Table;
    let s3 = dir.join("store3");
    copy_dir(&tikv_expected::corpus().join("store3"), &s3);
    let mut best: Option<(u64, PathBuf)> = None;
    for e in std::fs::read_dir(s3.join("db")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "sst") {
            continue;
        }
        let b = std::fs::read(&p).unwrap();
        let cf = Salvage::plan(&b, &p).column_family().1;
        if cf.as_deref() == Some("write") && best.as_ref().is_none_or(|(n, _)| b.len() as u64 > *n)
        {
            best = Some((b.len() as u64, p));
        }
    }
    let (_, p) = best.unwrap();
    let mut b = std::fs::read(&p).unwrap();
    let off = {
        let t = Table::open(&b, &p).unwrap();
        let d = &t.data_blocks[t.data_blocks.len() / 2];
        (d.handle.offset + d.handle.size / 2) as usize
    };
    b[off] ^= 0x5a;
    std::fs::write(&p, b).unwrap();
    s3
}

/// The authoritative replica (store3) lost a write-CF data block: by region, that key range is read
/// from the next-best replica (store2) and its rows are suspect. With an export plan, store3's node
/// reports the range instead, and the refill plan exported on store2 yields it, suspect.
#[test]
fn damage_in_the_authoritative_replica_is_filled_from_the_next_best() {
    use rockrescue::export::plan::{make_plan, refill, PlanOptions};
    let tmp = tempfile::tempdir().unwrap();
    let s3 = damaged_store3(tmp.path());
    let s2 = tikv_expected::corpus().join("store2");
    let dirs = vec![s2.clone(), s3.clone()];
    let (_, rep) = run(&dirs, TidbFormat::Csv, false);
    let r = rep.regions.as_ref().unwrap();
    assert!(r.filled_records > 0, "nothing filled from store2");
    let suspect: u64 = rep.tables.iter().map(|t| t.suspect_rows).sum();
    assert!(suspect > 0);
    let a = rep.affected_tables.iter().find(|a| a.store == 1).unwrap();
    assert!(
        a.read,
        "store3's damage lies in ranges it is authoritative for"
    );

    let plan = make_plan(&dirs, &tmp.path().join("t"), &PlanOptions::default()).unwrap();
    let node = |d: &PathBuf, p: &rockrescue::export::plan::ExportPlan| node_export(d, p).1;
    let rep3 = node(&s3, &plan);
    let refills = &rep3.regions.as_ref().unwrap().refill;
    assert!(!refills.is_empty());
    assert!(refills
        .iter()
        .all(|f| f.store_id == 3 && f.next_store_ids == vec![2]));
    // Store3's own export of the damaged range has no suspect fill: it read only itself.
    assert_eq!(rep3.regions.as_ref().unwrap().filled_records, 0);
    let again = refill(&plan, refills);
    assert!(again
        .ranges
        .iter()
        .all(|r| r.suspect && r.store_ids[0] == 2));
    let rep2 = node(&s2, &again);
    let rows: u64 = rep2.tables.iter().map(|t| t.rows).sum();
    let suspect: u64 = rep2.tables.iter().map(|t| t.suspect_rows).sum();
    assert!(rows > 0);
    assert_eq!(rows, suspect, "every refilled row is suspect");
}

// ---- corpus/tikv-regions: replicas chosen by region (gen-tikv --regions) ----

fn regions_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/tikv-regions")
}

fn regions_stores() -> Vec<PathBuf> {
    ["store1", "store2", "store3", "store4"]
        .iter()
        .map(|s| regions_corpus().join(s))
        .collect()
}

fn regions_json() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(regions_corpus().join("expected/regions.json")).unwrap())
        .unwrap()
}

/// Four stores of one cluster imaged at different moments, after local GC, a split, a merge, a
/// moved region, an Applying replica and a lost region (corpus/README.md): by region, the export
/// equals the rows TiDB showed at the last commit (minus the lost range), in every format, with
/// no resurrected row and no dropped database.
#[test]
fn regions_fixture_by_region_has_no_resurrected_rows() {
    let want = tikv_expected::expected_dir_at(&regions_corpus(), "regions");
    let dirs = regions_stores();
    for format in [TidbFormat::Csv, TidbFormat::Sql, TidbFormat::Jsonl] {
        let (out, rep) = run(&dirs, format, false);
        assert_eq!(rep.merge, MergeMode::Regions);
        let got = read_back(out.path(), &rep, format, &want);
        compare(&format!("regions/{format:?}"), &got, &want);
        assert!(rep.databases.iter().all(|d| d.name != "gone" || d.dropped));
    }
    // Each resurrection candidate is absent.
    let (out, rep) = run(&dirs, TidbFormat::Csv, false);
    let got = read_back(out.path(), &rep, TidbFormat::Csv, &want);
    for r in regions_json()["resurrected"].as_array().unwrap() {
        let name = format!(
            "{}.{}",
            r["db"].as_str().unwrap(),
            r["table"].as_str().unwrap()
        );
        let handle = r["handle"].to_string().into_bytes();
        let back = got.get(&name).is_some_and(|t| {
            t.rows
                .iter()
                .any(|row| row[0].as_deref() == Some(&handle[..]))
        });
        assert!(!back, "{name} handle {} came back", r["handle"]);
    }
}

/// The key-level merge over the same stores brings the GC'd rows and the dropped database back,
/// exactly as the generator predicts: the fixture can tell the two merges apart.
#[test]
fn regions_fixture_by_key_resurrects() {
    let want = tikv_expected::expected_dir_at(&regions_corpus(), "keys");
    let dirs = regions_stores();
    let (out, rep) = run_merge(&dirs, TidbFormat::Csv, false, Some(MergeMode::Keys));
    let got = read_back(out.path(), &rep, TidbFormat::Csv, &want);
    compare("keys", &got, &want);
    assert!(rep.notes.iter().any(|n| n.contains("key by key")));
}

/// The region plan's choices, the stale leftovers, the Applying replica ranked last, and the lost
/// range mapped to both tables it touches.
#[test]
fn regions_fixture_report() {
    let v = regions_json();
    let (_, rep) = run(&regions_stores(), TidbFormat::Csv, false);
    let r = rep.regions.as_ref().unwrap();
    let store_ids: Vec<Option<u64>> = r.stores.iter().map(|s| s.identity.store_id).collect();
    let want_ids: Vec<Option<u64>> = v["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["store_id"].as_u64())
        .collect();
    assert_eq!(store_ids, want_ids);
    // store3 (id 5) holds only a Tombstone replica's leftovers and an Applying replica.
    assert!(r.stores[2].leftover_records > 0);
    assert_eq!(r.stores[2].ranges, 0);
    assert_eq!(r.lost.len(), 1);
    let lost = &r.lost[0];
    let want_lost = &v["lost"][0];
    assert_eq!(
        lost.start.to_lowercase(),
        want_lost["start"].as_str().unwrap()
    );
    assert_eq!(lost.end.to_lowercase(), want_lost["end"].as_str().unwrap());
    let mut ids: Vec<i64> = lost.tables.iter().map(|t| t.table_id).collect();
    ids.dedup();
    let want_ids: Vec<i64> = want_lost["table_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(ids, want_ids);
    let names: Vec<String> = lost.tables.iter().map(|t| t.table.clone()).collect();
    assert_eq!(names, vec!["orders", "notes"]);
    assert_eq!(lost.tables[0].handles_from.as_deref(), Some("61"));
    assert_eq!(lost.tables[1].handles_to.as_deref(), Some("11"));
}

/// `tikv regions` agrees with the generator on every region's authoritative store.
#[test]
fn regions_fixture_plan_matches_the_generator() {
    use rockrescue::tikv::region::{plan, read_stores_meta};
    let tmp = tempfile::tempdir().unwrap();
    let metas = read_stores_meta(&regions_stores(), tmp.path()).unwrap();
    let p = plan(&metas);
    let v = regions_json();
    for want in v["regions"].as_array().unwrap() {
        let id = want["region_id"].as_u64().unwrap();
        let c = p.regions.iter().find(|c| c.region_id == id).unwrap();
        let got = c.authoritative.and_then(|i| metas[i].store_id);
        assert_eq!(got, want["authoritative_store_id"].as_u64(), "region {id}");
    }
    // The metadata-only read sees what the full salvage sees.
    let (_, rep) = run(&regions_stores(), TidbFormat::Csv, false);
    let full: Vec<usize> = rep
        .regions
        .unwrap()
        .stores
        .iter()
        .map(|s| s.identity.regions)
        .collect();
    let quick: Vec<usize> = metas.iter().map(|m| m.replicas.len()).collect();
    assert_eq!(full, quick);
}

/// A store of another cluster is refused unless forced.
#[test]
fn regions_fixture_other_cluster_is_refused() {
    let mut dirs = regions_stores();
    dirs.push(regions_corpus().join("other-cluster"));
    let out = tempfile::tempdir().unwrap();
    let e = export(
        &dirs,
        Some(out.path()),
        &out.path().join(".tmp"),
        &TidbExportOptions::default(),
        &|_| {},
    )
    .unwrap_err();
    // store1 and other-cluster are both store id 1: refused before the cluster check.
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    let dirs = vec![
        regions_corpus().join("store2"),
        regions_corpus().join("other-cluster"),
    ];
    let e = export(
        &dirs,
        Some(out.path()),
        &out.path().join(".tmp"),
        &TidbExportOptions::default(),
        &|_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("different clusters"), "{e}");
    let forced = TidbExportOptions {
        force: true,
        ..TidbExportOptions::default()
    };
    assert!(export(
        &dirs,
        Some(out.path()),
        &out.path().join(".tmp"),
        &forced,
        &|_| {}
    )
    .is_ok());
}

/// `tidb plan` + per-node exports over the fixture: the union is the single-machine export.
#[test]
fn regions_fixture_plan_and_per_node_exports() {
    use rockrescue::export::plan::{make_plan, PlanOptions};
    let dirs = regions_stores();
    let want = tikv_expected::expected_dir_at(&regions_corpus(), "regions");
    let tmp = tempfile::tempdir().unwrap();
    let plan = make_plan(&dirs, &tmp.path().join("t"), &PlanOptions::default()).unwrap();
    assert_eq!(plan.lost.len(), 1);
    let mut union: BTreeMap<String, Vec<Vec<Cell>>> = BTreeMap::new();
    for d in &dirs {
        let (out, rep) = node_export(d, &plan);
        assert!(rep.databases.iter().all(|d| d.name != "gone" || d.dropped));
        for (name, t) in read_back(out.path(), &rep, TidbFormat::Csv, &want) {
            union.entry(name).or_default().extend(t.rows);
        }
    }
    for (name, t) in &want {
        let mut got = union.remove(name).unwrap_or_default();
        got.sort();
        let mut w = t.rows.clone();
        w.sort();
        assert_eq!(got, w, "{name}");
    }
}

/// TiDB's GC safe point is read from mysql.tidb (tidb.md §13) and printed; a read ts older than it
/// is warned about, one at or after it is not.
#[test]
fn regions_fixture_gc_safe_point() {
    let v = regions_json();
    let ts = v["gc_safe_point"].as_u64().unwrap();
    let text = v["gc_safe_point_text"].as_str().unwrap();
    let dirs = regions_stores();
    let (_, rep) = run(&dirs, TidbFormat::Csv, false);
    let sp = rep.gc_safe_point.as_ref().unwrap();
    assert_eq!((sp.text.as_str(), sp.ts), (text, Some(ts)));
    assert!(!rep.notes.iter().any(|n| n.contains("safe point")));
    for (read_ts, warned) in [(ts - 1, true), (ts, false)] {
        let out = tempfile::tempdir().unwrap();
        let opts = TidbExportOptions {
            read_ts,
            ..TidbExportOptions::default()
        };
        let (rep, _) = export(&dirs, None, &out.path().join(".tmp"), &opts, &|_| {}).unwrap();
        assert_eq!(
            rep.notes
                .iter()
                .any(|n| n.contains("older than TiDB's GC safe point")),
            warned,
            "read ts {read_ts}"
        );
    }
}

/// TiDB's system databases are not exported by default (as Dumpling): loading TiDB's `mysql`
/// tables into MySQL would overwrite the server's own. `--include-system` or `--db mysql` exports
/// them.
#[test]
fn system_databases_are_skipped_unless_asked_for() {
    let dirs = regions_stores();
    let (out, rep) = export_into_tmp(&dirs, &TidbExportOptions::default());
    assert!(rep.tables.iter().all(|t| t.db != "mysql"));
    assert!(!out.path().join("mysql.tidb.000000000.csv").exists());
    assert!(rep
        .notes
        .iter()
        .any(|n| n.contains("system database(s) mysql")));
    assert!(rep.databases.iter().any(|d| d.name == "mysql" && d.system));
    // The GC safe point is still read from it.
    assert!(rep.gc_safe_point.is_some());
    let opts = TidbExportOptions {
        db: Some("mysql".into()),
        ..TidbExportOptions::default()
    };
    let (_out, rep) = export_into_tmp(&dirs, &opts);
    assert_eq!(rep.tables.len(), 1);
    assert_eq!(rep.tables[0].rows, 6);
}
