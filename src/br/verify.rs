//! Auditing a BR backup's data files against what its backupmeta records (format-specs/br.md §5):
//! present, size, sha256 of the plaintext, every SST block checksum, and the key-value count and
//! byte total recomputed from the entries.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::meta::{Backup, Crypter, DataFile, File, MetaProblem};
use crate::sst::report::{Status, Totals};
use crate::sst::salvage::{FileReport, Salvage};

/// What the audit found for one data file.
#[derive(Clone, Debug, Serialize)]
pub struct DataFileCheck {
    pub name: String,
    pub cf: String,
    pub status: Status,
    pub size: u64,
    /// The size the backupmeta records.
    pub expected_size: u64,
    /// The key-value pairs and bytes the entries add up to (br.md §6.2), and what BR recorded.
    pub kvs: u64,
    pub expected_kvs: u64,
    pub bytes: u64,
    pub expected_bytes: u64,
    /// Whether the counts, the byte total and the CRC were compared with the record. Only where
    /// BR's rule for them is established and applies to this file (br.md §6.1-§6.2): RawKV
    /// backups of API V1 and V1TTL, and TxnKV/TiDB backups when the caller supplies the MVCC rule
    /// ([`TxnPairs`]: a pair counts once per user key, in the default file when the value is
    /// there, else in the write file).
    pub kvs_compared: bool,
    pub bytes_compared: bool,
    /// The recomputed CRC-64/XZ XOR of the pairs, when BR recorded one (non-zero) and the rule
    /// applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crc64xor: Option<u64>,
    pub expected_crc64xor: u64,
    /// The backupmeta records a sha256 for the file and it was compared.
    pub sha256_checked: bool,
    /// Whether it matched (`None`: not compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256_matches: Option<bool>,
    /// One line per disagreement with the backupmeta, or per unreadable part.
    pub problems: Vec<String>,
    /// The SST audit, block by block (format-specs/damage-report.md); absent when the file could
    /// not be read at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<FileReport>,
}

/// The audit of a whole backup.
#[derive(Clone, Debug, Serialize)]
pub struct BackupCheck {
    pub files: Vec<DataFileCheck>,
    /// Index files of the metadata that are missing or damaged (their data files are unknown).
    pub meta_problems: Vec<MetaProblem>,
    pub totals: Totals,
}

impl BackupCheck {
    /// Nothing wrong was found (files `ok` or `unverified`, metadata whole).
    pub fn clean(&self) -> bool {
        self.totals.all_clean() && self.meta_problems.is_empty()
    }
}

/// How the entries of a TxnKV/TiDB backup's data files become the pairs BR counted
/// (br.md §6.1-§6.2). The entries are TiKV MVCC records, so the rule lives above this layer
/// (`tikv::backup`).
/// A (raw key, value) pair as BR feeds it to its checksum.
pub type Pair = (Vec<u8>, Vec<u8>);

pub trait TxnPairs: Sync {
    /// The (raw key, value) pair BR counted for this entry of a file of column family `cf`; `None`
    /// when the entry is counted elsewhere (a Put whose value is in the default file) or not at
    /// all; `Err` when the entry does not decode.
    fn pair(&self, cf: &str, key: &[u8], value: &[u8]) -> Result<Option<Pair>, String>;
}

/// Audit every data file of `b`. `crypter` decrypts the files of an encrypted backup.
pub fn verify(b: &Backup, crypter: Option<&Crypter>) -> BackupCheck {
    verify_with(b, crypter, None)
}

/// [`verify`], with the rule that recomputes a TxnKV/TiDB backup's per-file counts and CRCs.
pub fn verify_with(
    b: &Backup,
    crypter: Option<&Crypter>,
    txn: Option<&dyn TxnPairs>,
) -> BackupCheck {
    use rayon::prelude::*;
    let mut files: Vec<DataFileCheck> = b
        .files
        .par_iter()
        .map(|f| check_file(b, f, crypter, txn))
        .collect();
    overlaps(b, &mut files);
    BackupCheck {
        totals: Totals::of(files.iter().map(|f| f.status)),
        files,
        meta_problems: b.problems.clone(),
    }
}

/// Files of one column family whose key ranges overlap hold some keys twice (br.md §5.3: a backup's
/// files cover disjoint ranges): each later file of such a pair gets a problem.
fn overlaps(b: &Backup, files: &mut [DataFileCheck]) {
    let mut order: Vec<usize> = (0..b.files.len()).collect();
    order.sort_by(|x, y| {
        let (a, c) = (&b.files[*x], &b.files[*y]);
        (&a.cf, &a.start_key, &a.name).cmp(&(&c.cf, &c.start_key, &c.name))
    });
    for w in order.windows(2) {
        let (p, n) = (&b.files[w[0]], &b.files[w[1]]);
        if p.cf == n.cf && (p.end_key.is_empty() || n.start_key < p.end_key) {
            let c = &mut files[w[1]];
            c.problems.push(format!(
                "its key range overlaps that of {} ({} CF): keys would be read twice",
                p.name, p.cf
            ));
            if c.status != Status::Unreadable {
                c.status = Status::Damaged;
            }
        }
    }
}

