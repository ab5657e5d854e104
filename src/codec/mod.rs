//! Byte-level codecs shared by every file format: varints and fixed integers, checksums, decompression.

pub mod b64;
pub mod checksum;
pub mod compress;
pub mod hash;
pub mod hexfmt;
pub mod varint;
