//! TiDB's datum codec: a flag byte, then the value. Row format v1 is a chain of
//! `(column id datum, value datum)` pairs; index keys and common handles hold comparable datums.
//! Facts: TiDB pkg/util/codec/codec.go (`DecodeOne`, `peek`), pkg/tablecodec (`EncodeOldRow`,
//! `DecodeRowWithMap`) (shared notes §4.2-§4.3; vector §5 row 44).

use super::value::{decimal_bin, decimal_bin_size};
use crate::codec::varint;
use crate::tikv::codec::decode_bytes;

/// Datum flags.
pub mod flag {
    pub const NIL: u8 = 0;
    pub const BYTES: u8 = 1;
    pub const COMPACT_BYTES: u8 = 2;
    pub const INT: u8 = 3;
    pub const UINT: u8 = 4;
    pub const FLOAT: u8 = 5;
    pub const DECIMAL: u8 = 6;
    pub const DURATION: u8 = 7;
    pub const VARINT: u8 = 8;
    pub const UVARINT: u8 = 9;
    pub const JSON: u8 = 10;
    pub const VECTOR_F32: u8 = 20;
    pub const MAX: u8 = 250;
}

/// A decoded datum. Interpretation (a uint that is a packed datetime, an enum index ...) needs the
/// column type.
#[derive(Clone, Debug, PartialEq)]
pub enum Datum {
    Null,
    Int(i64),
    Uint(u64),
    Float(f64),
    Bytes(Vec<u8>),
    /// Rendered with the stored scale.
    Decimal(String),
    /// Nanoseconds.
    Duration(i64),
    /// TiDB binary JSON (type code and value).
    Json(Vec<u8>),
    VectorF32(Vec<f32>),
    Max,
}

/// Why a datum did not decode; `pos` relative to the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatumError {
    pub pos: usize,
    pub msg: String,
}

fn derr<T>(pos: usize, msg: impl Into<String>) -> Result<T, DatumError> {
    Err(DatumError {
        pos,
        msg: msg.into(),
    })
}

fn zigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Length of a binary JSON value of type `t` at the start of `v`.
fn json_len(t: u8, v: &[u8]) -> Option<usize> {
    Some(match t {
        0x01 | 0x03 => u32::from_le_bytes(v.get(4..8)?.try_into().ok()?) as usize,
        0x04 => 1,
        0x09..=0x0b => 8,
        0x0c => {
            let (n, k) = varint::decode_u64(v)?;
            k.checked_add(usize::try_from(n).ok()?)?
        }
        0x0d => {
            let (n, k) = varint::decode_u64(v.get(1..)?)?;
            (1 + k).checked_add(usize::try_from(n).ok()?)?
        }
        0x0e..=0x10 => 8,
        0x11 => 12,
        _ => return None,
    })
}

