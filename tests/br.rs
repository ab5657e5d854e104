//! BR backups written by real BR (../shared/fixtures, see its README): metadata v1 and v2, the
//! encrypted v2 backupmeta, the RawKV backup.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::process::{Command, Output};

use fixtures::fixture;
use rockrescue::br::meta::{self, Crypter, MetaVersion};
use rockrescue::tidb::backup::catalog;

fn rockrescue(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rockrescue"))
        .args(args)
        .output()
        .expect("run rockrescue")
}

const TPCC: [(&str, i64); 9] = [
    ("customer", 123),
    ("district", 125),
    ("history", 127),
    ("item", 129),
    ("new_order", 131),
    ("order_line", 133),
    ("orders", 135),
    ("stock", 137),
    ("warehouse", 139),
];

fn key42() -> Crypter {
    Crypter::new(vec![0x42; 32]).unwrap()
}

/// The v1 backupmeta of BR 6.7 with TPC-C's schema: cluster, version, database tpcc (82) and its
/// nine tables with the ids the fixture README states.
#[test]
fn v1_backupmeta_lists_tpcc() {
    let Some(p) = fixture("br-meta-6.7/full-schema.meta") else {
        return;
    };
    let b = meta::open(&p, None).unwrap();
    assert_eq!(b.version, MetaVersion::V1);
    assert!(!b.encrypted && !b.meta.is_raw_kv);
    assert_eq!(b.meta.cluster_id, 7211076907329653533);
    assert_eq!(b.meta.end_version, 440689413714870273);
    assert!(b.files.is_empty() && b.problems.is_empty());
    let c = catalog(&b);
    assert!(c.problems.is_empty());
    assert_eq!(c.databases.len(), 1);
    assert_eq!(
        (c.databases[0].id, c.databases[0].name.as_str()),
        (82, "tpcc")
    );
    let got: Vec<(&str, i64)> = c.tables.iter().map(|t| (t.table.as_str(), t.id)).collect();
    assert_eq!(got, TPCC);
    assert!(c.tables.iter().all(|t| t.db == "tpcc"));
}

/// The same schema as an encrypted v2 backupmeta (AES-256-CTR, key 32 x 0x42): the top level
/// decrypts, the schema index file is found, checked by its sha256 and decrypted with its IV.
#[test]
fn encrypted_v2_backupmeta_lists_tpcc() {
    let Some(dir) = fixture("br-meta-6.7/v2-enc") else {
        return;
    };
    let b = meta::open(&dir, Some(&key42())).unwrap();
    assert_eq!(b.version, MetaVersion::V2);
    assert!(b.encrypted);
    assert_eq!(b.meta.cluster_id, 7211076907329653533);
    assert!(b.problems.is_empty(), "{:?}", b.problems);
    let c = catalog(&b);
    let got: Vec<(&str, i64)> = c.tables.iter().map(|t| (t.table.as_str(), t.id)).collect();
    assert_eq!(got, TPCC);
    // Without the key, or with another one, nothing is made up.
    assert!(meta::open(&dir, None).is_err());
    let wrong = Crypter::new(vec![0x41; 32]).unwrap();
    match meta::open(&dir, Some(&wrong)) {
        Err(_) => {}
        Ok(b) => assert!(b.schemas.is_empty() && !b.problems.is_empty()),
    }
}

