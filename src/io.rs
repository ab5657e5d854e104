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
