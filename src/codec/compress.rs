//! Block decompression for every codec RocksDB and LevelDB write. See format-specs/compression.md §1-§5 (type bytes, payload per codec, dictionaries) and §7 (LevelDB ids).
//!
//! Memory is bounded: no codec allocates more than the caller's `limit`, whatever a size field or a
//! hostile stream claims, and output buffers grow with the data actually produced.

use std::borrow::Cow;
use std::io::Read;

use serde::Serialize;

use super::varint;

/// The largest uncompressed block we are willing to materialise (RocksDB's block size field is 32-bit).
pub const MAX_BLOCK_SIZE: usize = 1 << 30;

/// A compression type byte, as found in a block trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Snappy,
    Zlib,
    Bzip2,
    Lz4,
    Lz4hc,
    Xpress,
    Zstd,
    /// 0x40, the pre-1.0 zstd id; its payload is a normal zstd frame.
    ZstdNotFinal,
    /// LevelDB (>= 1.23) uses byte 2 for zstd without a size prefix.
    LevelDbZstd,
    /// 0x80..=0xFE: a custom CompressionManager's type (format_version 7).
    Custom(u8),
    /// Any other byte.
    Unknown(u8),
}

/// Which writer family produced the table: decides how a type byte and its payload are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// RocksDB; `size_prefixed` is true from format_version 2 on (compress_format_version 2).
    RocksDb { size_prefixed: bool },
    /// LevelDB: 1 = snappy, 2 = zstd, no size prefixes.
    LevelDb,
}

impl Compression {
    pub fn from_byte(b: u8, flavor: Flavor) -> Compression {
        if flavor == Flavor::LevelDb {
            return match b {
                0 => Compression::None,
                1 => Compression::Snappy,
                2 => Compression::LevelDbZstd,
                x => Compression::Unknown(x),
            };
        }
        match b {
            0 => Compression::None,
            1 => Compression::Snappy,
            2 => Compression::Zlib,
            3 => Compression::Bzip2,
            4 => Compression::Lz4,
            5 => Compression::Lz4hc,
            6 => Compression::Xpress,
            7 => Compression::Zstd,
            0x40 => Compression::ZstdNotFinal,
            x @ 0x80..=0xfe => Compression::Custom(x),
            x => Compression::Unknown(x),
        }
    }

    pub fn name(self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Compression::None => "none",
            Compression::Snappy => "snappy",
            Compression::Zlib => "zlib",
            Compression::Bzip2 => "bzip2",
            Compression::Lz4 => "lz4",
            Compression::Lz4hc => "lz4hc",
            Compression::Xpress => "xpress",
            Compression::Zstd => "zstd",
            Compression::ZstdNotFinal => "zstd-not-final",
            Compression::LevelDbZstd => "zstd",
            Compression::Custom(b) => return Cow::Owned(format!("custom-0x{b:02x}")),
            Compression::Unknown(b) => return Cow::Owned(format!("unknown-0x{b:02x}")),
        })
    }
}

/// Why a payload could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecompressError {
    pub codec: String,
    pub msg: String,
    /// True when the codec is recognised but not implemented (xpress, custom): not damage.
    pub unsupported: bool,
}

fn err(c: Compression, msg: impl Into<String>) -> DecompressError {
    DecompressError {
        codec: c.name().into_owned(),
        msg: msg.into(),
        unsupported: false,
    }
}

/// Split RocksDB's varint32 uncompressed-size prefix off a payload, bounded by `limit`.
fn size_prefix(
    c: Compression,
    data: &[u8],
    limit: usize,
) -> Result<(usize, &[u8]), DecompressError> {
    let (size, n) =
        varint::decode_u32(data).ok_or_else(|| err(c, "bad uncompressed-size prefix"))?;
    let size = size as usize;
    if size > limit {
        return Err(err(
            c,
            format!("declared uncompressed size {size} exceeds the limit of {limit} bytes"),
        ));
    }
    Ok((size, &data[n..]))
}

/// Read a decoder to its end, at most `limit` bytes; `expect` is the exact size if one was declared.
fn read_bounded(
    c: Compression,
    mut r: impl Read,
    initial: usize,
    limit: usize,
    expect: Option<usize>,
) -> Result<Vec<u8>, DecompressError> {
    let mut out = Vec::with_capacity(initial.min(limit).min(4 << 20));
    let read = (&mut r)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| err(c, e.to_string()))?;
    if read > limit {
        return Err(err(c, format!("output exceeds the limit of {limit} bytes")));
    }
    if let Some(e) = expect {
        if out.len() != e {
            return Err(err(
                c,
                format!("produced {} bytes but the size prefix says {e}", out.len()),
            ));
        }
    }
    Ok(out)
}