/// The v1 and the encrypted v2 metadata describe the same tables: the CREATE statements agree.
#[test]
fn create_statements_from_v1_and_encrypted_v2_agree() {
    let (Some(v1), Some(v2)) = (
        fixture("br-meta-6.7/full-schema.meta"),
        fixture("br-meta-6.7/v2-enc"),
    ) else {
        return;
    };
    let a = rockrescue(&["br", "tables", v1.to_str().unwrap(), "--sql"]);
    assert_eq!(a.status.code(), Some(0));
    let key = "42".repeat(32);
    let b = rockrescue(&[
        "br",
        "tables",
        v2.to_str().unwrap(),
        "--sql",
        "--crypter.key",
        &key,
        "--crypter.method",
        "aes256-ctr",
    ]);
    assert_eq!(
        b.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    assert_eq!(a.stdout, b.stdout);
    let sql = String::from_utf8(a.stdout).unwrap();
    assert_eq!(sql.matches("CREATE TABLE").count(), 9);
    insta::assert_snapshot!("br_tpcc_schema", sql);
    // The encrypted backup without a key: exit 2 and a hint.
    let c = rockrescue(&["br", "databases", v2.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&c.stderr).contains("--crypter.key"));
    // A key of the wrong length for the method.
    let d = rockrescue(&[
        "br",
        "databases",
        v2.to_str().unwrap(),
        "--crypter.key",
        &key,
        "--crypter.method",
        "aes128-ctr",
    ]);
    assert_eq!(d.status.code(), Some(2));
}

/// The RawKV backup of BR 5.2: raw, one range [test, u) in CF default, two data files with the
/// sizes, counts and sha256 the backupmeta records.
#[test]
fn rawkv_backupmeta() {
    let Some(dir) = fixture("br-rawkv-5.2/sst") else {
        return;
    };
    let b = meta::open(&dir, None).unwrap();
    assert!(b.meta.is_raw_kv);
    assert_eq!(b.meta.cluster_id, 7017629392171242369);
    assert_eq!(b.raw_ranges.len(), 1);
    assert_eq!(
        (
            b.raw_ranges[0].start_key.as_slice(),
            b.raw_ranges[0].end_key.as_slice(),
            b.raw_ranges[0].cf.as_str()
        ),
        (&b"test"[..], &b"u"[..], "default")
    );
    assert_eq!(b.files.len(), 2);
    for f in &b.files {
        assert_eq!(
            (f.total_kvs, f.total_bytes, f.cf.as_str()),
            (500, 42500, "default")
        );
        let bytes = std::fs::read(dir.join(&f.name)).unwrap();
        assert_eq!(bytes.len() as u64, f.size);
        use sha2::Digest;
        assert_eq!(sha2::Sha256::digest(&bytes).as_slice(), f.sha256.as_slice());
    }
}

/// A temporary copy of a fixture backup directory (for damaging it; the fixture stays read-only).
fn copy_dir(src: &std::path::Path) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, t.path().join(p.file_name().unwrap())).unwrap();
    }
    t
}

/// The real RawKV backups (with and without TTL) verify clean: every block checksum, sha256, and
/// the counts and byte totals BR recorded.
#[test]
fn rawkv_backups_verify_clean() {
    for which in ["br-rawkv-5.2/sst", "br-rawkv-5.2/sst_ttl"] {
        let Some(dir) = fixture(which) else {
            return;
        };
        let b = meta::open(&dir, None).unwrap();
        let r = rockrescue::br::verify::verify(&b, None);
        assert!(r.clean(), "{which}: {:#?}", r.files);
        assert_eq!(r.totals.ok, 2);
        for f in &r.files {
            assert!(f.sha256_checked && f.bytes_compared);
            assert_eq!((f.kvs, f.bytes), (f.expected_kvs, f.expected_bytes));
        }
        let o = rockrescue(&["br", "verify", dir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0));
    }
}

/// Damaged copies: a flipped bit in a data block, a missing file, a truncated file, and a
/// backupmeta whose count disagrees. Each is named, with what differs; exit code 1.
#[test]
fn damaged_rawkv_backups_are_named() {
    let Some(dir) = fixture("br-rawkv-5.2/sst") else {
        return;
    };
    let b = meta::open(&dir, None).unwrap();
    let (first, second) = (b.files[0].name.clone(), b.files[1].name.clone());
    let check = |d: &std::path::Path| {
        let b = meta::open(d, None).unwrap();
        rockrescue::br::verify::verify(&b, None)
    };

    // A flipped bit inside the first data block.
    let t = copy_dir(&dir);
    let p = t.path().join(&first);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[100] ^= 0x08;
    std::fs::write(&p, &bytes).unwrap();
    let r = check(t.path());
    assert!(!r.clean());
    let f = r.files.iter().find(|f| f.name == first).unwrap();
    assert_eq!(f.status, rockrescue::sst::report::Status::Damaged);
    assert!(
        f.problems.iter().any(|p| p.contains("sha256")),
        "{:?}",
        f.problems
    );
    assert!(!f.table.as_ref().unwrap().damaged.is_empty());
    let g = r.files.iter().find(|f| f.name == second).unwrap();
    assert_eq!(g.status, rockrescue::sst::report::Status::Ok);
    let o = rockrescue(&["br", "verify", t.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("DAMAGED     {first}")), "{out}");

    // A missing file and a truncated one.
    let t = copy_dir(&dir);
    std::fs::remove_file(t.path().join(&first)).unwrap();
    let p = t.path().join(&second);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 100]).unwrap();
    let r = check(t.path());
    let f = r.files.iter().find(|f| f.name == first).unwrap();
    assert_eq!(f.status, rockrescue::sst::report::Status::Unreadable);
    assert!(f.problems[0].contains("missing"));
    let g = r.files.iter().find(|f| f.name == second).unwrap();
    assert!(g
        .problems
        .iter()
        .any(|p| p.contains("the backupmeta records")));
    assert_ne!(g.status, rockrescue::sst::report::Status::Ok);

    // A backupmeta whose count for one file disagrees with the file.
    use prost::Message;
    let t = copy_dir(&dir);
    let mut m = b.meta.clone();
    m.files[1].total_kvs = 499;
    std::fs::write(t.path().join("backupmeta"), m.encode_to_vec()).unwrap();
    let r = check(t.path());
    let g = r.files.iter().find(|f| f.name == second).unwrap();
    assert!(
        g.problems
            .iter()
            .any(|p| p == "500 key-value pairs, the backupmeta records 499"),
        "{:?}",
        g.problems
    );
    assert!(!r.clean());
}

