//! The pairs BR counts in a TiDB/TxnKV backup's data files (format-specs/br.md §6.1-§6.2): per
//! user key one pair, the raw key (no `z`, memcomparable decoded, timestamp removed) with the row
//! value, counted in the default file when the value is there and in the write file when the write
//! record carries it (a short value; a Delete of an incremental backup counts with an empty value).

use super::codec::decode_bytes;
use super::mvcc::{parse_write, WriteType};
use crate::br::verify::{Pair, TxnPairs};

/// [`TxnPairs`] for TiKV's MVCC layout (tikv.md §2.4, §4).
pub struct MvccPairs;

/// The raw user key of a data key `z` + mc(key) + ts.
fn raw_key(key: &[u8]) -> Result<Vec<u8>, String> {
    let enc = key
        .strip_prefix(b"z")
        .ok_or("not a data key (no z prefix)")?;
    let (raw, n) = decode_bytes(enc).map_err(|e| format!("key does not decode: {e:?}"))?;
    if enc.len() != n + 8 {
        return Err(format!(
            "{} bytes after the encoded key, not an 8-byte timestamp",
            enc.len() - n
        ));
    }
    Ok(raw)
}

impl TxnPairs for MvccPairs {
    fn pair(&self, cf: &str, key: &[u8], value: &[u8]) -> Result<Option<Pair>, String> {
        match cf {
            "default" => Ok(Some((raw_key(key)?, value.to_vec()))),
            "write" => {
                let w = parse_write(value).map_err(|e| format!("write record: {}", e.msg))?;
                match w.kind {
                    WriteType::Put => match w.short_value {
                        Some(v) => Ok(Some((raw_key(key)?, v))),
                        None => Ok(None),
                    },
                    WriteType::Delete => Ok(Some((raw_key(key)?, Vec::new()))),
                    WriteType::Lock | WriteType::Rollback => Ok(None),
                }
            }
            other => Err(format!("a {other:?} file in a TiDB backup")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tikv::codec::encode_bytes;

    #[test]
    fn pairs_of_write_and_default_entries() {
        let mut k = b"z".to_vec();
        k.extend_from_slice(&encode_bytes(
            b"t\x80\x00\x00\x00\x00\x00\x00\x01_r\x80\x00\x00\x00\x00\x00\x00\x02",
        ));
        k.extend_from_slice(&(!5u64).to_be_bytes());
        // A Put with a short value: 'P', start ts varint 4, 'v' len 2 "ab".
        let put = [b'P', 4, b'v', 2, b'a', b'b'];
        let (rk, v) = MvccPairs.pair("write", &k, &put).unwrap().unwrap();
        assert_eq!(rk.len(), 19);
        assert_eq!(v, b"ab");
        // A Put without one is counted in the default file.
        assert_eq!(MvccPairs.pair("write", &k, &[b'P', 4]).unwrap(), None);
        assert_eq!(
            MvccPairs.pair("default", &k, b"long").unwrap().unwrap().1,
            b"long"
        );
        assert!(MvccPairs.pair("write", b"zshort", &put).is_err());
        assert!(MvccPairs.pair("lock", &k, &put).is_err());
    }
}