/// Decompress one block payload. `dict` is the compression dictionary (empty if none; RocksDB uses
/// one only for data blocks). `limit` caps the output size.
pub fn decompress<'a>(
    c: Compression,
    data: &'a [u8],
    flavor: Flavor,
    dict: &[u8],
    limit: usize,
) -> Result<Cow<'a, [u8]>, DecompressError> {
    let prefixed = matches!(
        flavor,
        Flavor::RocksDb {
            size_prefixed: true
        }
    );
    let out = match c {
        Compression::None => return Ok(Cow::Borrowed(data)),
        Compression::Snappy => {
            let n = snap::raw::decompress_len(data).map_err(|e| err(c, e.to_string()))?;
            if n > limit {
                return Err(err(c, format!("declared size {n} exceeds the limit")));
            }
            let mut out = vec![0u8; n];
            let got = snap::raw::Decoder::new()
                .decompress(data, &mut out)
                .map_err(|e| err(c, e.to_string()))?;
            out.truncate(got);
            out
        }
        Compression::Zlib => {
            let (expect, payload) = if prefixed {
                let (n, p) = size_prefix(c, data, limit)?;
                (Some(n), p)
            } else {
                (None, data)
            };
            if dict.is_empty() {
                let dec = flate2::read::DeflateDecoder::new(payload);
                read_bounded(c, dec, expect.unwrap_or(data.len() * 4), limit, expect)?
            } else {
                inflate_with_dict(c, payload, dict, limit, expect)?
            }
        }
        Compression::Bzip2 => {
            let (expect, payload) = if prefixed {
                let (n, p) = size_prefix(c, data, limit)?;
                (Some(n), p)
            } else {
                (None, data)
            };
            let dec = bzip2::read::BzDecoder::new(payload);
            read_bounded(c, dec, expect.unwrap_or(data.len() * 4), limit, expect)?
        }
        Compression::Lz4 | Compression::Lz4hc => {
            let (size, payload) = if prefixed {
                size_prefix(c, data, limit)?
            } else {
                // Before format_version 2: an 8-byte header whose first 4 bytes hold the size (LE).
                if data.len() < 8 {
                    return Err(err(c, "payload shorter than the 8-byte legacy LZ4 header"));
                }
                let n = varint::fixed32(data) as usize;
                if n > limit {
                    return Err(err(c, format!("declared size {n} exceeds the limit")));
                }
                (n, &data[8..])
            };
            // LZ4 cannot expand more than 255x; refuse claims beyond that before allocating.
            if size > payload.len().saturating_mul(255).saturating_add(16) {
                return Err(err(
                    c,
                    format!(
                        "declared size {size} is impossible for {} input bytes",
                        payload.len()
                    ),
                ));
            }
            let mut out = vec![0u8; size];
            let got = if dict.is_empty() {
                lz4_flex::block::decompress_into(payload, &mut out)
            } else {
                lz4_flex::block::decompress_into_with_dict(payload, &mut out, dict)
            }
            .map_err(|e| err(c, e.to_string()))?;
            if got != size {
                return Err(err(
                    c,
                    format!("produced {got} bytes but the size prefix says {size}"),
                ));
            }
            out
        }
        Compression::Zstd | Compression::ZstdNotFinal => {
            let (size, payload) = size_prefix(c, data, limit)?;
            zstd_decode(c, payload, dict, limit, Some(size))?
        }
        Compression::LevelDbZstd => zstd_decode(c, data, dict, limit, None)?,
        Compression::Xpress | Compression::Custom(_) | Compression::Unknown(_) => {
            return Err(DecompressError {
                codec: c.name().into_owned(),
                msg: "this compression type cannot be decoded by rockrescue".into(),
                unsupported: !matches!(c, Compression::Unknown(_)),
            })
        }
    };
    Ok(Cow::Owned(out))
}

thread_local! {
    /// One zstd decompression context per thread, reused for every block: creating a context per
    /// block costs more than decompressing a 4 KiB block.
    static ZSTD_DCTX: std::cell::RefCell<zstd::zstd_safe::DCtx<'static>> =
        std::cell::RefCell::new(zstd::zstd_safe::DCtx::create());
}

fn zstd_decode(
    c: Compression,
    payload: &[u8],
    dict: &[u8],
    limit: usize,
    expect: Option<usize>,
) -> Result<Vec<u8>, DecompressError> {
    // The frame header normally records the content size; it must agree with RocksDB's prefix.
    let framed = match zstd::zstd_safe::get_frame_content_size(payload) {
        Ok(n) => n,
        Err(_) => return Err(err(c, "not a zstd frame")),
    };
    let size = match (expect, framed) {
        (Some(e), Some(f)) if e as u64 != f => {
            return Err(err(
                c,
                format!("size prefix says {e} bytes but the zstd frame says {f}"),
            ))
        }
        (_, Some(f)) if f > limit as u64 => {
            return Err(err(c, format!("frame content size {f} exceeds the limit")))
        }
        (_, Some(f)) => f as usize,
        // No size in the frame: stream with a bounded output instead of trusting a claim.
        (_, None) => {
            let dec = if dict.is_empty() {
                zstd::stream::read::Decoder::with_buffer(payload)
            } else {
                zstd::stream::read::Decoder::with_dictionary(payload, dict)
            }
            .map_err(|e| err(c, e.to_string()))?;
            return read_bounded(c, dec, expect.unwrap_or(payload.len() * 4), limit, expect);
        }
    };
    let mut out = Vec::with_capacity(size);
    let r = ZSTD_DCTX.with(|d| {
        let mut d = d.borrow_mut();
        if dict.is_empty() {
            d.decompress(&mut out, payload)
        } else {
            d.decompress_using_dict(&mut out, payload, dict)
        }
    });
    match r {
        Ok(n) if n == size => Ok(out),
        Ok(n) => Err(err(
            c,
            format!("produced {n} bytes but the frame says {size}"),
        )),
        Err(code) => Err(err(c, zstd::zstd_safe::get_error_name(code).to_string())),
    }
}

