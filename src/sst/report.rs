//! The verdict model every command states its findings with (format-specs/damage-report.md §2):
//! one [`Status`] per file (or directory), printed one way everywhere, and the [`Totals`] of a set of
//! them. `sst verify`, `sst salvage`, `check`, `salvage DIR` and `tidb export` all fill these, so an
//! "unverified" or "damaged" fact reads the same whatever command found it.

use serde::Serialize;

use super::salvage::FileReport;
use super::verify::FileVerdict;
use crate::codec::checksum::ChecksumType;

/// The verdict on one file (or, for `check`, on a whole directory).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every block was read and every checksum matched.
    Ok,
    /// Every block was read, but no checksum vouches for the bytes (a table written with checksum
    /// type none, or entries only carving could place): nothing wrong was found, and nothing was
    /// proven either.
    Unverified,
    /// Some blocks are damaged; the rest was read.
    Damaged,
    /// Nothing could be read (the file cannot be opened, or holds no intact block).
    Unreadable,
    /// A format feature rockrescue recognises but does not decode.
    Unsupported,
}

impl Status {
    /// The word printed for this verdict in human output.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Unverified => "UNVERIFIED (no checksums)",
            Status::Damaged => "DAMAGED",
            Status::Unreadable => "UNREADABLE",
            Status::Unsupported => "UNSUPPORTED",
        }
    }

    /// Nothing wrong was found (the exit code may be 0): `Ok` or `Unverified`.
    pub fn is_clean(self) -> bool {
        matches!(self, Status::Ok | Status::Unverified)
    }

    /// `Ok` downgraded to `Unverified` when what was read had no checksum to check it by.
    pub fn unless_unverified(self, unverified: bool) -> Status {
        if self == Status::Ok && unverified {
            Status::Unverified
        } else {
            self
        }
    }
}

/// What every per-file verdict states first, in this order: which file, how big, the verdict, and
/// what kind of table it is. `sst verify`'s [`FileVerdict`] and the
/// damage report's [`FileReport`] both carry it (flattened into their
/// JSON), so the two state these facts identically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileFacts {
    pub path: String,
    pub size: u64,
    pub status: Status,
    /// `rocksdb` or `leveldb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<ChecksumType>,
    /// The table holds raw user keys, no sequence/type trailer (format-specs/sst.md §14.1): its
    /// entries are written with `"raw_key":true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub raw_keys: bool,
}

impl FileFacts {
    /// Nothing known yet about the file at `path` beyond its name (status `unreadable` until a
    /// reader says otherwise).
    pub fn new(path: &std::path::Path) -> FileFacts {
        FileFacts {
            path: path.display().to_string(),
            size: 0,
            status: Status::Unreadable,
            format: None,
            format_version: None,
            checksum_type: None,
            raw_keys: false,
        }
    }
}

/// How many files ended in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub files: u64,
    pub ok: u64,
    pub unverified: u64,
    pub damaged: u64,
    pub unreadable: u64,
    pub unsupported: u64,
}

impl Totals {
    /// Count one file.
    pub fn add(&mut self, s: Status) {
        self.files += 1;
        *match s {
            Status::Ok => &mut self.ok,
            Status::Unverified => &mut self.unverified,
            Status::Damaged => &mut self.damaged,
            Status::Unreadable => &mut self.unreadable,
            Status::Unsupported => &mut self.unsupported,
        } += 1;
    }

    /// The totals of `statuses`.
    pub fn of(statuses: impl IntoIterator<Item = Status>) -> Totals {
        let mut t = Totals::default();
        for s in statuses {
            t.add(s);
        }
        t
    }

    /// Every file was clean (`Ok` or `Unverified`).
    pub fn all_clean(&self) -> bool {
        self.ok + self.unverified == self.files
    }

    /// "N files: a ok, b unverified (no checksums), c damaged, ..." (the other statuses only when
    /// some file has them).
    pub fn line(&self) -> String {
        let mut s = format!("{} files: {} ok", self.files, self.ok);
        for (n, what) in [
            (self.unverified, "unverified (no checksums)"),
            (self.damaged, "damaged"),
            (self.unreadable, "unreadable"),
            (self.unsupported, "unsupported"),
        ] {
            if n > 0 {
                s.push_str(&format!(", {n} {what}"));
            }
        }
        s
    }
}

/// The damage report document (`damage-report.json`, format-specs/damage-report.md §1): every
/// file's report and their totals. Written by `sst salvage`, `sst dump --report` and
/// `sst verify --report`.
#[derive(Serialize)]
pub struct DamageReport<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    pub files: &'a [FileReport],
    pub totals: ReportTotals,
}

impl<'a> DamageReport<'a> {
    pub fn new(files: &'a [FileReport]) -> Self {
        DamageReport {
            tool: "rockrescue",
            version: env!("CARGO_PKG_VERSION"),
            files,
            totals: ReportTotals::of(files),
        }
    }

    /// Pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// Sums over a damage report's files (format-specs/damage-report.md §1).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ReportTotals {
    #[serde(flatten)]
    pub files: Totals,
    pub entries_recovered: u64,
    pub entries_unverified: u64,
    pub damaged_regions: u64,
    pub damaged_bytes: u64,
}

impl ReportTotals {
    pub fn of(reports: &[FileReport]) -> ReportTotals {
        let mut t = ReportTotals::default();
        for r in reports {
            t.files.add(r.file.status);
            t.entries_recovered += r.entries.recovered;
            t.entries_unverified += r.entries.unverified;
            t.damaged_regions += r.damaged.len() as u64;
            t.damaged_bytes += r.damaged.iter().map(|d| d.length).sum::<u64>();
        }
        t
    }
}

/// What `sst verify --json` prints: every file's verdict and their totals.
#[derive(Serialize)]
pub struct VerifyReport<'a> {
    pub files: &'a [FileVerdict],
    pub totals: VerifyTotals,
}

impl<'a> VerifyReport<'a> {
    pub fn new(files: &'a [FileVerdict]) -> Self {
        VerifyReport {
            files,
            totals: VerifyTotals::of(files),
        }
    }
}

/// Sums over `sst verify`'s verdicts.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct VerifyTotals {
    #[serde(flatten)]
    pub files: Totals,
    pub blocks: u64,
    pub bad_blocks: u64,
    pub bytes: u64,
}

impl VerifyTotals {
    pub fn of(verdicts: &[FileVerdict]) -> VerifyTotals {
        let mut t = VerifyTotals::default();
        for v in verdicts {
            t.files.add(v.file.status);
            t.blocks += v.blocks_total;
            t.bad_blocks += v.blocks_bad;
            t.bytes += v.file.size;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unverified_is_clean_but_counted_apart() {
        let t = Totals::of([Status::Ok, Status::Unverified, Status::Unverified]);
        assert_eq!((t.files, t.ok, t.unverified), (3, 1, 2));
        assert!(t.all_clean());
        let t = Totals::of([Status::Unverified, Status::Damaged]);
        assert!(!t.all_clean());
        assert_eq!(Status::Ok.unless_unverified(true), Status::Unverified);
        assert_eq!(Status::Damaged.unless_unverified(true), Status::Damaged);
        assert_eq!(Status::Ok.unless_unverified(false), Status::Ok);
        assert_eq!(
            t.line(),
            "2 files: 0 ok, 1 unverified (no checksums), 1 damaged"
        );
        assert_eq!(
            serde_json::to_string(&Status::Unverified).unwrap(),
            "\"unverified\""
        );
    }
}