fn check_file(
    b: &Backup,
    f: &File,
    crypter: Option<&Crypter>,
    txn: Option<&dyn TxnPairs>,
) -> DataFileCheck {
    let mut c = DataFileCheck {
        name: f.name.clone(),
        cf: f.cf.clone(),
        status: Status::Unreadable,
        size: 0,
        expected_size: f.size,
        kvs: 0,
        expected_kvs: f.total_kvs,
        bytes: 0,
        expected_bytes: f.total_bytes,
        kvs_compared: false,
        bytes_compared: false,
        crc64xor: None,
        expected_crc64xor: f.crc64xor,
        sha256_checked: false,
        sha256_matches: None,
        problems: Vec::new(),
        table: None,
    };
    let data = match DataFile::open(b, f, crypter) {
        Ok(d) => d,
        Err(e) => {
            c.problems.push(e);
            return c;
        }
    };
    c.size = data.stored_len();
    if f.size != 0 && c.size != f.size {
        c.problems.push(format!(
            "{} bytes, the backupmeta records {} (truncated or replaced)",
            c.size, f.size
        ));
    }
    // A data file's sha256 covers the stored bytes (the ciphertext of an encrypted one), br.md §6.4.
    if !f.sha256.is_empty() {
        c.sha256_checked = true;
        let got = Sha256::digest(data.stored_bytes());
        c.sha256_matches = Some(got.as_slice() == f.sha256.as_slice());
        if got.as_slice() != f.sha256.as_slice() {
            c.problems.push(format!(
                "sha256 {} differs from the recorded {}",
                hex::encode(got),
                hex::encode(&f.sha256)
            ));
        }
    }
    let plan = Salvage::plan(data.bytes(), data.path());
    let rule = raw_rule(b, f);
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_XZ);
    let (mut kvs, mut bytes, mut xor) = (0u64, 0u64, 0u64);
    let txn = txn.filter(|_| !b.meta.is_raw_kv);
    let mut bad_entries = 0u64;
    let mut first_bad: Option<String> = None;
    let report = plan.visit_entries(|e, _| {
        if let Some(t) = txn {
            match t.pair(&f.cf, e.user_key, e.value) {
                Ok(Some((k, v))) => {
                    kvs += 1;
                    bytes += (k.len() + v.len()) as u64;
                    let mut d = crc.digest();
                    d.update(&k);
                    d.update(&v);
                    xor ^= d.finalize();
                }
                Ok(None) => {}
                Err(m) => {
                    bad_entries += 1;
                    first_bad.get_or_insert(format!("key {}: {m}", hex::encode(e.user_key)));
                }
            }
            return;
        }
        kvs += 1;
        let key = e.user_key.strip_prefix(b"z").unwrap_or(e.user_key);
        let value = match rule {
            Some(RawRule { ttl_bytes, .. }) => &e.value[..e.value.len().saturating_sub(ttl_bytes)],
            None => e.value,
        };
        bytes += (key.len() + value.len()) as u64;
        if rule.is_some_and(|r| r.crc) {
            let mut d = crc.digest();
            d.update(key);
            d.update(value);
            xor ^= d.finalize();
        }
    });
    c.kvs = kvs;
    c.bytes = bytes;
    // Verdicts made from bytes that changed under the reader are not evidence.
    if let Err(e) = data.check_intact() {
        c.problems.push(e.to_string());
        return c;
    }
    if let Some(m) = first_bad {
        c.problems.push(format!(
            "{bad_entries} entries are not TiKV MVCC records (first: {m})"
        ));
    }
    // TiKV has always counted a TxnKV file's pairs; a write file whose values all sit in the
    // default file records zeros, and is compared as such.
    if txn.is_some() {
        c.kvs_compared = true;
        c.bytes_compared = true;
        c.crc64xor = Some(xor);
    }
    if let Some(r) = rule {
        c.kvs_compared = f.total_kvs != 0;
        c.bytes_compared = f.total_bytes != 0;
        if r.crc {
            c.crc64xor = Some(xor);
        }
    }
    if report.file.status.is_clean() {
        if c.kvs_compared && kvs != f.total_kvs {
            c.problems.push(format!(
                "{kvs} key-value pairs, the backupmeta records {}",
                f.total_kvs
            ));
        }
        if c.bytes_compared && bytes != f.total_bytes {
            c.problems.push(format!(
                "{bytes} bytes of keys and values, the backupmeta records {}",
                f.total_bytes
            ));
        }
        if c.crc64xor.is_some_and(|x| x != f.crc64xor) {
            c.problems.push(format!(
                "crc64xor {xor:016x}, the backupmeta records {:016x}",
                f.crc64xor
            ));
        }
    } else {
        c.problems.push(format!(
            "the table is {}: {} damaged regions (see its report)",
            report.file.status.label(),
            report.damaged.len()
        ));
    }
    c.status = if c.problems.is_empty() {
        report.file.status
    } else if report.file.status == Status::Unreadable {
        Status::Unreadable
    } else {
        Status::Damaged
    };
    c.table = Some(report);
    c
}

/// How BR counted a RawKV file's pairs (br.md §6.1-§6.2): the key without TiKV's `z`; the value as
/// stored, less the 8-byte TTL of API V1TTL when the CRC was computed (TiKV >= 6.1; older TiKV
/// recorded no CRC and counted the stored value).
#[derive(Clone, Copy)]
struct RawRule {
    ttl_bytes: usize,
    /// BR recorded a CRC to compare.
    crc: bool,
}

/// The rule for `f`, or `None` where it is not established (TxnKV, RawKV API V2).
fn raw_rule(b: &Backup, f: &File) -> Option<RawRule> {
    if !b.meta.is_raw_kv {
        return None;
    }
    let crc = f.crc64xor != 0;
    match b.meta.api_version {
        0 => Some(RawRule { ttl_bytes: 0, crc }),
        1 => Some(RawRule {
            ttl_bytes: if crc { 8 } else { 0 },
            crc,
        }),
        _ => None,
    }
}
