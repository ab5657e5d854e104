//! BlobDB blob files and the blob indexes that point into them (RocksDB's integrated BlobDB,
//! `enable_blob_files`). Layout: a 30-byte header (magic 0x00248f37, version, column family,
//! flags, compression, expiration range), records of a 32-byte header (key length, value length,
//! expiration, masked CRC-32C of those 24 bytes, masked CRC-32C of key and value) followed by key
//! and value, and a 32-byte footer. A blob index (value type 0x11) holds the blob file number, the
//! offset of the value in the file, its size and its compression.
//! See format-specs/blob.md §2 (header), §3 (records), §5 (blob index) and §6 (reading a value).

use crate::codec::checksum::mask_crc;
use crate::codec::compress::{self, Compression, Flavor, MAX_BLOCK_SIZE};
use crate::codec::varint::{self, fixed32, fixed64};

pub const MAGIC: u32 = 0x0024_8f37;
pub const HEADER_LEN: usize = 30;
pub const RECORD_HEADER_LEN: usize = 32;

/// Titan's blob file magic (first fixed32 of a Titan `.blob` file).
pub const TITAN_MAGIC: u32 = 0x2be0_a614;

/// A decoded blob index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobIndex<'a> {
    /// The value is stored in the index itself (with a TTL).
    Inlined { expiration: u64, value: &'a [u8] },
    /// The value is in a blob file.
    Blob {
        expiration: Option<u64>,
        file_number: u64,
        offset: u64,
        size: u64,
        compression: u8,
    },
    /// Titan (TiKV): the offset and size cover the record's 9-byte head and the record.
    Titan {
        file_number: u64,
        offset: u64,
        size: u64,
    },
}

/// Decode a blob index value.
pub fn decode_index(v: &[u8]) -> Option<BlobIndex<'_>> {
    let (&t, mut rest) = v.split_first()?;
    let var = |rest: &mut &[u8]| -> Option<u64> {
        let (x, n) = varint::decode_u64(rest)?;
        *rest = &rest[n..];
        Some(x)
    };
    match t {
        0 => {
            let expiration = var(&mut rest)?;
            Some(BlobIndex::Inlined {
                expiration,
                value: rest,
            })
        }
        1 | 2 => {
            let expiration = if t == 2 { Some(var(&mut rest)?) } else { None };
            let file_number = var(&mut rest)?;
            let offset = var(&mut rest)?;
            let size = var(&mut rest)?;
            // BlobDB ends with a compression byte; Titan's index has none (varints are
            // self-delimiting, so the two cannot be confused).
            if t == 1 && rest.is_empty() {
                return Some(BlobIndex::Titan {
                    file_number,
                    offset,
                    size,
                });
            }
            if rest.len() != 1 {
                return None;
            }
            Some(BlobIndex::Blob {
                expiration,
                file_number,
                offset,
                size,
                compression: rest[0],
            })
        }
        _ => None,
    }
}

/// Read the value a blob index points at from the blob file image, checking the record's header
/// and blob checksums and that it belongs to `key`.
pub fn read_value(
    file: &[u8],
    key: &[u8],
    offset: u64,
    size: u64,
    compression: u8,
) -> Result<Vec<u8>, String> {
    if file.len() < HEADER_LEN || fixed32(file) != MAGIC {
        return Err("not a blob file (bad magic)".into());
    }
    let (offset, size) = (offset as usize, size as usize);
    let rec = offset
        .checked_sub(key.len() + RECORD_HEADER_LEN)
        .filter(|&r| r >= HEADER_LEN)
        .ok_or("blob offset points before the first record")?;
    let end = offset
        .checked_add(size)
        .filter(|&e| e <= file.len())
        .ok_or("blob runs past the end of the file")?;
    let h = &file[rec..rec + RECORD_HEADER_LEN];
    if mask_crc(crc32c::crc32c(&h[..24])) != fixed32(&h[24..]) {
        return Err(format!(
            "blob record header checksum mismatch at byte {rec}"
        ));
    }
    if fixed64(h) as usize != key.len() || fixed64(&h[8..]) as usize != size {
        return Err(format!(
            "blob record at byte {rec} is for another key or size"
        ));
    }
    let stored_key = &file[rec + RECORD_HEADER_LEN..offset];
    if stored_key != key {
        return Err(format!("blob record at byte {rec} holds another key"));
    }
    let value = &file[offset..end];
    let crc = crc32c::crc32c_append(crc32c::crc32c(key), value);
    if mask_crc(crc) != fixed32(&h[28..]) {
        return Err(format!("blob checksum mismatch at byte {rec}"));
    }
    let flavor = Flavor::RocksDb {
        size_prefixed: true,
    };
    let c = Compression::from_byte(compression, flavor);
    compress::decompress(c, value, flavor, &[], MAX_BLOCK_SIZE)
        .map(|v| v.into_owned())
        .map_err(|e| format!("{}: {}", e.codec, e.msg))
}

