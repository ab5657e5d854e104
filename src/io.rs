//! Read-only, memory-mapped access to input files. Inputs are never opened for writing.
//!
//! The bottom layer: everything above reads bytes through a [`Source`], and every slice handed out is
//! addressed by its absolute file offset so errors and reports can name the exact bytes.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{Error, Result};

enum Backing {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

/// A whole input file (or an in-memory image of one), read-only.
pub struct Source {
    path: PathBuf,
    backing: Backing,
}

impl Source {
    /// Open `path` read-only and map it into memory.
    ///
    /// Mapping is safe for our purposes as long as nobody truncates the file while we read it; the tool
    /// is meant for files no longer in use by a running database, and README says so.
    pub fn open(path: &Path) -> Result<Source> {
        let file = File::open(path).map_err(|e| Error::io(path, &e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, &e))?;
        if !meta.is_file() {
            return Err(Error::io(
                path,
                &std::io::Error::other("not a regular file"),
            ));
        }
        let backing = if meta.len() == 0 {
            Backing::Owned(Vec::new())
        } else {
            // SAFETY: the map is read-only (PROT_READ) and private to this process; a concurrent
            // truncation by another process is the one hazard, documented above.
            let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, &e))?;
            Backing::Mapped(map)
        };
        Ok(Source {
            path: path.to_path_buf(),
            backing,
        })
    }

    /// An in-memory source, for tests, fuzzing and data that is already in RAM.
    pub fn from_vec(name: impl Into<PathBuf>, data: Vec<u8>) -> Source {
        Source {
            path: name.into(),
            backing: Backing::Owned(data),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Mapped(m) => m,
            Backing::Owned(v) => v,
        }
    }

    pub fn len(&self) -> u64 {
        self.bytes().len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hint that the file will be read front to back (helps readahead on large audits).
    pub fn advise_sequential(&self) {
        if let Backing::Mapped(m) = &self.backing {
            let _ = m.advise(memmap2::Advice::Sequential);
        }
    }

    /// The bytes `[offset, offset+len)`, or a truncation error naming what was being read.
    pub fn slice(&self, offset: u64, len: u64, what: &'static str) -> Result<&[u8]> {
        let total = self.len();
        match offset.checked_add(len) {
            Some(end) if end <= total => Ok(&self.bytes()[offset as usize..end as usize]),
            _ => Err(Error::truncated(
                offset,
                what,
                len,
                total.saturating_sub(offset),
            )),
        }
    }
}

/// An output (or temporary) path that would land on an input: inside it, equal to it, or holding it.
///
/// Writing onto the disk or directory being rescued can overwrite blocks that are still recoverable
/// (deleted SSTs, old WALs), and a later run would read the tool's own output as input. Every command
/// that writes checks its destinations with [`ensure_outside_inputs`] before it creates anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing to use {} as the {role}: it {relation} the input {}. Writing there could overwrite \
     what is still recoverable; choose a directory outside every input (ideally on another disk)",
    out.display(),
    input.display()
)]
pub struct UnsafeOutput {
    /// What the path is for ("output directory", "temporary directory", "report file"...).
    pub role: &'static str,
    pub out: PathBuf,
    pub input: PathBuf,
    /// "is", "lies inside" or "contains".
    pub relation: &'static str,
}

impl From<UnsafeOutput> for std::io::Error {
    fn from(e: UnsafeOutput) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// Refuse `out` when it is equal to, inside, or a parent of any of `inputs`. Paths are compared in
/// canonical form (symbolic links resolved, `..` removed); `out` need not exist yet, its nearest
/// existing ancestor is resolved instead.
pub fn ensure_outside_inputs<P: AsRef<Path>>(
    role: &'static str,
    out: &Path,
    inputs: &[P],
) -> std::result::Result<(), UnsafeOutput> {
    let o = canonical_lenient(out);
    for input in inputs {
        let i = canonical_lenient(input.as_ref());
        let relation = if o == i {
            "is"
        } else if o.starts_with(&i) {
            "lies inside"
        } else if i.starts_with(&o) {
            "contains"
        } else {
            continue;
        };
        return Err(UnsafeOutput {
            role,
            out: out.to_path_buf(),
            input: input.as_ref().to_path_buf(),
            relation,
        });
    }
    Ok(())
}

/// `path` made absolute with its longest existing prefix canonicalized and the rest (which does not
/// exist yet) normalized lexically.
fn canonical_lenient(path: &Path) -> PathBuf {
    use std::path::Component;
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    // Split into the longest prefix that exists and the components that do not.
    let mut base = abs.as_path();
    let mut rest = Vec::new();
    let canon = loop {
        if let Ok(c) = base.canonicalize() {
            break c;
        }
        match (base.parent(), base.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last.as_os_str().to_os_string());
                base = parent;
            }
            // Nothing exists at all: compare what is left lexically.
            _ => break PathBuf::new(),
        }
    };
    let mut out = canon;
    for name in rest.iter().rev() {
        for c in Path::new(name).components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other.as_os_str()),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_on_inputs_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("db");
        std::fs::create_dir_all(&db).unwrap();
        let sst = db.join("000001.sst");
        std::fs::write(&sst, b"x").unwrap();
        let inputs = [db.clone()];
        let rel = |out: &Path| {
            ensure_outside_inputs("output directory", out, &inputs).map_err(|e| e.relation)
        };
        assert_eq!(rel(&db), Err("is"));
        assert_eq!(rel(&db.join("out")), Err("lies inside"));
        assert_eq!(rel(&db.join("a/b/../c")), Err("lies inside"));
        assert_eq!(rel(&db.join("../db/x")), Err("lies inside"));
        assert_eq!(rel(t.path()), Err("contains"));
        assert_eq!(rel(&t.path().join("rescued")), Ok(()));
        assert_eq!(rel(&t.path().join("db-rescued")), Ok(()));
        // A file input: its directory is fine to name as a parent only when it does not hold it.
        let files = [sst.clone()];
        assert_eq!(
            ensure_outside_inputs("output directory", &db, &files).map_err(|e| e.relation),
            Err("contains")
        );
        assert!(ensure_outside_inputs("output directory", &t.path().join("o"), &files).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_resolved() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("db");
        std::fs::create_dir_all(&db).unwrap();
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        let e = ensure_outside_inputs("output directory", &link.join("out"), &[&db]).unwrap_err();
        assert_eq!(e.relation, "lies inside");
        let e = ensure_outside_inputs("output directory", &db.join("o"), &[&link]).unwrap_err();
        assert_eq!(e.relation, "lies inside");
        assert!(e.to_string().contains("refusing to use"));
    }
}