/// Decode one datum at the start of `b`: the datum and the bytes it took.
pub fn decode_one(b: &[u8]) -> Result<(Datum, usize), DatumError> {
    let Some((&f, v)) = b.split_first() else {
        return derr(0, "empty datum");
    };
    let fixed8 = |v: &[u8]| -> Result<[u8; 8], DatumError> {
        v.get(..8)
            .and_then(|x| x.try_into().ok())
            .ok_or(DatumError {
                pos: 1,
                msg: "8-byte datum truncated".into(),
            })
    };
    Ok(match f {
        flag::NIL => (Datum::Null, 1),
        flag::BYTES => match decode_bytes(v) {
            Ok((x, n)) => (Datum::Bytes(x), 1 + n),
            Err(e) => return derr(1 + e.pos, e.msg),
        },
        flag::COMPACT_BYTES => {
            let Some((z, k)) = varint::decode_u64(v) else {
                return derr(1, "bad compact bytes length");
            };
            let len = zigzag(z);
            let Some(x) = usize::try_from(len)
                .ok()
                .and_then(|l| v.get(k..k.checked_add(l)?))
            else {
                return derr(1, format!("compact bytes of {len} bytes run past the data"));
            };
            (Datum::Bytes(x.to_vec()), 1 + k + x.len())
        }
        flag::INT => (
            Datum::Int((u64::from_be_bytes(fixed8(v)?) ^ (1 << 63)) as i64),
            9,
        ),
        flag::DURATION => (
            Datum::Duration((u64::from_be_bytes(fixed8(v)?) ^ (1 << 63)) as i64),
            9,
        ),
        flag::UINT => (Datum::Uint(u64::from_be_bytes(fixed8(v)?)), 9),
        flag::FLOAT => match super::value::float(&fixed8(v)?) {
            Ok(x) => (Datum::Float(x), 9),
            Err(e) => return derr(1, e.0),
        },
        flag::DECIMAL => {
            let (Some(&prec), Some(&frac)) = (v.first(), v.get(1)) else {
                return derr(1, "decimal without precision and scale");
            };
            let Some(size) = decimal_bin_size(prec, frac) else {
                return derr(1, format!("decimal({prec},{frac})"));
            };
            let Some(bin) = v.get(2..2 + size) else {
                return derr(3, "decimal truncated");
            };
            match decimal_bin(bin, prec, frac) {
                Ok(s) => (Datum::Decimal(s), 3 + size),
                Err(e) => return derr(3, e.0),
            }
        }
        flag::VARINT => match varint::decode_u64(v) {
            Some((z, k)) => (Datum::Int(zigzag(z)), 1 + k),
            None => return derr(1, "bad varint"),
        },
        flag::UVARINT => match varint::decode_u64(v) {
            Some((u, k)) => (Datum::Uint(u), 1 + k),
            None => return derr(1, "bad uvarint"),
        },
        flag::JSON => {
            let Some(&t) = v.first() else {
                return derr(1, "JSON without a type");
            };
            let Some(n) = json_len(t, &v[1..]).filter(|n| *n < v.len()) else {
                return derr(1, format!("JSON value of type {t:#04x} does not fit"));
            };
            (Datum::Json(v[..1 + n].to_vec()), 2 + n)
        }
        flag::VECTOR_F32 => {
            let Some(count) = v
                .get(..4)
                .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize)
            else {
                return derr(1, "vector without a count");
            };
            let Some(body) = count.checked_mul(4).and_then(|n| v.get(4..4 + n)) else {
                return derr(5, "vector truncated");
            };
            let xs = body
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (Datum::VectorF32(xs), 5 + body.len())
        }
        flag::MAX => (Datum::Max, 1),
        other => return derr(0, format!("unknown datum flag {other}")),
    })
}

/// Decode a v1 row: `(column id, value)` pairs in the writer's order. A single `0x00` byte is an
/// empty row.
pub fn decode_row_v1(b: &[u8]) -> Result<Vec<(i64, Datum)>, DatumError> {
    let mut out = Vec::new();
    if b == [flag::NIL] {
        return Ok(out);
    }
    let mut p = 0;
    while p < b.len() {
        let (id, n) = decode_one(&b[p..]).map_err(|e| DatumError {
            pos: p + e.pos,
            msg: e.msg,
        })?;
        let Datum::Int(id) = id else {
            return derr(p, "column id is not an integer datum");
        };
        p += n;
        let (v, n) = decode_one(&b[p..]).map_err(|e| DatumError {
            pos: p + e.pos,
            msg: e.msg,
        })?;
        p += n;
        out.push((id, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// Shared notes §5 row 44 (TiDB TestRowCodec / TestCutRow inputs).
    #[test]
    fn v1_row() {
        let r = decode_row_v1(&h("0802 08c801 0804 0206616263 0806 06010081")).unwrap();
        assert_eq!(
            r,
            vec![
                (1, Datum::Int(100)),
                (2, Datum::Bytes(b"abc".to_vec())),
                (3, Datum::Decimal("1".into()))
            ]
        );
        assert_eq!(decode_row_v1(&[0]).unwrap(), vec![]);
        assert!(decode_row_v1(&h("0802 08")).is_err());
        assert!(decode_row_v1(&h("0802 0206")).is_err());
    }

    #[test]
    fn comparable_datums() {
        // Index key values of row 16: int 1, bytes "abc", float 5.5.
        let b = h("038000000000000001 016162630000000000fa 05c016000000000000");
        let (a, n) = decode_one(&b).unwrap();
        assert_eq!((a, n), (Datum::Int(1), 9));
        let (s, m) = decode_one(&b[n..]).unwrap();
        assert_eq!(s, Datum::Bytes(b"abc".to_vec()));
        let (f, _) = decode_one(&b[n + m..]).unwrap();
        assert_eq!(f, Datum::Float(5.5));
        assert!(decode_one(&[0xee]).is_err());
        assert!(decode_one(&h("0a01ffffffff")).is_err());
    }
}