fn inflate_with_dict(
    c: Compression,
    payload: &[u8],
    dict: &[u8],
    limit: usize,
    expect: Option<usize>,
) -> Result<Vec<u8>, DecompressError> {
    let mut d = flate2::Decompress::new(false);
    d.set_dictionary(dict).map_err(|e| err(c, e.to_string()))?;
    let mut out = Vec::with_capacity(expect.unwrap_or(payload.len() * 4).min(limit));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return Err(err(c, "output exceeds the limit"));
            }
            out.reserve((out.len().max(4096)).min(limit - out.len()));
        }
        let before_in = d.total_in();
        let before_out = d.total_out();
        let st = d
            .decompress_vec(
                &payload[d.total_in() as usize..],
                &mut out,
                flate2::FlushDecompress::Finish,
            )
            .map_err(|e| err(c, e.to_string()))?;
        if st == flate2::Status::StreamEnd {
            break;
        }
        if d.total_in() == before_in && d.total_out() == before_out && out.len() < out.capacity() {
            return Err(err(c, "deflate stream ends early"));
        }
    }
    if let Some(e) = expect {
        if out.len() != e {
            return Err(err(
                c,
                format!("produced {} bytes but the size prefix says {e}", out.len()),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RDB2: Flavor = Flavor::RocksDb {
        size_prefixed: true,
    };

    #[test]
    fn roundtrips_through_each_codec() {
        let text: Vec<u8> = b"rockrescue ".iter().cycle().take(5000).copied().collect();
        let mut prefixed = Vec::new();
        varint::encode_u64(text.len() as u64, &mut prefixed);

        let snappy = snap::raw::Encoder::new().compress_vec(&text).unwrap();
        assert_eq!(
            decompress(Compression::Snappy, &snappy, RDB2, &[], MAX_BLOCK_SIZE).unwrap(),
            &text[..]
        );

        let mut lz4 = prefixed.clone();
        lz4.extend(lz4_flex::block::compress(&text));
        assert_eq!(
            decompress(Compression::Lz4, &lz4, RDB2, &[], MAX_BLOCK_SIZE).unwrap(),
            &text[..]
        );

        let mut zs = prefixed.clone();
        zs.extend(zstd::bulk::compress(&text, 3).unwrap());
        assert_eq!(
            decompress(Compression::Zstd, &zs, RDB2, &[], MAX_BLOCK_SIZE).unwrap(),
            &text[..]
        );

        let mut z = prefixed.clone();
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, &text).unwrap();
        z.extend(enc.finish().unwrap());
        assert_eq!(
            decompress(Compression::Zlib, &z, RDB2, &[], MAX_BLOCK_SIZE).unwrap(),
            &text[..]
        );
        // Same stream without the prefix, as format_version 0/1 store it.
        let legacy = Flavor::RocksDb {
            size_prefixed: false,
        };
        assert_eq!(
            decompress(
                Compression::Zlib,
                &z[prefixed.len()..],
                legacy,
                &[],
                MAX_BLOCK_SIZE
            )
            .unwrap(),
            &text[..]
        );

        let mut bz = prefixed.clone();
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        std::io::Write::write_all(&mut enc, &text).unwrap();
        bz.extend(enc.finish().unwrap());
        assert_eq!(
            decompress(Compression::Bzip2, &bz, RDB2, &[], MAX_BLOCK_SIZE).unwrap(),
            &text[..]
        );
    }

    #[test]
    fn hostile_sizes_are_refused_without_allocating() {
        // varint32 claiming ~4 GiB followed by garbage.
        let data = [0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3];
        for c in [
            Compression::Lz4,
            Compression::Zstd,
            Compression::Zlib,
            Compression::Bzip2,
        ] {
            assert!(
                decompress(c, &data, RDB2, &[], MAX_BLOCK_SIZE).is_err(),
                "{c:?}"
            );
        }
        let e = decompress(Compression::Xpress, &data, RDB2, &[], MAX_BLOCK_SIZE).unwrap_err();
        assert!(e.unsupported);
        let e = decompress(Compression::Unknown(9), &data, RDB2, &[], MAX_BLOCK_SIZE).unwrap_err();
        assert!(!e.unsupported);
    }

    #[test]
    fn exact_size_is_enforced() {
        let text = vec![7u8; 1000];
        let mut zs = Vec::new();
        varint::encode_u64(999, &mut zs);
        zs.extend(zstd::bulk::compress(&text, 3).unwrap());
        assert!(decompress(Compression::Zstd, &zs, RDB2, &[], MAX_BLOCK_SIZE).is_err());
    }
}
