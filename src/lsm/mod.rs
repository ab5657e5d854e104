//! LSM-tree logic over a database directory: the `check` validator. It reads CURRENT, replays the
//! MANIFEST, audits every live table, blob file and WAL, and checks the tree's invariants (levels,
//! key bounds, sequence ranges, orphans, options). See format-specs/manifest.md §5 (replay and the
//! final version) and §6 (OPTIONS).

pub mod merge;
pub mod options;
pub mod salvage;
mod stream;
#[cfg(feature = "to-rocksdb")]
pub mod to_rocksdb;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::ikey;
use crate::io::Source;
use crate::manifest::{self, FileMeta, Version};
use crate::sst::verify::{self, Status};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Data is lost or the database will not open.
    Error,
    /// Inconsistent but not lost (orphans, unexpected extra files).
    Warning,
    /// Worth knowing.
    Info,
}

/// One thing `check` found.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier: current, manifest, missing_file, size_mismatch, table_damage,
    /// file_checksum, key_range, seq_range, level_overlap, duplicate_file, orphan_file,
    /// missing_blob_file, wal_damage, wal_order, options, unverified (a table without checksums),
    /// io_error (a file changed while it was read: it shrank, or a read faulted; see
    /// `Source::check_intact`).
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    pub message: String,
}

/// A live table as `check` saw it.
#[derive(Clone, Debug, Serialize)]
pub struct TableCheck {
    pub file: String,
    pub column_family: String,
    pub level: u32,
    pub size: u64,
    pub status: Status,
}

/// The result of checking a database directory.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub dir: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    pub column_families: Vec<String>,
    pub tables: Vec<TableCheck>,
    pub wals: Vec<String>,
    pub findings: Vec<Finding>,
}

fn finding(sev: Severity, kind: &str, file: Option<&Path>, msg: impl Into<String>) -> Finding {
    Finding {
        severity: sev,
        kind: kind.into(),
        file: file.map(|p| p.display().to_string()),
        offset: None,
        message: msg.into(),
    }
}

/// File number and kind from a DB file name (`000123.sst` -> (123, "sst")).
pub(crate) fn numbered(name: &str) -> Option<(u64, &str)> {
    let (stem, ext) = name.split_once('.')?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stem.parse().ok()?, ext))
}

/// A range-deletion sentinel largest key: the file's upper bound comes from a tombstone's end.
fn is_sentinel(k: &[u8]) -> bool {
    ikey::parse(k).is_some_and(|p| p.vtype == ikey::vtype::RANGE_DELETION)
}

