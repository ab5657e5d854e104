//! The table footer: magic number, format version, checksum type and the handles that lead to
//! everything else. See format-specs/sst.md §3 (footer, all format versions) for the byte diagrams of every variant.

use serde::Serialize;

use super::handle::{BlockHandle, TRAILER_LEN};
use crate::codec::checksum::{self, ChecksumType};
use crate::codec::varint::{fixed32, fixed64};
use crate::error::{Error, ErrorKind, Result};

pub const BLOCK_BASED_MAGIC: u64 = 0x88e2_41b7_85f4_cff7;
/// The legacy block-based magic: RocksDB format_version 0 and every LevelDB table.
pub const LEGACY_BLOCK_BASED_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
pub const PLAIN_MAGIC: u64 = 0x8242_2296_63bf_9564;
pub const LEGACY_PLAIN_MAGIC: u64 = 0x4f34_18eb_7a8f_13b8;
pub const CUCKOO_MAGIC: u64 = 0x9267_89d0_c5f1_7873;

/// Footer length for the legacy magic (format_version 0 / LevelDB).
pub const LEGACY_FOOTER_LEN: u64 = 48;
/// Footer length for every format_version >= 1.
pub const FOOTER_LEN: u64 = 53;

const EXTENDED_MAGIC: [u8; 4] = [0x3e, 0x00, 0x7a, 0x00];

/// Which kind of table the magic number says this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableMagic {
    BlockBased,
    LegacyBlockBased,
    Plain,
    LegacyPlain,
    Cuckoo,
}

impl TableMagic {
    pub fn from_u64(m: u64) -> Option<TableMagic> {
        Some(match m {
            BLOCK_BASED_MAGIC => TableMagic::BlockBased,
            LEGACY_BLOCK_BASED_MAGIC => TableMagic::LegacyBlockBased,
            PLAIN_MAGIC => TableMagic::Plain,
            LEGACY_PLAIN_MAGIC => TableMagic::LegacyPlain,
            CUCKOO_MAGIC => TableMagic::Cuckoo,
            _ => return None,
        })
    }
}

/// Result of checking the format_version 6+ footer checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FooterChecksum {
    pub stored: u32,
    pub computed: u32,
}

/// A decoded footer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Footer {
    pub magic: TableMagic,
    pub format_version: u32,
    pub checksum_type: ChecksumType,
    /// Absolute offset of the footer's first byte.
    pub offset: u64,
    pub len: u64,
    pub metaindex: BlockHandle,
    /// `None` from format_version 6 on: the index handle then lives in the metaindex.
    pub index: Option<BlockHandle>,
    /// format_version 6+: the per-file base of context checksums (0 otherwise).
    pub base_context_checksum: u32,
    /// format_version 6+: the footer's own checksum.
    pub checksum: Option<FooterChecksum>,
}

impl Footer {
    /// True when the footer's own checksum (fv6+) does not match.
    pub fn checksum_mismatch(&self) -> bool {
        self.checksum.is_some_and(|c| c.stored != c.computed)
    }
}

/// Read the magic number from the end of a file image, if it is long enough.
pub fn magic_of(file: &[u8]) -> Option<u64> {
    (file.len() >= 8).then(|| fixed64(&file[file.len() - 8..]))
}

