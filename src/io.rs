//! Read-only, memory-mapped access to input files. Inputs are never opened for writing.
//!
//! The bottom layer: everything above reads bytes through a [`Source`], and every slice handed out is
//! addressed by its absolute file offset so errors and reports can name the exact bytes.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{Error, Result};

pub mod scratch;
#[cfg(target_os = "linux")]
mod sigbus;
#[cfg(target_os = "linux")]
use sigbus::Guard;

/// Elsewhere mappings are not guarded: a file truncated under the reader still faults there.
#[cfg(not(target_os = "linux"))]
struct Guard;
#[cfg(not(target_os = "linux"))]
impl Guard {
    fn register(_start: *const u8, _len: usize) -> Option<Guard> {
        None
    }
    fn fault_offset(&self) -> Option<u64> {
        None
    }
}

enum Backing {
    Mapped {
        // Declared before `map` so it is dropped (unregistered) before the mapping is unmapped.
        guard: Option<Guard>,
        map: Mmap,
    },
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
    /// On Linux the mapping is guarded: if another process truncates the file while we read it (or
    /// the device fails to read a page), the read that faults is given a page of zeros instead of
    /// killing the process, and [`Source::check_intact`] reports it afterwards. Whoever reads a
    /// `Source` to a verdict must call `check_intact` before trusting the verdict.
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
            // SAFETY: the map is read-only (PROT_READ) and we never write through it. Another process
            // can still change the file under us, which breaks the promise of `&[u8]` that the bytes
            // do not change (why `Mmap::map` is unsafe): nothing here can prevent that. Every reader
            // treats the bytes as untrusted input (bounds-checked slices, validated structures), so
            // changed bytes give wrong data, which checksums and `check_intact` report, not memory
            // errors. Pages cut off by a truncation fault on access: on Linux the guard (module
            // `sigbus`) turns that into zero pages and a recorded fault; elsewhere it kills the
            // process, as the README says.
            let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, &e))?;
            Backing::Mapped {
                guard: Guard::register(map.as_ptr(), map.len()),
                map,
            }
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
            Backing::Mapped { map, .. } => map,
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
        if let Backing::Mapped { map, .. } = &self.backing {
            let _ = map.advise(memmap2::Advice::Sequential);
        }
    }

    /// The lowest file offset at which a read faulted because the bytes were no longer there (the
    /// file was truncated, or the device failed) and zeros were read instead. Cheap (no system
    /// call); always `None` for in-memory sources and where mappings are not guarded.
    pub fn fault_offset(&self) -> Option<u64> {
        match &self.backing {
            Backing::Mapped {
                guard: Some(g),
                map,
            } => g.fault_offset().map(|o| o.min(map.len() as u64)),
            _ => None,
        }
    }

    /// Whether everything read so far was read as the file was when it was opened: an I/O error
    /// naming the first byte that was not if a read faulted (see [`Source::fault_offset`]) or the
    /// file is now shorter than when it was mapped (bytes past the new end of a page read as zeros
    /// without faulting). Call it after reading a file to the end and before trusting the result;
    /// a file that changed under the reader gets this error as its verdict.
    pub fn check_intact(&self) -> Result<()> {
        if !matches!(self.backing, Backing::Mapped { .. }) {
            return Ok(());
        }
        let was = self.len();
        let fault = self.fault_offset();
        // The path, not a kept descriptor: many sources can be open at once. A file deleted since is
        // no change to the bytes we mapped.
        let now = std::fs::metadata(&self.path).ok().map(|m| m.len());
        let shrank = now.filter(|&n| n < was);
        let msg = match (fault, shrank) {
            (None, None) => return Ok(()),
            (Some(at), Some(now)) => format!(
                "the file shrank while being read (now {now} bytes, was {was}); reading byte {at} \
                 faulted and the bytes past the new end were read as zeros; copy the file and read \
                 the copy"
            ),
            (None, Some(now)) => format!(
                "the file shrank while being read (now {now} bytes, was {was}); bytes from {now} on \
                 may have been read as zeros; copy the file and read the copy"
            ),
            (Some(at), None) => format!(
                "reading byte {at} faulted (the file was truncated while being read, or the device \
                 reported an I/O error); the pages that faulted were read as zeros"
            ),
        };
        let first = fault.into_iter().chain(shrank).min().unwrap_or(0);
        Err(Error::io_at(&self.path, first, msg))
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

    /// A file of `blocks` blocks of 64 KiB of 0xAB (a multiple of every page size), its path and the
    /// block size.
    fn filled(dir: &Path, blocks: usize) -> (PathBuf, usize) {
        let page = 65536;
        let path = dir.join("f");
        std::fs::write(&path, vec![0xABu8; page * blocks]).unwrap();
        (path, page)
    }

    #[test]
    fn intact_file_checks_clean() {
        let dir = tempfile::tempdir().unwrap();
        let (path, page) = filled(dir.path(), 2);
        let src = Source::open(&path).unwrap();
        assert!(src.bytes().iter().all(|&b| b == 0xAB));
        assert_eq!(src.len(), 2 * page as u64);
        assert_eq!(src.fault_offset(), None);
        src.check_intact().unwrap();
        Source::from_vec("mem", vec![1, 2, 3])
            .check_intact()
            .unwrap();
    }

    #[test]
    fn growth_is_not_a_change_to_what_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = filled(dir.path(), 1);
        let src = Source::open(&path).unwrap();
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.set_len(src.len() * 3).unwrap();
        src.check_intact().unwrap();
    }

    #[test]
    fn shrink_without_reading_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (path, page) = filled(dir.path(), 4);
        let src = Source::open(&path).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(page as u64).unwrap();
        let e = src.check_intact().unwrap_err();
        assert_eq!(e.offset, page as u64);
        assert_eq!(e.path.as_deref(), Some(path.as_path()));
        assert!(e.to_string().contains("shrank"), "{e}");
    }

    /// The file is truncated after it was mapped: reads past the new end fault, are given zeros, and
    /// the fault is recorded (on Linux; elsewhere the read would kill the process, so not tried).
    #[cfg(target_os = "linux")]
    #[test]
    fn reads_past_a_truncation_give_zeros_and_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (path, page) = filled(dir.path(), 4);
        let src = Source::open(&path).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        // Cut 100 bytes into the second block: the rest of that memory page reads as zeros without
        // faulting, every page after it faults.
        f.set_len(page as u64 + 100).unwrap();
        let first_fault = (page + 100).next_multiple_of(sigbus::page_size()) as u64;
        let b = src.bytes();
        assert!(b[..page + 100].iter().all(|&x| x == 0xAB));
        assert!(b[page + 100..].iter().all(|&x| x == 0));
        assert_eq!(src.fault_offset(), Some(first_fault));
        let e = src.check_intact().unwrap_err();
        // The first byte not read as it was: the new end (before the first fault).
        assert_eq!(e.offset, page as u64 + 100);
        let msg = e.to_string();
        assert!(
            msg.contains("shrank") && msg.contains(&format!("reading byte {first_fault}")),
            "{msg}"
        );
        // Reading again faults no more (the zero pages stay) and changes nothing.
        assert!(src.bytes()[3 * page..].iter().all(|&x| x == 0));
        assert_eq!(src.fault_offset(), Some(first_fault));
        drop(src);
        // The slot is free again: a new mapping of the file starts clean.
        let again = Source::open(&path).unwrap();
        assert_eq!(again.fault_offset(), None);
        again.check_intact().unwrap();
    }
}
