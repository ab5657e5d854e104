//! The verdict model every command states its findings with (format-specs/damage-report.md §2):
//! one [`Status`] per file (or directory), printed one way everywhere, and the [`Totals`] of a set of
//! them. `sst verify`, `sst salvage`, `check`, `salvage DIR` and `tidb export` all fill these, so an
//! "unverified" or "damaged" fact reads the same whatever command found it.

use serde::Serialize;

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
