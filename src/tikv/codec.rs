//! The byte codecs TiKV and TiDB use in keys and values: memcomparable bytes (ascending and
//! descending), compact bytes, descending u64, and varints. See format-specs/tikv.md §2.

use crate::codec::varint;

const GROUP: usize = 8;
const MARKER: u8 = 0xFF;

/// Memcomparable encoding of `raw`: 8-byte groups, each followed by a marker; the last group is
/// zero-padded and its marker is `0xFF - padding` (format-specs/tikv.md §2.2).
pub fn encode_bytes(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity((raw.len() / GROUP + 1) * (GROUP + 1));
    let mut i = 0;
    loop {
        let n = (raw.len() - i).min(GROUP);
        out.extend_from_slice(&raw[i..i + n]);
        let pad = GROUP - n;
        out.extend(std::iter::repeat_n(0u8, pad));
        out.push(MARKER - pad as u8);
        i += n;
        if pad > 0 {
            return out;
        }
    }
}

/// Why memcomparable bytes did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError {
    pub pos: usize,
    pub msg: &'static str,
}

/// Decode memcomparable bytes at the start of `b`: the raw bytes and how many encoded bytes they
/// took (what follows, e.g. a timestamp, is left alone).
pub fn decode_bytes(b: &[u8]) -> Result<(Vec<u8>, usize), CodecError> {
    decode_bytes_impl(b, false)
}

/// Decode the descending variant (every byte inverted).
pub fn decode_bytes_desc(b: &[u8]) -> Result<(Vec<u8>, usize), CodecError> {
    decode_bytes_impl(b, true)
}

fn decode_bytes_impl(b: &[u8], desc: bool) -> Result<(Vec<u8>, usize), CodecError> {
    let mut out = Vec::with_capacity(b.len() / (GROUP + 1) * GROUP);
    let n = decode_groups(b, desc, &mut out)?;
    Ok((out, n))
}

/// Decode as many memcomparable groups as are whole and valid (a key bound cut anywhere, as a
/// damaged block's lost-key range may be): the bytes decoded, and whether the encoding ended
/// properly.
pub fn decode_bytes_lenient(b: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let complete = decode_groups(b, false, &mut out).is_ok();
    (out, complete)
}

/// Append the decoded groups of `b` to `out` (also when an error stops it); returns the bytes
/// used.
fn decode_groups(b: &[u8], desc: bool, out: &mut Vec<u8>) -> Result<usize, CodecError> {
    let mut p = 0;
    let f = |x: u8| if desc { !x } else { x };
    loop {
        let Some(chunk) = b.get(p..p + GROUP + 1) else {
            return Err(CodecError {
                pos: p,
                msg: "memcomparable bytes end inside a group",
            });
        };
        let marker = f(chunk[GROUP]);
        let pad = (MARKER - marker) as usize;
        if pad > GROUP {
            return Err(CodecError {
                pos: p + GROUP,
                msg: "memcomparable group marker is out of range",
            });
        }
        let data = GROUP - pad;
        out.extend(chunk[..data].iter().map(|&x| f(x)));
        if chunk[data..GROUP].iter().any(|&x| f(x) != 0) {
            return Err(CodecError {
                pos: p + data,
                msg: "memcomparable padding is not zero",
            });
        }
        p += GROUP + 1;
        if pad > 0 {
            return Ok(p);
        }
    }
}

/// Descending u64 as TiKV appends timestamps: big-endian of `!v`.
pub fn encode_u64_desc(v: u64) -> [u8; 8] {
    (!v).to_be_bytes()
}

/// Inverse of [`encode_u64_desc`].
pub fn decode_u64_desc(b: &[u8]) -> Option<u64> {
    Some(!u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

/// Big-endian u64 (timestamps inside MVCC values).
pub fn be_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

/// Unsigned varint (LEB128) at the start of `b`: value and length.
pub fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    varint::decode_u64(b)
}

/// Compact bytes: zigzag varint length, then the raw bytes. Returns the bytes and the length used.
pub fn compact_bytes(b: &[u8]) -> Option<(&[u8], usize)> {
    let (z, n) = varint::decode_u64(b)?;
    let len = ((z >> 1) as i64) ^ -((z & 1) as i64);
    let len = usize::try_from(len).ok()?;
    let end = n.checked_add(len)?;
    Some((b.get(n..end)?, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_decoding_stops_at_the_cut() {
        let enc = encode_bytes(b"0123456789abcdef-tail");
        assert_eq!(
            decode_bytes_lenient(&enc),
            (b"0123456789abcdef-tail".to_vec(), true)
        );
        // Cut inside the third group: the two whole groups survive.
        assert_eq!(
            decode_bytes_lenient(&enc[..20]),
            (b"0123456789abcdef".to_vec(), false)
        );
        assert_eq!(decode_bytes_lenient(&[]), (Vec::new(), false));
    }

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// tikv components/tikv_util/src/codec/bytes.rs `test_enc_dec_bytes` (format-specs/tikv.md §9).
    #[test]
    fn memcomparable_vectors() {
        let cases: [(&[u8], &str); 8] = [
            (&[], "0000000000000000f7"),
            (&[0], "0000000000000000f8"),
            (&[1, 2, 3], "0102030000000000fa"),
            (&[1, 2, 3, 0], "0102030000000000fb"),
            (&[1, 2, 3, 4, 5, 6, 7], "0102030405060700fe"),
            (&[0; 8], "0000000000000000ff0000000000000000f7"),
            (
                &[1, 2, 3, 4, 5, 6, 7, 8],
                "0102030405060708ff0000000000000000f7",
            ),
            (
                &[1, 2, 3, 4, 5, 6, 7, 8, 9],
                "0102030405060708ff0900000000000000f8",
            ),
        ];
        for (raw, enc) in cases {
            assert_eq!(encode_bytes(raw), h(enc), "{raw:?}");
            let mut with_tail = h(enc);
            with_tail.extend_from_slice(b"tail");
            assert_eq!(
                decode_bytes(&with_tail).unwrap(),
                (raw.to_vec(), h(enc).len())
            );
        }
        assert_eq!(
            decode_bytes_desc(&h("fefdfcffffffffff05")).unwrap().0,
            vec![1, 2, 3]
        );
        // Rejections: short input, bad marker, non-zero padding.
        assert!(decode_bytes(&h("01020300000000")).is_err());
        assert!(decode_bytes(&h("0102030000000000f0")).is_err());
        assert!(decode_bytes(&h("0102030000000001fa")).is_err());
    }

    #[test]
    fn numbers_and_compact_bytes() {
        // tikv txn_types/src/types.rs `test_append_ts`: encoded "abc" + ts 100.
        let mut k = b"abc".to_vec();
        k.extend_from_slice(&encode_u64_desc(100));
        assert_eq!(k, h("616263ffffffffffffff9b"));
        assert_eq!(decode_u64_desc(&k[3..]), Some(100));
        // zigzag length 2 ("pk") = 0x04.
        assert_eq!(compact_bytes(&h("04706b0a")), Some((&b"pk"[..], 3)));
        assert_eq!(compact_bytes(&h("04706b")).map(|x| x.1), Some(3));
        assert_eq!(compact_bytes(&h("0470")), None);
    }
}
