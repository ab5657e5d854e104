//! Block handles: where a block lives in the file. See format-specs/sst.md §4.

use serde::Serialize;

use crate::codec::varint;

/// Bytes that follow every block: one compression-type byte and a 4-byte checksum.
pub const TRAILER_LEN: u64 = 5;

/// The position of a block: `size` excludes the 5-byte trailer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct BlockHandle {
    pub offset: u64,
    pub size: u64,
}

impl BlockHandle {
    pub const fn new(offset: u64, size: u64) -> Self {
        BlockHandle { offset, size }
    }

    /// Decode two varint64s; returns the handle and the number of bytes used.
    pub fn decode(buf: &[u8]) -> Option<(BlockHandle, usize)> {
        let (offset, a) = varint::decode_u64(buf)?;
        let (size, b) = varint::decode_u64(&buf[a..])?;
        Some((BlockHandle { offset, size }, a + b))
    }

    /// End of the block including its trailer (saturating; hostile handles may overflow).
    pub fn end_with_trailer(&self, trailer: u64) -> u64 {
        self.offset
            .saturating_add(self.size)
            .saturating_add(trailer)
    }

    pub fn is_null(&self) -> bool {
        self.offset == 0 && self.size == 0
    }
}