/// Decode the footer at the end of `file` (the whole file image). Errors name absolute offsets.
/// A footer whose fv6+ checksum does not match is still returned (with `checksum` showing the
/// mismatch) so callers can report it and decide; every other defect is an error.
pub fn decode(file: &[u8]) -> Result<Footer> {
    let total = file.len() as u64;
    if total < LEGACY_FOOTER_LEN {
        return Err(Error::new(
            0,
            ErrorKind::NotATable(format!(
                "file is {total} bytes, shorter than the smallest footer ({LEGACY_FOOTER_LEN})"
            )),
        ));
    }
    let magic_off = total - 8;
    let magic_raw = fixed64(&file[magic_off as usize..]);
    let magic = TableMagic::from_u64(magic_raw).ok_or_else(|| {
        Error::new(
            magic_off,
            ErrorKind::NotATable(format!("unknown magic number {magic_raw:#018x}")),
        )
    })?;
    match magic {
        TableMagic::Plain | TableMagic::LegacyPlain => {
            return Err(Error::unsupported(
                magic_off,
                "PlainTable format (recognised by its magic number; not decoded)",
            ))
        }
        TableMagic::Cuckoo => {
            return Err(Error::unsupported(
                magic_off,
                "CuckooTable format (recognised by its magic number; not decoded)",
            ))
        }
        _ => {}
    }

    if magic == TableMagic::LegacyBlockBased {
        let offset = total - LEGACY_FOOTER_LEN;
        let f = &file[offset as usize..];
        let (metaindex, n) = BlockHandle::decode(&f[..40])
            .ok_or_else(|| Error::varint(offset, "footer metaindex handle"))?;
        let (index, _) = BlockHandle::decode(&f[n..40])
            .ok_or_else(|| Error::varint(offset + n as u64, "footer index handle"))?;
        return Ok(Footer {
            magic,
            format_version: 0,
            checksum_type: ChecksumType::Crc32c,
            offset,
            len: LEGACY_FOOTER_LEN,
            metaindex,
            index: Some(index),
            base_context_checksum: 0,
            checksum: None,
        });
    }

    if total < FOOTER_LEN {
        return Err(Error::new(
            0,
            ErrorKind::NotATable(format!(
                "file is {total} bytes, shorter than a {FOOTER_LEN}-byte footer"
            )),
        ));
    }
    let offset = total - FOOTER_LEN;
    let f = &file[offset as usize..];
    let format_version = fixed32(&f[41..45]);
    if format_version == 0 || format_version > 7 {
        return Err(Error::corrupt(
            offset + 41,
            format!("footer: unknown format_version {format_version}"),
        ));
    }
    let checksum_type = ChecksumType::from_byte(f[0]).ok_or_else(|| {
        Error::corrupt(
            offset,
            format!("footer: unknown checksum type byte {}", f[0]),
        )
    })?;

    if format_version < 6 {
        let (metaindex, n) = BlockHandle::decode(&f[1..41])
            .ok_or_else(|| Error::varint(offset + 1, "footer metaindex handle"))?;
        let (index, _) = BlockHandle::decode(&f[1 + n..41])
            .ok_or_else(|| Error::varint(offset + 1 + n as u64, "footer index handle"))?;
        return Ok(Footer {
            magic,
            format_version,
            checksum_type,
            offset,
            len: FOOTER_LEN,
            metaindex,
            index: Some(index),
            base_context_checksum: 0,
            checksum: None,
        });
    }

    if f[1..5] != EXTENDED_MAGIC {
        return Err(Error::corrupt(
            offset + 1,
            format!("footer: bad extended magic {:02x?}", &f[1..5]),
        ));
    }
    let stored = fixed32(&f[5..9]);
    let base = fixed32(&f[9..13]);
    if checksum::context_modifier(base, 0) == 0 {
        return Err(Error::corrupt(
            offset + 9,
            "footer: base context checksum is zero",
        ));
    }
    let metaindex_size = fixed32(&f[13..17]) as u64;
    if fixed64(&f[33..41]) != 0 {
        return Err(Error::unsupported(
            offset + 33,
            "footer: reserved bytes set (a future RocksDB feature)",
        ));
    }
    let mut copy = [0u8; FOOTER_LEN as usize];
    copy.copy_from_slice(f);
    copy[5..9].fill(0);
    let computed = checksum::compute(checksum_type, &copy[..52], copy[52])
        .wrapping_add(checksum::context_modifier(base, offset));
    let metaindex_end = offset
        .checked_sub(TRAILER_LEN)
        .ok_or_else(|| Error::corrupt(offset, "footer: no room for a metaindex block"))?;
    let metaindex_offset = metaindex_end.checked_sub(metaindex_size).ok_or_else(|| {
        Error::corrupt(
            offset + 13,
            format!("footer: metaindex size {metaindex_size} exceeds the file"),
        )
    })?;
    Ok(Footer {
        magic,
        format_version,
        checksum_type,
        offset,
        len: FOOTER_LEN,
        metaindex: BlockHandle::new(metaindex_offset, metaindex_size),
        index: None,
        base_context_checksum: base,
        checksum: Some(FooterChecksum { stored, computed }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_magic(len: usize, magic: u64) -> Vec<u8> {
        let mut v = vec![0u8; len];
        let n = v.len();
        v[n - 8..].copy_from_slice(&magic.to_le_bytes());
        v
    }

    #[test]
    fn plain_and_cuckoo_tables_are_recognised_as_unsupported() {
        for m in [PLAIN_MAGIC, LEGACY_PLAIN_MAGIC, CUCKOO_MAGIC] {
            let e = decode(&with_magic(100, m)).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::Unsupported(_)), "{m:#x}: {e}");
            assert_eq!(e.offset, 92);
        }
    }

    #[test]
    fn short_files_and_unknown_magic_are_not_tables() {
        assert!(matches!(
            decode(&[0u8; 47]).unwrap_err().kind,
            ErrorKind::NotATable(_)
        ));
        assert!(matches!(
            decode(&with_magic(60, 0x1234)).unwrap_err().kind,
            ErrorKind::NotATable(_)
        ));
        // The new magic needs the full 53 bytes.
        assert!(matches!(
            decode(&with_magic(50, BLOCK_BASED_MAGIC)).unwrap_err().kind,
            ErrorKind::NotATable(_)
        ));
    }

    /// A format_version 6 footer for a file of `total` bytes whose metaindex is `meta_size` bytes.
    fn fv6_footer(total: usize, meta_size: u32, ctype: ChecksumType) -> Vec<u8> {
        let mut v = vec![0u8; total];
        let off = total - FOOTER_LEN as usize;
        let f = &mut v[off..];
        f[0] = ctype.as_byte();
        f[1..5].copy_from_slice(&EXTENDED_MAGIC);
        f[9..13].copy_from_slice(&0x1234_5678u32.to_le_bytes());
        f[13..17].copy_from_slice(&meta_size.to_le_bytes());
        f[41..45].copy_from_slice(&6u32.to_le_bytes());
        f[45..53].copy_from_slice(&BLOCK_BASED_MAGIC.to_le_bytes());
        let c = checksum::compute(ctype, &f[..52], f[52])
            .wrapping_add(checksum::context_modifier(0x1234_5678, off as u64));
        f[5..9].copy_from_slice(&c.to_le_bytes());
        v
    }

    #[test]
    fn fv6_footer_derives_the_metaindex_and_checks_itself() {
        for ct in ChecksumType::ALL {
            let v = fv6_footer(200, 40, ct);
            let f = decode(&v).unwrap();
            assert_eq!(f.index, None);
            assert_eq!(f.metaindex, BlockHandle::new(200 - 53 - 5 - 40, 40));
            assert!(!f.checksum_mismatch(), "{ct}");
            let mut bad = v.clone();
            bad[200 - 53 + 20] ^= 1; // an unchecked reserved byte, still covered by the checksum
            assert!(
                decode(&bad).unwrap().checksum_mismatch() || ct == ChecksumType::None,
                "{ct}"
            );
        }
        let mut v = fv6_footer(200, 40, ChecksumType::Crc32c);
        v[200 - 53 + 2] = 9; // extended magic
        assert!(matches!(
            decode(&v).unwrap_err().kind,
            ErrorKind::Corrupt(_)
        ));
        let v = fv6_footer(60, 40, ChecksumType::Crc32c); // metaindex larger than the file
        assert!(decode(&v).is_err());
    }
}