/// `br export` of the real RawKV backups gives every pair exactly: the union of `sst_dump`'s scans
/// of the data files (../shared/fixtures/br-rawkv-5.2/expected-scan), keys without TiKV's `z`, in
/// key order; with TTL the stored value keeps its 8-byte expiry.
#[test]
fn rawkv_export_equals_sst_dump_scan() {
    let Some(root) = fixture("br-rawkv-5.2") else {
        return;
    };
    for which in ["sst", "sst_ttl"] {
        let dir = root.join(which);
        let b = meta::open(&dir, None).unwrap();
        let mut want: Vec<String> = Vec::new();
        for f in &b.files {
            let scan = std::fs::read_to_string(
                root.join("expected-scan").join(format!("{}.scan", f.name)),
            )
            .unwrap();
            for l in scan.lines().filter(|l| l.starts_with('\'')) {
                // 'KEYHEX' seq:0, type:1 => VALUEHEX
                let key = l[1..].split('\'').next().unwrap().to_ascii_lowercase();
                let value = l.rsplit("=> ").next().unwrap().trim().to_ascii_lowercase();
                let key = key.strip_prefix("7a").unwrap().to_string();
                want.push(format!("{{\"key\":\"{key}\",\"value\":\"{value}\"}}"));
            }
        }
        want.sort();
        assert_eq!(want.len(), 1000);
        let out = tempfile::tempdir().unwrap();
        let r = rockrescue::export::br::export_raw(&b, None, out.path()).unwrap();
        assert_eq!(r.column_families.len(), 1);
        assert_eq!(r.column_families[0].pairs, 1000);
        let got = std::fs::read_to_string(out.path().join("default.jsonl")).unwrap();
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(got, want, "{which}");
        if which == "sst_ttl" {
            assert!(got[0].ends_with("0000000062007c2b\"}"));
        }
    }
    // Never into the backup itself.
    let dir = root.join("sst");
    let b = meta::open(&dir, None).unwrap();
    assert!(rockrescue::export::br::export_raw(&b, None, &dir.join("out")).is_err());
}

