//! The physical block layer: locate a block, check its trailer checksum, decompress it.
//! Knows nothing about what the block contains. See format-specs/sst.md §5 (trailer, checksums)
//! and format-specs/compression.md §2-§4.

use std::borrow::Cow;

use serde::Serialize;

use super::handle::{BlockHandle, TRAILER_LEN};
use crate::codec::checksum::{self, ChecksumType};
use crate::codec::compress::{self, Compression, Flavor, MAX_BLOCK_SIZE};
use crate::codec::varint::fixed32;
use crate::error::{Error, ErrorKind, Result};

/// What every block of one file shares: how checksums and compression are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockCtx {
    pub checksum_type: ChecksumType,
    /// format_version 6+ context checksum base; 0 = none.
    pub base_context_checksum: u32,
    pub flavor: Flavor,
}

/// A block as stored: its bytes (possibly compressed) plus its trailer fields.
#[derive(Clone, Copy, Debug)]
pub struct RawBlock<'a> {
    pub handle: BlockHandle,
    pub data: &'a [u8],
    pub compression_byte: u8,
    pub stored_checksum: u32,
}

/// Outcome of checking one trailer checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ChecksumCheck {
    pub stored: u32,
    pub computed: u32,
}

impl ChecksumCheck {
    pub fn ok(&self) -> bool {
        self.stored == self.computed
    }
}

/// Slice a block and its trailer out of the file image, with bounds checks.
pub fn read_raw<'a>(
    file: &'a [u8],
    handle: BlockHandle,
    what: &'static str,
) -> Result<RawBlock<'a>> {
    let total = file.len() as u64;
    let end = handle
        .offset
        .checked_add(handle.size)
        .and_then(|e| e.checked_add(TRAILER_LEN));
    match end {
        Some(end) if end <= total => {}
        _ => {
            return Err(Error::truncated(
                handle.offset,
                what,
                handle.size.saturating_add(TRAILER_LEN),
                total.saturating_sub(handle.offset),
            ))
        }
    }
    if handle.size as usize > MAX_BLOCK_SIZE {
        return Err(Error::corrupt(
            handle.offset,
            format!(
                "{what}: block size {} is larger than any real block",
                handle.size
            ),
        ));
    }
    let start = handle.offset as usize;
    let size = handle.size as usize;
    let trailer = &file[start + size..start + size + TRAILER_LEN as usize];
    Ok(RawBlock {
        handle,
        data: &file[start..start + size],
        compression_byte: trailer[0],
        stored_checksum: fixed32(&trailer[1..]),
    })
}

impl<'a> RawBlock<'a> {
    /// The checksum this block should have, context modifier included.
    pub fn computed_checksum(&self, ctx: &BlockCtx) -> u32 {
        checksum::compute(ctx.checksum_type, self.data, self.compression_byte).wrapping_add(
            checksum::context_modifier(ctx.base_context_checksum, self.handle.offset),
        )
    }

    pub fn check(&self, ctx: &BlockCtx) -> ChecksumCheck {
        ChecksumCheck {
            stored: self.stored_checksum,
            computed: self.computed_checksum(ctx),
        }
    }

    /// Error if the trailer checksum does not match. With checksum type none nothing is checked.
    pub fn verify(&self, ctx: &BlockCtx) -> Result<()> {
        if ctx.checksum_type == ChecksumType::None {
            return Ok(());
        }
        let c = self.check(ctx);
        if c.ok() {
            Ok(())
        } else {
            Err(Error::new(
                self.handle.offset,
                ErrorKind::Checksum {
                    ctype: ctx.checksum_type,
                    stored: c.stored,
                    computed: c.computed,
                },
            ))
        }
    }

    pub fn compression(&self, ctx: &BlockCtx) -> Compression {
        Compression::from_byte(self.compression_byte, ctx.flavor)
    }

    /// The block's uncompressed contents. `dict` is used for data blocks only (RocksDB's rule).
    pub fn contents(&self, ctx: &BlockCtx, dict: &[u8]) -> Result<Cow<'a, [u8]>> {
        let c = self.compression(ctx);
        compress::decompress(c, self.data, ctx.flavor, dict, MAX_BLOCK_SIZE).map_err(|e| {
            let kind = if e.unsupported {
                ErrorKind::Unsupported(format!("{} compression: {}", e.codec, e.msg))
            } else {
                ErrorKind::Decompress {
                    codec: e.codec,
                    msg: e.msg,
                }
            };
            Error::new(self.handle.offset, kind)
        })
    }
}