/// Read the value a Titan blob index points at (format-specs/blob.md §8): a 9-byte head (unmasked
/// CRC-32C, record size, compression) and the record (`varint key length, key, varint value
/// length, value`, compressed as a whole when the compression byte says so).
pub fn read_titan_value(
    file: &[u8],
    key: &[u8],
    offset: u64,
    size: u64,
) -> Result<Vec<u8>, String> {
    if file.len() < 8 || fixed32(file) != TITAN_MAGIC {
        return Err("not a Titan blob file (bad magic)".into());
    }
    let (offset, size) = (offset as usize, size as usize);
    let end = offset
        .checked_add(size)
        .filter(|&e| e <= file.len() && size >= 9 && offset >= 8)
        .ok_or("Titan blob record runs outside the file")?;
    let head = &file[offset..offset + 9];
    let len = fixed32(&head[4..]) as usize;
    if len != size - 9 {
        return Err(format!(
            "Titan blob record at byte {offset} has size {len}, the index says {}",
            size - 9
        ));
    }
    let record = &file[offset + 9..end];
    let crc = crc32c::crc32c_append(crc32c::crc32c(&head[4..9]), record);
    if crc != fixed32(head) {
        return Err(format!(
            "Titan blob record checksum mismatch at byte {offset}"
        ));
    }
    let flavor = Flavor::RocksDb {
        size_prefixed: true,
    };
    let plain = compress::decompress(
        Compression::from_byte(head[8], flavor),
        record,
        flavor,
        &[],
        MAX_BLOCK_SIZE,
    )
    .map_err(|e| format!("{}: {}", e.codec, e.msg))?;
    let mut p: &[u8] = &plain;
    let mut field = || -> Option<&[u8]> {
        let (n, k) = varint::decode_u64(p)?;
        let n = n as usize;
        let f = p.get(k..k.checked_add(n)?)?;
        p = &p[k + n..];
        Some(f)
    };
    let (Some(k), Some(v)) = (field(), field()) else {
        return Err(format!(
            "Titan blob record at byte {offset} does not decode"
        ));
    };
    if k != key {
        return Err(format!(
            "Titan blob record at byte {offset} holds another key"
        ));
    }
    Ok(v.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_forms() {
        assert_eq!(
            decode_index(&[1, 27, 70, 87, 0]),
            Some(BlobIndex::Blob {
                expiration: None,
                file_number: 27,
                offset: 70,
                size: 87,
                compression: 0
            })
        );
        assert_eq!(
            decode_index(&[0, 5, b'v']),
            Some(BlobIndex::Inlined {
                expiration: 5,
                value: b"v"
            })
        );
        assert_eq!(
            decode_index(&[1, 27, 70, 87]),
            Some(BlobIndex::Titan {
                file_number: 27,
                offset: 70,
                size: 87
            })
        );
        assert_eq!(decode_index(&[1, 27, 70, 87, 0, 0]), None);
        assert_eq!(decode_index(&[9]), None);
    }

    /// A Titan blob file built by hand from the layout (no Titan writer is available here).
    #[test]
    fn titan_record_reads_and_checks() {
        let mut f = Vec::new();
        f.extend_from_slice(&TITAN_MAGIC.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        let mut rec = Vec::new();
        varint::encode_u64(3, &mut rec);
        rec.extend_from_slice(b"key");
        varint::encode_u64(5, &mut rec);
        rec.extend_from_slice(b"value");
        let mut head = Vec::new();
        head.extend_from_slice(&(rec.len() as u32).to_le_bytes());
        head.push(0);
        let crc = crc32c::crc32c_append(crc32c::crc32c(&head), &rec);
        let offset = f.len() as u64;
        f.extend_from_slice(&crc.to_le_bytes());
        f.extend_from_slice(&head);
        f.extend_from_slice(&rec);
        let size = 9 + rec.len() as u64;
        assert_eq!(
            read_titan_value(&f, b"key", offset, size).unwrap(),
            b"value"
        );
        assert!(read_titan_value(&f, b"other", offset, size).is_err());
        let mut bad = f.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert!(read_titan_value(&bad, b"key", offset, size)
            .unwrap_err()
            .contains("checksum"));
    }
}