/// Check one live table against its MANIFEST entry.
fn check_table(
    dir: &Path,
    cf: &str,
    level: u32,
    m: &FileMeta,
    cmp: ikey::UserComparator,
) -> (TableCheck, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut path = dir.join(format!("{:06}.sst", m.number));
    if !path.exists() {
        let ldb = dir.join(format!("{:06}.ldb", m.number));
        if ldb.exists() {
            path = ldb;
        }
    }
    let mut tc = TableCheck {
        file: path.display().to_string(),
        column_family: cf.to_string(),
        level,
        size: m.size,
        status: Status::Ok,
    };
    let src = match Source::open(&path) {
        Ok(s) => s,
        Err(e) => {
            tc.status = Status::Unreadable;
            findings.push(finding(
                Severity::Error,
                "missing_file",
                Some(&path),
                format!(
                    "live table of column family '{cf}' at L{level} ({} bytes) cannot be read: {}",
                    m.size, e.kind
                ),
            ));
            return (tc, findings);
        }
    };
    let bytes = src.bytes();
    if bytes.len() as u64 != m.size {
        findings.push(finding(
            Severity::Error,
            "size_mismatch",
            Some(&path),
            format!(
                "the MANIFEST records {} bytes, the file has {}",
                m.size,
                bytes.len()
            ),
        ));
    }
    if let (Some(sum), Some(func)) = (&m.file_checksum, &m.file_checksum_func) {
        if func == "FileChecksumCrc32c" {
            let got = hex::encode(crc32c::crc32c(bytes).to_be_bytes());
            if &got != sum {
                findings.push(finding(
                    Severity::Error,
                    "file_checksum",
                    Some(&path),
                    format!("whole-file CRC32C is {got}, the MANIFEST records {sum}"),
                ));
            }
        } else {
            findings.push(finding(
                Severity::Info,
                "file_checksum",
                Some(&path),
                format!("whole-file checksum function {func} is not one rockrescue computes"),
            ));
        }
    }
    let v = verify::verify_bytes(bytes, &path, true);
    tc.status = v.file.status;
    if v.file.status == Status::Unverified {
        findings.push(finding(
            Severity::Warning,
            "unverified",
            Some(&path),
            "written with checksum type none: every block was read, but no checksum can prove it intact",
        ));
    }
    for i in &v.issues {
        let mut f = finding(
            if i.unsupported {
                Severity::Warning
            } else {
                Severity::Error
            },
            "table_damage",
            Some(&path),
            format!("{}: {}", i.what, i.message),
        );
        f.offset = Some(i.offset);
        findings.push(f);
    }
    // Bounds from the deep audit's facts (no second decode of the table).
    if let (Some(stats), true) = (&v.stats, v.issues.is_empty()) {
        let has_range_dels = stats.range_deletions > 0;
        let ms = hex::decode(&m.smallest).unwrap_or_default();
        let ml = hex::decode(&m.largest).unwrap_or_default();
        let user = |k: &[u8]| ikey::parse(k).map_or(k.to_vec(), |p| p.user_key.to_vec());
        let s = stats
            .smallest_key
            .as_deref()
            .and_then(|h| hex::decode(h).ok());
        let l = stats
            .largest_key
            .as_deref()
            .and_then(|h| hex::decode(h).ok());
        if let (Some(s), Some(l)) = (&s, &l) {
            let below = cmp.compare_user(&user(s), &user(&ms)) == Some(Ordering::Less);
            let above = cmp.compare_user(&user(l), &user(&ml)) == Some(Ordering::Greater);
            let loose = !is_sentinel(&ml)
                && !has_range_dels
                && (s.as_slice() != ms.as_slice() || l.as_slice() != ml.as_slice());
            if below || above || loose {
                findings.push(finding(
                    Severity::Error,
                    "key_range",
                    Some(&path),
                    format!(
                        "holds keys {} .. {}, the MANIFEST records {} .. {}",
                        hex::encode(user(s)),
                        hex::encode(user(l)),
                        hex::encode(user(&ms)),
                        hex::encode(user(&ml))
                    ),
                ));
            }
        }
        if let (Some(lo), Some(hi), Some(mlo), Some(mhi)) = (
            stats.min_seq,
            stats.max_seq,
            m.smallest_seqno,
            m.largest_seqno,
        ) {
            if lo < mlo || hi > mhi {
                findings.push(finding(
                    Severity::Error,
                    "seq_range",
                    Some(&path),
                    format!("holds sequence numbers {lo}..{hi}, the MANIFEST records {mlo}..{mhi}"),
                ));
            }
        }
    }
    // Findings made from bytes that changed under the reader are not evidence: the I/O error alone.
    if let Err(e) = src.check_intact() {
        tc.status = Status::Unreadable;
        let mut f = finding(
            Severity::Error,
            "io_error",
            Some(&path),
            format!(
                "live table of column family '{cf}' at L{level} ({} bytes) cannot be read: {}",
                m.size, e.kind
            ),
        );
        f.offset = Some(e.offset);
        return (tc, vec![f]);
    }
    if findings.iter().any(|f| f.severity == Severity::Error) && tc.status.is_clean() {
        tc.status = Status::Damaged;
    }
    (tc, findings)
}

