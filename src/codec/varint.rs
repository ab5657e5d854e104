//! LEB128 varints and little-endian fixed-width integers as RocksDB writes them.
//! See format-specs/sst.md §1.

/// Decode a varint32 (at most 5 bytes). Returns the value and the number of bytes used, or `None`
/// if the buffer ends first or the varint is longer than 5 bytes. Like RocksDB, bits beyond 32 in
/// the fifth byte are dropped.
#[inline]
pub fn decode_u32(buf: &[u8]) -> Option<(u32, usize)> {
    if let Some(&b) = buf.first() {
        if b < 0x80 {
            return Some((b as u32, 1));
        }
    }
    let mut result: u32 = 0;
    for (i, &byte) in buf.iter().take(5).enumerate() {
        result |= ((byte & 0x7f) as u32).wrapping_shl(7 * i as u32);
        if byte < 0x80 {
            return Some((result, i + 1));
        }
    }
    None
}

/// Decode a varint64 (at most 10 bytes). Returns the value and the bytes used.
#[inline]
pub fn decode_u64(buf: &[u8]) -> Option<(u64, usize)> {
    let mut result: u64 = 0;
    for (i, &byte) in buf.iter().take(10).enumerate() {
        result |= ((byte & 0x7f) as u64).wrapping_shl(7 * i as u32);
        if byte < 0x80 {
            return Some((result, i + 1));
        }
    }
    None
}

/// Decode a zigzag-encoded signed varint64.
#[inline]
pub fn decode_i64(buf: &[u8]) -> Option<(i64, usize)> {
    let (v, n) = decode_u64(buf)?;
    Some((((v >> 1) as i64) ^ -((v & 1) as i64), n))
}

/// Append a varint64 to `out`.
pub fn encode_u64(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Append a zigzag signed varint64 to `out`.
pub fn encode_i64(v: i64, out: &mut Vec<u8>) {
    encode_u64(((v << 1) ^ (v >> 63)) as u64, out);
}

/// Little-endian u32 from the first 4 bytes. Panics if fewer; callers check lengths first.
#[inline]
pub fn fixed32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Little-endian u64 from the first 8 bytes. Panics if fewer; callers check lengths first.
#[inline]
pub fn fixed64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn u64_roundtrip(v: u64) {
            let mut out = Vec::new();
            encode_u64(v, &mut out);
            prop_assert_eq!(decode_u64(&out), Some((v, out.len())));
        }

        #[test]
        fn u32_roundtrip(v: u32) {
            let mut out = Vec::new();
            encode_u64(v as u64, &mut out);
            prop_assert_eq!(decode_u32(&out), Some((v, out.len())));
        }

        #[test]
        fn i64_roundtrip(v: i64) {
            let mut out = Vec::new();
            encode_i64(v, &mut out);
            prop_assert_eq!(decode_i64(&out), Some((v, out.len())));
        }

        #[test]
        fn never_panics(buf: Vec<u8>) {
            let _ = decode_u32(&buf);
            let _ = decode_u64(&buf);
            let _ = decode_i64(&buf);
        }
    }

    #[test]
    fn rejects_overlong_and_truncated() {
        assert_eq!(decode_u32(&[0x80; 5]), None);
        assert_eq!(decode_u64(&[0xff; 11]), None);
        assert_eq!(decode_u64(&[0x80]), None);
        assert_eq!(decode_u32(&[]), None);
        assert_eq!(decode_u32(&[0xac, 0x02]), Some((300, 2)));
    }
}
