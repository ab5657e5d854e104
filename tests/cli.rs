//! The command-line contract: human and JSON output (snapshots), exit codes 0 / 1 / 2.

use std::path::Path;
use std::process::{Command, Output};

fn rockrescue(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rockrescue"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run rockrescue")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

const TABLE: &str = "corpus/sst/fv5-range-del-flush.sst";

#[test]
fn info_human_and_json() {
    let o = rockrescue(&["sst", "info", TABLE]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("info_text", stdout(&o));
    let o = rockrescue(&["sst", "info", TABLE, "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    insta::assert_json_snapshot!("info_json", v);
}

#[test]
fn layout_lists_every_block_in_file_order() {
    let o = rockrescue(&["sst", "layout", TABLE]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("layout_text", stdout(&o));
    let o = rockrescue(&["sst", "layout", "--json", TABLE]);
    let v: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let offsets: Vec<u64> = v.iter().map(|b| b["offset"].as_u64().unwrap()).collect();
    assert!(
        offsets.windows(2).all(|w| w[0] < w[1]),
        "not in file order: {offsets:?}"
    );
    assert!(v.iter().all(|b| b["ok"] == true));
}

#[test]
fn verify_exit_codes_and_damage_report() {
    // Clean.
    let o = rockrescue(&["sst", "verify", "--deep", TABLE]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Damaged copy: one bit flipped in the first data block.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.sst");
    let mut bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(TABLE)).unwrap();
    bytes[20] ^= 1;
    std::fs::write(&bad, &bytes).unwrap();
    let o = rockrescue(&["sst", "verify", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o).replace(bad.to_str().unwrap(), "bad.sst");
    insta::assert_snapshot!("verify_damaged_text", text);
    let o = rockrescue(&["sst", "verify", "--json", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["status"], "damaged");
    assert_eq!(v["files"][0]["issues"][0]["offset"], 0);
    assert_eq!(v["totals"]["bad_blocks"], 1);
    // The dump goes on past the bad block and says so.
    let o = rockrescue(&["sst", "dump", "--format", "jsonl", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).replace(bad.to_str().unwrap(), "bad.sst");
    assert!(err.contains("damaged data at byte 0"), "{err}");
    // ... and writes the same report `sst salvage` writes.
    let rep = dir.path().join("report.json");
    let o = rockrescue(&[
        "sst",
        "dump",
        "--format",
        "jsonl",
        "--report",
        rep.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&rep).unwrap()).unwrap();
    assert_eq!(r["files"][0]["damaged"][0]["kind"], "data");
    assert_eq!(r["files"][0]["damaged"][0]["offset"], 0);
    // Usage and I/O errors.
    assert_eq!(
        rockrescue(&["sst", "verify", "/nonexistent/x.sst"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(rockrescue(&["sst", "frobnicate"]).status.code(), Some(2));
    assert_eq!(
        rockrescue(&[
            "sst",
            "verify",
            dir.path().join("empty-dir-none").to_str().unwrap()
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn dump_text_and_jsonl() {
    let o = rockrescue(&["sst", "dump", "--format", "text", TABLE]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("dump_text", stdout(&o));
    let o = rockrescue(&["sst", "dump", "--format", "jsonl", TABLE]);
    let want = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/sst/fv5-range-del-flush.expected.jsonl"),
    )
    .unwrap();
    assert_eq!(stdout(&o), want);
}

/// `sst salvage` on a table whose tail (footer, index, part of the data) is cut off: the entries
/// of the intact blocks come back, and the report and summary say what was lost.
#[test]
fn salvage_writes_entries_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(TABLE);
    let bytes = std::fs::read(&src).unwrap();
    let cut = dir.path().join("cut.sst");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let out = dir.path().join("out");
    let o = rockrescue(&[
        "sst",
        "salvage",
        cut.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let norm = |s: String| {
        s.replace(cut.to_str().unwrap(), "cut.sst")
            .replace(out.to_str().unwrap(), "out")
    };
    insta::assert_snapshot!("salvage_truncated_text", norm(stdout(&o)));
    let report = norm(std::fs::read_to_string(out.join("damage-report.json")).unwrap())
        .replace(env!("CARGO_PKG_VERSION"), "VERSION");
    insta::assert_snapshot!("salvage_truncated_report", report);
    // Every recovered line is one RocksDB wrote.
    let want = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/sst/fv5-range-del-flush.expected.jsonl"),
    )
    .unwrap();
    let want: std::collections::HashSet<&str> = want.lines().collect();
    let got = std::fs::read_to_string(out.join("cut.sst.jsonl")).unwrap();
    assert!(got.lines().count() > 100);
    for l in got.lines() {
        assert!(want.contains(l), "not in the original table: {l}");
    }
}

#[test]
fn help_has_examples() {
    for cmd in ["info", "layout", "verify", "dump", "salvage"] {
        let o = rockrescue(&["sst", cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(
            stdout(&o).contains("Examples:"),
            "sst {cmd} --help lacks examples"
        );
    }
    for sub in [["wal", "dump"], ["manifest", "dump"]] {
        let o = rockrescue(&[sub[0], sub[1], "--help"]);
        assert!(stdout(&o).contains("Examples:"), "{sub:?}");
    }
}

/// `check` on a copy of a RocksDB-written database with one table deleted: named, exit code 1.
#[test]
fn check_reports_a_missing_table() {
    let o = rockrescue(&["check", "corpus/db/multi-cf"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 errors, 0 warnings"));
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/db/multi-cf");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    std::fs::remove_file(dir.path().join("000029.sst")).unwrap();
    let o = rockrescue(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o).replace(dir.path().to_str().unwrap(), "DB");
    insta::assert_snapshot!("check_missing_table", text);
    assert!(rockrescue(&["check", "--help"])
        .stdout
        .starts_with(b"Validate"));
    assert_eq!(
        rockrescue(&["check", "/nonexistent"]).status.code(),
        Some(2)
    );
}

/// `manifest dump` of a RocksDB-written database directory, as a user sees it.
#[test]
fn manifest_dump_text() {
    let o = rockrescue(&["manifest", "dump", "corpus/db/multi-cf"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("manifest_dump_multi_cf", stdout(&o));
}

/// `wal dump` on a RocksDB-written WAL with one damaged record: the rest is printed, the damage is
/// named on stderr with its offset, exit code 1.
#[test]
fn wal_dump_reports_damage_and_goes_on() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/wal/wal-basic.log");
    let o = rockrescue(&["wal", "dump", "--format", "jsonl", src.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let all = stdout(&o).lines().count();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("000009.log");
    let mut bytes = std::fs::read(&src).unwrap();
    bytes[100] ^= 0x40;
    std::fs::write(&bad, &bytes).unwrap();
    let o = rockrescue(&["wal", "dump", "--format", "text", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).replace(bad.to_str().unwrap(), "000009.log");
    insta::assert_snapshot!("wal_dump_damaged_stderr", err);
    let n = stdout(&o).lines().count();
    assert!(n > 0 && n < all, "{n} of {all}");
}

/// The README's first command: three damaged TiKV stores exported; the summary names the affected
/// tables, the store without a MANIFEST and the torn WAL; listings of databases and tables.
#[test]
fn tidb_export_damaged_three_stores() {
    let out = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let stores: Vec<String> = (1..=3)
        .map(|i| format!("{root}/corpus/tikv-damaged/store{i}"))
        .collect();
    let mut args = vec!["tidb", "export"];
    args.extend(stores.iter().map(String::as_str));
    args.extend(["--out", out.path().to_str().unwrap()]);
    let o = rockrescue(&args);
    assert_eq!(o.status.code(), Some(1), "damage found");
    let text = stdout(&o)
        .replace(&format!("{root}/"), "")
        .replace(out.path().to_str().unwrap(), "OUT");
    insta::assert_snapshot!("tidb_export_damaged", text);
    let csv = std::fs::read_to_string(out.path().join("hr.departments.000000000.csv")).unwrap();
    insta::assert_snapshot!("tidb_export_departments_csv", csv);
    for f in [
        "report.json",
        "damage-report.json",
        "hr-schema-create.sql",
        "hr.departments-schema.sql",
    ] {
        assert!(out.path().join(f).exists(), "{f}");
    }
    insta::assert_snapshot!(
        "tidb_departments_schema",
        std::fs::read_to_string(out.path().join("hr.departments-schema.sql")).unwrap()
    );

    let mut args = vec!["tidb", "tables"];
    args.extend(stores.iter().map(String::as_str));
    args.push("--include-dropped");
    let o = rockrescue(&args);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("tidb_tables", stdout(&o));
    let mut args = vec!["tidb", "databases"];
    args.extend(stores.iter().map(String::as_str));
    let o = rockrescue(&args);
    insta::assert_snapshot!("tidb_databases", stdout(&o));
}

/// A directory without RocksDB files is a usage error that says what to give instead.
#[test]
fn tidb_export_refuses_a_directory_without_rocksdb_files() {
    let d = tempfile::tempdir().unwrap();
    let o = rockrescue(&[
        "tidb",
        "export",
        d.path().to_str().unwrap(),
        "--out",
        "/tmp/unused",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no RocksDB files"));
}

/// Nothing is ever written onto an input: an output or temporary directory inside, equal to, or
/// holding an input is refused with exit 2 before anything is created.
#[test]
fn outputs_on_an_input_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    std::fs::create_dir_all(&db).unwrap();
    for e in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/db/multi-cf")).unwrap()
    {
        let p = e.unwrap().path();
        std::fs::copy(&p, db.join(p.file_name().unwrap())).unwrap();
    }
    let before: Vec<_> = std::fs::read_dir(&db).unwrap().collect();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let sst = std::fs::read_dir(&db)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "sst"))
        .unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec!["salvage".into(), s(&db), "--out".into(), s(&db)],
        vec!["salvage".into(), s(&db), "--out".into(), s(&db.join("out"))],
        vec!["salvage".into(), s(&db), "--out".into(), s(t.path())],
        vec![
            "salvage".into(),
            s(&db),
            "--out".into(),
            s(&t.path().join("ok")),
            "--tmp-dir".into(),
            s(&db.join("tmp")),
        ],
        vec![
            "tidb".into(),
            "export".into(),
            s(&db),
            "--out".into(),
            s(&db.join("x")),
        ],
        vec![
            "tidb".into(),
            "export".into(),
            s(&db),
            "--out".into(),
            s(&t.path().join("ok2")),
            "--tmp-dir".into(),
            s(&db),
        ],
        vec![
            "sst".into(),
            "salvage".into(),
            s(&sst),
            "--out".into(),
            s(&db),
        ],
        vec![
            "sst".into(),
            "salvage".into(),
            s(&db),
            "--out".into(),
            s(&db.join("r")),
        ],
        vec![
            "sst".into(),
            "dump".into(),
            s(&sst),
            "--report".into(),
            s(&sst),
        ],
        vec![
            "sst".into(),
            "verify".into(),
            s(&db),
            "--report".into(),
            s(&db.join("r.json")),
        ],
    ];
    for args in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = rockrescue(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("refusing to use"), "{args:?}: {err}");
        assert_eq!(
            std::fs::read_dir(&db).unwrap().count(),
            before.len(),
            "{args:?} wrote into the input"
        );
    }
    assert!(!t.path().join("ok").exists() && !t.path().join("ok2").exists());
    // Through a symbolic link to the input: still refused.
    #[cfg(unix)]
    {
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        let o = rockrescue(&["salvage", &s(&db), "--out", &s(&link.join("o"))]);
        assert_eq!(o.status.code(), Some(2));
    }
    // Beside the input is fine.
    let o = rockrescue(&["salvage", &s(&db), "--out", &s(&t.path().join("rescued"))]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A table without checksums proves nothing: UNVERIFIED, counted apart, exit 0 when nothing else is
/// wrong; with a damaged table beside it the exit code is 1.
#[test]
fn verify_says_unverified_for_tables_without_checksums() {
    let t = "corpus/sst/fv7-nochecksum-none-4k.sst";
    let o = rockrescue(&["sst", "verify", t]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.starts_with("UNVERIFIED (no checksums) "), "{out}");
    assert!(
        out.contains("1 files: 0 ok, 1 unverified (no checksums); "),
        "{out}"
    );
    assert!(!out.contains("\nOK "));
    let o = rockrescue(&["sst", "verify", "--json", t, TABLE]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["status"], "unverified");
    assert_eq!(v["files"][1]["status"], "ok");
    assert_eq!(v["totals"]["unverified"], 1);
    assert_eq!(v["totals"]["ok"], 1);
    assert_eq!(o.status.code(), Some(0));

    // The salvage report says the same.
    let d = tempfile::tempdir().unwrap();
    let o = rockrescue(&["sst", "salvage", t, "--out", d.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("UNVERIFIED (no checksums) "));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("damage-report.json")).unwrap())
            .unwrap();
    assert_eq!(r["files"][0]["status"], "unverified");
    assert_eq!(r["totals"]["unverified"], 1);

    // Beside a damaged table: exit 1.
    let mut bad = std::fs::read(TABLE).unwrap();
    bad[100] ^= 1;
    let p = d.path().join("bad.sst");
    std::fs::write(&p, bad).unwrap();
    let o = rockrescue(&["sst", "verify", t, p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

/// An input that cannot be opened is an I/O error: exit 2 (format-specs/damage-report.md §7), and
/// the report still names it unreadable.
#[test]
fn salvage_of_a_missing_input_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let o = rockrescue(&[
        "sst",
        "salvage",
        TABLE,
        d.path().join("missing.sst").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("damage-report.json")).unwrap()).unwrap();
    assert_eq!(r["files"][0]["status"], "ok");
    assert_eq!(r["files"][1]["status"], "unreadable");
}

/// `tikv regions` on the three stores of corpus/tikv: every region's replicas ranked, the key space
/// covered (exit 0); store3 alone lacks region 4, whose range is then reported lost (exit 1);
/// the same store twice is refused (exit 2).
#[test]
fn tikv_regions_report_and_coverage() {
    let root = env!("CARGO_MANIFEST_DIR");
    let s = |i: u32| format!("{root}/corpus/tikv/store{i}");
    let (s1, s2, s3) = (s(1), s(2), s(3));
    let o = rockrescue(&["tikv", "regions", &s1, &s2, &s3]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("tikv_regions", stdout(&o).replace(&format!("{root}/"), ""));
    let o = rockrescue(&["tikv", "regions", &s3, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lost = v["lost"].as_array().unwrap();
    assert_eq!(lost.len(), 1);
    // Table 122's index keys (`t122_i...`) sort before its rows: the range reaches them.
    assert_eq!(lost[0]["table_ids"], serde_json::json!([121, 122]));
    assert_eq!(lost[0]["start"]["tidb"], "table 121 rows start");
    let o = rockrescue(&["tikv", "regions", &s1, &s1]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("both store 1"));
}

/// `tikv regions` over corpus/tikv-regions: a split, a merge, a Tombstone replica, an Applying one
/// behind, a lost range (exit 1); the human report is kept as a snapshot.
#[test]
fn tikv_regions_over_a_cluster_history() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dirs: Vec<String> = (1..=4)
        .map(|i| format!("{root}/corpus/tikv-regions/store{i}"))
        .collect();
    let mut args = vec!["tikv", "regions"];
    args.extend(dirs.iter().map(String::as_str));
    let o = rockrescue(&args);
    assert_eq!(o.status.code(), Some(1), "a lost range");
    insta::assert_snapshot!(
        "tikv_regions_history",
        stdout(&o).replace(&format!("{root}/"), "")
    );
}

/// `br verify` and `br export` on the generated backups: exit 0 when clean, 1 naming the damaged
/// file's table when not; the encrypted one needs its key.
#[test]
fn br_generated_verify_and_export_exit_codes() {
    let root = env!("CARGO_MANIFEST_DIR");
    let b = |d: &str| format!("{root}/corpus/br/{d}");
    let o = rockrescue(&["br", "verify", &b("v1")]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("7 tables recomputed from their data: 7 equal"));
    let o = rockrescue(&["br", "verify", &b("damaged-bitflip")]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.contains("holds table hr.employees"), "{text}");
    assert!(
        text.contains("TABLE       hr.employees: its data cannot be checked"),
        "{text}"
    );
    let o = rockrescue(&["br", "verify", &b("damaged-meta")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("TABLE       metrics.events: its data adds up to"));
    // Encrypted: refused without the key, clean with it.
    let o = rockrescue(&["br", "verify", &b("v2-encrypted")]);
    assert_eq!(o.status.code(), Some(2));
    let key = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    let o = rockrescue(&["br", "verify", &b("v2-encrypted"), "--crypter.key", key]);
    assert_eq!(o.status.code(), Some(0));
    let out = tempfile::tempdir().unwrap();
    let o = rockrescue(&[
        "br",
        "export",
        &b("v1"),
        "--out",
        out.path().to_str().unwrap(),
        "--db",
        "hr",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(out.path().join("hr.employees.000000000.csv").exists());
    assert!(!out.path().join("shop.orders.000000000.csv").exists());
    let o = rockrescue(&[
        "br",
        "export",
        &b("damaged-truncated"),
        "--out",
        out.path().join("d").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("shop.orders (id 102"));
}