/// Check a database directory.
pub fn check_dir(dir: &Path, mut progress: impl FnMut(u64) + Send) -> CheckReport {
    let mut findings = Vec::new();
    let mut report = CheckReport {
        dir: dir.display().to_string(),
        status: Status::Ok,
        manifest: None,
        column_families: Vec::new(),
        tables: Vec::new(),
        wals: Vec::new(),
        findings: Vec::new(),
    };
    // Files on disk, by number.
    let mut on_disk: BTreeMap<u64, (String, PathBuf)> = BTreeMap::new();
    let mut manifests: Vec<PathBuf> = Vec::new();
    let mut options_files: Vec<(u64, PathBuf)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some((n, ext)) = numbered(&name) {
                on_disk.insert(n, (ext.to_string(), e.path()));
            } else if name.starts_with("MANIFEST-") {
                manifests.push(e.path());
            } else if let Some(n) = name.strip_prefix("OPTIONS-").and_then(|x| x.parse().ok()) {
                options_files.push((n, e.path()));
            }
        }
    } else {
        findings.push(finding(
            Severity::Error,
            "current",
            Some(dir),
            "the directory cannot be read",
        ));
    }
    // CURRENT, or the newest MANIFEST when CURRENT is unusable.
    let manifest_path = match manifest::current_manifest(dir) {
        Ok(p) if p.exists() => Some(p),
        Ok(p) => {
            findings.push(finding(
                Severity::Error,
                "current",
                Some(&dir.join("CURRENT")),
                format!("names {} which does not exist", p.display()),
            ));
            None
        }
        Err(e) => {
            findings.push(finding(
                Severity::Error,
                "current",
                Some(&dir.join("CURRENT")),
                e,
            ));
            None
        }
    }
    .or_else(|| {
        manifests.sort();
        let newest = manifests.last().cloned();
        if let Some(m) = &newest {
            findings.push(finding(
                Severity::Info,
                "current",
                Some(m),
                "using the newest MANIFEST in the directory instead",
            ));
        }
        newest
    });
    let Some(manifest_path) = manifest_path else {
        findings.push(finding(
            Severity::Error,
            "manifest",
            Some(dir),
            "no MANIFEST: the live file set is unknown (salvage can still read every table)",
        ));
        report.status = Status::Unreadable;
        report.findings = findings;
        return report;
    };
    report.manifest = Some(manifest_path.display().to_string());
    let replayed = Source::open(&manifest_path).and_then(|src| {
        let v = manifest::replay(src.bytes(), |_, _| {});
        src.check_intact().map(|()| v)
    });
    let version: Version = match replayed {
        Ok(v) => v,
        Err(e) => {
            findings.push(finding(
                Severity::Error,
                "manifest",
                Some(&manifest_path),
                e.kind.to_string(),
            ));
            report.status = Status::Unreadable;
            report.findings = findings;
            return report;
        }
    };
    for p in &version.problems {
        let mut f = finding(
            Severity::Error,
            "manifest",
            Some(&manifest_path),
            format!("{}: {}", p.kind, p.message),
        );
        f.offset = Some(p.offset);
        findings.push(f);
    }
    report.column_families = version
        .column_families
        .iter()
        .map(|c| c.name.clone())
        .collect();

    // Live tables: audit each in parallel.
    let mut jobs = Vec::new();
    let mut seen: HashMap<u64, String> = HashMap::new();
    for cf in &version.column_families {
        let cmp = cf.comparator.as_deref().map_or(
            ikey::UserComparator::Bytewise,
            ikey::UserComparator::from_name,
        );
        for (level, f) in &cf.files {
            if let Some(other) = seen.insert(f.number, cf.name.clone()) {
                findings.push(finding(
                    Severity::Error,
                    "duplicate_file",
                    None,
                    format!(
                        "table {:06} is live in column family '{other}' and '{}'",
                        f.number, cf.name
                    ),
                ));
            }
            jobs.push((cf.name.clone(), *level, f.clone(), cmp));
        }
    }
    let progress = std::sync::Mutex::new(&mut progress);
    let results: Vec<(TableCheck, Vec<Finding>)> = jobs
        .par_iter()
        .map(|(cf, level, f, cmp)| {
            let r = check_table(dir, cf, *level, f, *cmp);
            if let Ok(mut p) = progress.lock() {
                (*p)(f.size);
            }
            r
        })
        .collect();
    for (tc, fs) in results {
        report.tables.push(tc);
        findings.extend(fs);
    }

    // Level invariants: L1+ sorted and non-overlapping.
    for cf in &version.column_families {
        let cmp = cf.comparator.as_deref().map_or(
            ikey::UserComparator::Bytewise,
            ikey::UserComparator::from_name,
        );
        let mut by_level: BTreeMap<u32, Vec<&FileMeta>> = BTreeMap::new();
        for (l, f) in &cf.files {
            by_level.entry(*l).or_default().push(f);
        }
        for (level, files) in by_level.iter().filter(|(l, _)| **l > 0) {
            for w in files.windows(2) {
                let a_hi = w[0].largest_user_key();
                let b_lo = w[1].smallest_user_key();
                let a_largest = hex::decode(&w[0].largest).unwrap_or_default();
                let o = cmp.compare_user(&a_hi, &b_lo);
                if o == Some(Ordering::Greater)
                    || (o == Some(Ordering::Equal) && !is_sentinel(&a_largest))
                {
                    findings.push(finding(
                        Severity::Error,
                        "level_overlap",
                        None,
                        format!(
                            "column family '{}' L{level}: tables {:06} and {:06} overlap",
                            cf.name, w[0].number, w[1].number
                        ),
                    ));
                }
            }
        }
    }

    // Blob files, orphans.
    let live_tables: BTreeSet<u64> = version
        .column_families
        .iter()
        .flat_map(|c| c.files.iter().map(|(_, f)| f.number))
        .collect();
    let live_blobs: BTreeSet<u64> = version
        .column_families
        .iter()
        .flat_map(|c| c.blob_files.iter().map(|b| b.number))
        .collect();
    for n in &live_blobs {
        if !matches!(on_disk.get(n), Some((ext, _)) if ext == "blob") {
            findings.push(finding(
                Severity::Error,
                "missing_blob_file",
                Some(&dir.join(format!("{n:06}.blob"))),
                "a live blob file is missing",
            ));
        }
    }
    for (n, (ext, path)) in &on_disk {
        let orphan = match ext.as_str() {
            "sst" | "ldb" => !live_tables.contains(n),
            "blob" => !live_blobs.contains(n),
            _ => false,
        };
        if orphan {
            findings.push(finding(
                Severity::Warning,
                "orphan_file",
                Some(path),
                "not in the MANIFEST's live set (left by a crash or a failed compaction, or live in a lost \
                 MANIFEST): salvage can still read it",
            ));
        }
    }

    // WALs: every log at or after the oldest column family log number is replayed at open.
    let min_log = version
        .column_families
        .iter()
        .map(|c| c.log_number)
        .min()
        .unwrap_or(0)
        .max(version.min_log_number_to_keep);
    let mut last_seq_seen: Option<(u64, u64)> = None;
    for (n, (ext, path)) in &on_disk {
        if ext != "log" || *n < min_log {
            continue;
        }
        report.wals.push(path.display().to_string());
        let Ok(src) = Source::open(path) else {
            findings.push(finding(
                Severity::Error,
                "wal_damage",
                Some(path),
                "cannot be read",
            ));
            continue;
        };
        let sum = crate::wal::read_wal(src.bytes(), path, |_, _| {});
        if let Err(e) = src.check_intact() {
            let mut f = finding(Severity::Error, "io_error", Some(path), e.kind.to_string());
            f.offset = Some(e.offset);
            findings.push(f);
            continue;
        }
        for p in &sum.problems {
            let sev = if p.kind == "torn_tail" {
                Severity::Warning
            } else {
                Severity::Error
            };
            let mut f = finding(
                sev,
                "wal_damage",
                Some(path),
                format!("{}: {}", p.kind, p.message),
            );
            f.offset = Some(p.offset);
            findings.push(f);
        }
        if let (Some(first), Some((prev_n, prev_last))) = (sum.first_seq, last_seq_seen) {
            if first <= prev_last {
                findings.push(finding(
                    Severity::Error,
                    "wal_order",
                    Some(path),
                    format!(
                        "starts at sequence {first}, not after the end of WAL {prev_n:06} ({prev_last})"
                    ),
                ));
            }
        }
        if let Some(last) = sum.last_seq {
            last_seq_seen = Some((*n, last));
        }
    }
    for (n, synced) in &version.tracked_wals {
        let path = dir.join(format!("{n:06}.log"));
        match std::fs::metadata(&path) {
            Err(_) => findings.push(finding(
                Severity::Error,
                "wal_damage",
                Some(&path),
                "a WAL the MANIFEST tracks is missing",
            )),
            Ok(m) if synced.is_some_and(|s| m.len() < s) => findings.push(finding(
                Severity::Error,
                "wal_damage",
                Some(&path),
                format!(
                    "shorter ({} bytes) than the synced size the MANIFEST records",
                    m.len()
                ),
            )),
            Ok(_) => {}
        }
    }

    // OPTIONS: the newest file should describe the same column families and comparators.
    options_files.sort();
    if let Some((_, opt_path)) = options_files.last() {
        match std::fs::read_to_string(opt_path) {
            Ok(text) => {
                let opts = options::parse(&text);
                let in_opts: BTreeSet<&str> =
                    opts.column_families.keys().map(String::as_str).collect();
                let in_manifest: BTreeSet<&str> =
                    report.column_families.iter().map(String::as_str).collect();
                if in_opts != in_manifest {
                    findings.push(finding(
                        Severity::Warning,
                        "options",
                        Some(opt_path),
                        format!("names column families {in_opts:?}, the MANIFEST {in_manifest:?}"),
                    ));
                }
                for cf in &version.column_families {
                    let (Some(o), Some(m)) = (
                        opts.column_families
                            .get(&cf.name)
                            .and_then(|c| c.get("comparator")),
                        &cf.comparator,
                    ) else {
                        continue;
                    };
                    if o != m {
                        findings.push(finding(
                            Severity::Error,
                            "options",
                            Some(opt_path),
                            format!(
                                "column family '{}': comparator {o}, the MANIFEST says {m}",
                                cf.name
                            ),
                        ));
                    }
                }
            }
            Err(e) => findings.push(finding(
                Severity::Warning,
                "options",
                Some(opt_path),
                e.to_string(),
            )),
        }
    }

    findings.sort_by(|a, b| {
        (a.severity, &a.kind, &a.file, a.offset).cmp(&(b.severity, &b.kind, &b.file, b.offset))
    });
    report.status = if findings.iter().any(|f| f.severity == Severity::Error) {
        Status::Damaged
    } else {
        // Clean, but a table without checksums proves nothing: the directory is unverified too.
        Status::Ok.unless_unverified(report.tables.iter().any(|t| t.status == Status::Unverified))
    };
    report.findings = findings;
    report
}