/// The CRC rule (br.md §6.1) against vectors computed independently for the spec: the real RawKV
/// backups with the crc64xor TiKV >= 6.1 would have recorded written into their backupmeta (V1 for
/// `sst/`; V1TTL for `sst_ttl/`, whose 8 TTL bytes the CRC and byte total leave out).
#[test]
fn rawkv_crc64xor_is_recomputed() {
    use prost::Message;
    let Some(root) = fixture("br-rawkv-5.2") else {
        return;
    };
    let vector = |name: &str| {
        if name.starts_with("4_8_2_") || name.starts_with("5_8_2_") {
            0xcbdcfc2e03f4c2ae_u64
        } else {
            0xea42d1b05ab7daf5
        }
    };
    for (which, api, bytes) in [("sst", 0, 42500), ("sst_ttl", 1, 42500)] {
        let b = meta::open(&root.join(which), None).unwrap();
        let t = copy_dir(&root.join(which));
        let mut m = b.meta.clone();
        m.api_version = api;
        for f in &mut m.files {
            f.crc64xor = vector(&f.name);
            f.total_bytes = bytes;
        }
        std::fs::write(t.path().join("backupmeta"), m.encode_to_vec()).unwrap();
        let b = meta::open(t.path(), None).unwrap();
        let r = rockrescue::br::verify::verify(&b, None);
        assert!(r.clean(), "{which}: {:#?}", r.files);
        assert!(r.files.iter().all(|f| f.crc64xor == Some(vector(&f.name))));
        // One wrong bit in the record is named.
        m.files[0].crc64xor ^= 1;
        std::fs::write(t.path().join("backupmeta"), m.encode_to_vec()).unwrap();
        let b = meta::open(t.path(), None).unwrap();
        let r = rockrescue::br::verify::verify(&b, None);
        assert!(!r.clean());
        assert!(r.files[0]
            .problems
            .iter()
            .any(|p| p.starts_with("crc64xor ")));
    }
}

/// CRC-64/XZ's check value (br.md §6.1).
#[test]
fn crc64_is_xz() {
    let c = crc::Crc::<u64>::new(&crc::CRC_64_XZ);
    assert_eq!(c.checksum(b"123456789"), 0x995DC9BBDF1939FA);
    assert_eq!(c.checksum(b"hello world!"), 0x8483C0FA32607D61);
}

/// Table checksums against their files' records (br.md §6.3), on the real TPC-C schema with data
/// files and checksums written into a copy of its backupmeta: a table whose files add up to its
/// checksum matches, one whose file record was altered does not, one without a checksum is not
/// judged; a file in no table of the schema is counted apart.
#[test]
fn table_checksums_add_up_over_their_files() {
    use prost::Message;
    use rockrescue::br::meta::File;
    use rockrescue::tidb::backup::table_checksums;
    let Some(p) = fixture("br-meta-6.7/full-schema.meta") else {
        return;
    };
    let mut m = meta::open(&p, None).unwrap().meta;
    let key = |id: i64, tail: &[u8]| {
        let mut k = b"t".to_vec();
        k.extend_from_slice(&((id as u64) ^ (1 << 63)).to_be_bytes());
        k.extend_from_slice(tail);
        k
    };
    let file = |id: i64, tail: &[u8], crc: u64, kvs: u64| File {
        name: format!("{id}_{}.sst", hex::encode(tail)),
        start_key: key(id, tail),
        crc64xor: crc,
        total_kvs: kvs,
        total_bytes: kvs * 10,
        ..File::default()
    };
    // warehouse (139): record and index files; item (129): one file, its record altered below.
    m.files = vec![
        file(139, b"_r", 0x1111, 10),
        file(139, b"_i\x80\x00\x00\x00\x00\x00\x00\x01", 0x2222, 10),
        file(129, b"_r", 0x3333, 5),
        file(9999, b"_r", 0x4444, 1),
    ];
    for s in &mut m.schemas {
        let t: serde_json::Value = serde_json::from_slice(&s.table).unwrap();
        match t["id"].as_i64().unwrap() {
            139 => (s.crc64xor, s.total_kvs, s.total_bytes) = (0x1111 ^ 0x2222, 20, 200),
            129 => (s.crc64xor, s.total_kvs, s.total_bytes) = (0x3333 ^ 1, 5, 50),
            _ => {}
        }
    }
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("backupmeta"), m.encode_to_vec()).unwrap();
    let b = meta::open(t.path(), None).unwrap();
    let (tables, outside) = table_checksums(&b, &catalog(&b), None);
    assert_eq!(outside, 1);
    let get = |name: &str| tables.iter().find(|x| x.table == name).unwrap();
    assert_eq!(get("warehouse").matches, Some(true));
    assert_eq!(get("warehouse").files, 2);
    assert_eq!(get("item").matches, Some(false));
    assert_eq!(get("customer").matches, None);
    // The CLI says so and exits 1 (the data files are missing too).
    let o = rockrescue(&["br", "verify", t.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("TABLE       tpcc.item: its 1 files record"),
        "{out}"
    );
    assert!(out.contains("9 tables: 1 whose files add up"), "{out}");
}
