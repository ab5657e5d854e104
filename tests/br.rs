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
