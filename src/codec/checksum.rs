//! Block and footer checksums: every RocksDB checksum type, plus the format_version 6+ context
//! modifier. See format-specs/sst.md §5 (trailer, checksum types, XXH3 last-byte rule, context modifier).

use std::fmt;

use serde::Serialize;

/// The checksum type byte stored in the footer (format_version >= 1; implicitly CRC-32C before).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumType {
    None,
    Crc32c,
    XxHash,
    XxHash64,
    Xxh3,
}

impl ChecksumType {
    pub fn from_byte(b: u8) -> Option<ChecksumType> {
        Some(match b {
            0 => ChecksumType::None,
            1 => ChecksumType::Crc32c,
            2 => ChecksumType::XxHash,
            3 => ChecksumType::XxHash64,
            4 => ChecksumType::Xxh3,
            _ => return None,
        })
    }

    pub fn as_byte(self) -> u8 {
        match self {
            ChecksumType::None => 0,
            ChecksumType::Crc32c => 1,
            ChecksumType::XxHash => 2,
            ChecksumType::XxHash64 => 3,
            ChecksumType::Xxh3 => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ChecksumType::None => "none",
            ChecksumType::Crc32c => "crc32c",
            ChecksumType::XxHash => "xxhash",
            ChecksumType::XxHash64 => "xxhash64",
            ChecksumType::Xxh3 => "xxh3",
        }
    }

    pub const ALL: [ChecksumType; 5] = [
        ChecksumType::None,
        ChecksumType::Crc32c,
        ChecksumType::XxHash,
        ChecksumType::XxHash64,
        ChecksumType::Xxh3,
    ];
}

impl fmt::Display for ChecksumType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const CRC_MASK_DELTA: u32 = 0xa282_ead8;
const XXH3_LAST_BYTE_MULT: u32 = 0x6b90_83d9;

/// RocksDB/LevelDB mask applied to stored CRC-32C values (rotate right by 15, add a constant).
#[inline]
pub fn mask_crc(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(CRC_MASK_DELTA)
}

/// Inverse of [`mask_crc`].
#[inline]
pub fn unmask_crc(masked: u32) -> u32 {
    masked.wrapping_sub(CRC_MASK_DELTA).rotate_left(15)
}

/// The checksum of `data ++ [last]`, as RocksDB computes it for a block (`last` = the compression
/// type byte) or for a footer (`last` = the final magic byte). No context modifier is applied.
pub fn compute(ctype: ChecksumType, data: &[u8], last: u8) -> u32 {
    match ctype {
        ChecksumType::None => 0,
        ChecksumType::Crc32c => {
            let crc = crc32c::crc32c_append(crc32c::crc32c(data), &[last]);
            mask_crc(crc)
        }
        ChecksumType::XxHash => {
            let mut h = xxhash_rust::xxh32::Xxh32::new(0);
            h.update(data);
            h.update(&[last]);
            h.digest()
        }
        ChecksumType::XxHash64 => {
            let mut h = xxhash_rust::xxh64::Xxh64::new(0);
            h.update(data);
            h.update(&[last]);
            h.digest() as u32
        }
        ChecksumType::Xxh3 => {
            // The last byte is folded in by multiplication instead of being hashed, so a block's
            // checksum can be computed before its compression type is known.
            let h = xxhash_rust::xxh3::xxh3_64(data) as u32;
            h ^ (last as u32).wrapping_mul(XXH3_LAST_BYTE_MULT)
        }
    }
}

/// The format_version 6+ per-position modifier added (mod 2^32) to a stored checksum. Zero when the
/// file has no context checksums (`base == 0`).
#[inline]
pub fn context_modifier(base: u32, offset: u64) -> u32 {
    if base == 0 {
        return 0;
    }
    base ^ (offset as u32).wrapping_add((offset >> 32) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_vector_and_mask() {
        // CRC-32C ("Castagnoli") check value.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        for v in [0u32, 1, 0xe306_9283, u32::MAX] {
            assert_eq!(unmask_crc(mask_crc(v)), v);
            assert_ne!(mask_crc(v), v);
        }
    }

    #[test]
    fn last_byte_is_part_of_the_input() {
        for t in [
            ChecksumType::Crc32c,
            ChecksumType::XxHash,
            ChecksumType::XxHash64,
        ] {
            assert_ne!(compute(t, b"abc", 0), compute(t, b"abc", 1), "{t}");
        }
        // XXH3's rule: flipping the last byte changes the value by an XOR of multiples of the constant.
        let a = compute(ChecksumType::Xxh3, b"abc", 0);
        let b = compute(ChecksumType::Xxh3, b"abc", 1);
        assert_eq!(a ^ b, XXH3_LAST_BYTE_MULT);
        assert_eq!(compute(ChecksumType::None, b"abc", 7), 0);
    }

    #[test]
    fn context_modifier_rules() {
        assert_eq!(context_modifier(0, 12345), 0);
        assert_eq!(context_modifier(7, 0), 7);
        assert_eq!(context_modifier(7, 1 << 32 | 3), 7 ^ 4);
    }
}
