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
    /// The key-value pairs and bytes the entries add up to (br.md §5.2), and what BR recorded.
    pub kvs: u64,
    pub expected_kvs: u64,
    pub bytes: u64,
    pub expected_bytes: u64,
    /// Whether `bytes` was compared with the record: only for RawKV backups, whose counting rule is
    /// established (br.md §5.2); a TxnKV file's byte total is shown, not judged.
    pub bytes_compared: bool,
    /// The backupmeta records a sha256 for the file and it was compared.
    pub sha256_checked: bool,
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

/// Audit every data file of `b`. `crypter` decrypts the files of an encrypted backup.
pub fn verify(b: &Backup, crypter: Option<&Crypter>) -> BackupCheck {
    use rayon::prelude::*;
    let files: Vec<DataFileCheck> = b
        .files
        .par_iter()
        .map(|f| check_file(b, f, crypter))
        .collect();
    BackupCheck {
        totals: Totals::of(files.iter().map(|f| f.status)),
        files,
        meta_problems: b.problems.clone(),
    }
}

fn check_file(b: &Backup, f: &File, crypter: Option<&Crypter>) -> DataFileCheck {
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
        bytes_compared: b.meta.is_raw_kv && f.total_bytes != 0,
        sha256_checked: false,
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
    let plain = data.bytes();
    if !f.sha256.is_empty() {
        c.sha256_checked = true;
        let got = Sha256::digest(plain);
        if got.as_slice() != f.sha256.as_slice() {
            c.problems.push(format!(
                "sha256 {} differs from the recorded {}",
                hex::encode(got),
                hex::encode(&f.sha256)
            ));
        }
    }
    let plan = Salvage::plan(plain, data.path());
    let (mut kvs, mut bytes) = (0u64, 0u64);
    let report = plan.visit_entries(|e, _| {
        kvs += 1;
        bytes += (stored_key_len(e.user_key) + e.value.len()) as u64;
    });
    c.kvs = kvs;
    c.bytes = bytes;
    if report.file.status.is_clean() {
        if f.total_kvs != 0 && kvs != f.total_kvs {
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

/// The key length BR counts: the key without TiKV's `z` data prefix (br.md §5.2).
fn stored_key_len(key: &[u8]) -> usize {
    key.strip_prefix(b"z").unwrap_or(key).len()
}
