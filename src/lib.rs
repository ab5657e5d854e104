//! rockrescue: read RocksDB's on-disk files with our own code to audit every checksum and salvage
//! what survives.
//!
//! Layers, lowest first (a layer only uses the ones below it):
//! - [`io`]: read-only memory-mapped sources with offset-carrying, bounds-checked slices;
//! - [`codec`]: varints, checksums, decompression;
//! - [`ikey`], [`sst`], [`log`], [`wal`], [`manifest`], [`blob`] and [`br`]: file formats
//!   (internal keys, block-based tables, the log framing of WALs and MANIFESTs, write batches,
//!   version edits, blob files, BR backup metadata);
//! - [`lsm`]: the database level (the `check` validator, whole-database salvage, OPTIONS);
//! - [`tikv`] and [`tidb`]: TiKV's layout on top of RocksDB (key codecs, MVCC records) and TiDB's
//!   keys inside it;
//! - [`export`]: output formats (the JSONL/text dump contracts).
//!
//! The CLI (`src/cli`) is a thin layer over these.

pub mod blob;
pub mod br;
pub mod codec;
pub mod error;
pub mod export;
pub mod ikey;
pub mod io;
pub mod log;
pub mod lsm;
pub mod manifest;
pub mod sst;
pub mod tidb;
pub mod tikv;
pub mod wal;

pub use error::{Error, ErrorKind, Result};
