//! Typed errors. Every error that comes from reading a file carries the file path (once known) and the
//! absolute byte offset where the problem was found, so a user can go straight to the damaged bytes.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::codec::checksum::ChecksumType;

/// What went wrong, independent of where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The operating system refused an operation (open, stat, mmap).
    #[error("I/O error: {0}")]
    Io(String),
    /// A structure runs past the end of the data it lives in.
    #[error("truncated {what}: needs {needed} bytes but only {available} are there")]
    Truncated {
        what: &'static str,
        needed: u64,
        available: u64,
    },
    /// A varint ran off the end of its buffer or is longer than allowed.
    #[error("malformed varint in {0}")]
    BadVarint(&'static str),
    /// The file does not end with any known table magic number.
    #[error("not a RocksDB/LevelDB table: {0}")]
    NotATable(String),
    /// A format feature we recognise but do not decode (PlainTable, Xpress, custom compression...).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A stored checksum does not match the bytes it covers.
    #[error("checksum mismatch ({ctype}): stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        ctype: ChecksumType,
        stored: u32,
        computed: u32,
    },
    /// A compressed block could not be decompressed.
    #[error("{codec} decompression failed: {msg}")]
    Decompress { codec: String, msg: String },
    /// The bytes are readable but do not form a valid structure.
    #[error("corrupt {0}")]
    Corrupt(String),
}

/// An error with its location: file (when known) and absolute byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub path: Option<PathBuf>,
    pub offset: u64,
    pub kind: ErrorKind,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(offset: u64, kind: ErrorKind) -> Self {
        Error {
            path: None,
            offset,
            kind,
        }
    }
    pub fn corrupt(offset: u64, msg: impl Into<String>) -> Self {
        Self::new(offset, ErrorKind::Corrupt(msg.into()))
    }
    pub fn truncated(offset: u64, what: &'static str, needed: u64, available: u64) -> Self {
        Self::new(
            offset,
            ErrorKind::Truncated {
                what,
                needed,
                available,
            },
        )
    }
    pub fn varint(offset: u64, what: &'static str) -> Self {
        Self::new(offset, ErrorKind::BadVarint(what))
    }
    pub fn unsupported(offset: u64, msg: impl Into<String>) -> Self {
        Self::new(offset, ErrorKind::Unsupported(msg.into()))
    }
    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        Error {
            path: Some(path.to_path_buf()),
            offset: 0,
            kind: ErrorKind::Io(err.to_string()),
        }
    }
    /// An I/O error part way through a file: `offset` is the first byte that could not be read as it
    /// was (the file changed under the reader, or the device failed).
    pub fn io_at(path: &Path, offset: u64, msg: impl Into<String>) -> Self {
        Error {
            path: Some(path.to_path_buf()),
            offset,
            kind: ErrorKind::Io(msg.into()),
        }
    }
    /// Attach the file path if the error does not have one yet.
    pub fn in_file(mut self, path: &Path) -> Self {
        if self.path.is_none() {
            self.path = Some(path.to_path_buf());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{}: ", p.display())?;
        }
        match self.kind {
            ErrorKind::Io(_) => write!(f, "{}", self.kind),
            _ => write!(f, "at byte {}: {}", self.offset, self.kind),
        }
    }
}

impl std::error::Error for Error {}
