//! TiDB's keys inside TiKV (after the MVCC layer is removed): table records
//! (`t{table_id}_r{handle}`), index entries (`t{table_id}_i{index_id}{values}`) and meta keys
//! (`m{key}{type}[{field}]`). See format-specs/tidb.md §1 (to be written with the row formats;
//! facts from TiDB pkg/tablecodec/tablecodec.go, pkg/util/codec/number.go, pkg/structure/type.go).

use serde::Serialize;

use crate::tikv::codec::decode_bytes;

/// Comparable int64: big-endian with the sign bit flipped.
pub fn decode_cmp_i64(b: &[u8]) -> Option<i64> {
    let u = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
    Some((u ^ (1 << 63)) as i64)
}

/// Comparable uint64: big-endian.
pub fn decode_cmp_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

/// Encode a comparable int64.
pub fn encode_cmp_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

/// A row's handle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Handle {
    /// An int handle (the `_tidb_rowid` or an integer primary key).
    Int(i64),
    /// A clustered (common) handle: the primary key's memcomparable datums, hex.
    Common(String),
}

/// Meta key structure types (TiDB pkg/structure).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetaKind {
    String,
    /// A hash field.
    Hash {
        field: String,
    },
    /// Hash metadata (the field count), or other structure types.
    Other {
        type_byte: u8,
    },
}

/// A TiDB key, classified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TidbKey {
    Record {
        table_id: i64,
        handle: Handle,
    },
    Index {
        table_id: i64,
        index_id: i64,
        values: String,
    },
    Meta {
        key: String,
        meta: MetaKind,
    },
    Other,
}

/// A record's handle as its key holds it, borrowed.
#[derive(Clone, Debug, PartialEq)]
pub enum RowHandle<'a> {
    Int(i64),
    /// The clustered key's datum bytes.
    Common(&'a [u8]),
}

/// Split a record key `t{id}_r{handle}` into the physical table id and the handle, without
/// copying: 8 handle bytes are an int handle, anything else a clustered one; a bare `t{id}_r`
/// prefix is not a record.
pub fn record_key(raw: &[u8]) -> Option<(i64, RowHandle<'_>)> {
    if raw.len() < 12 || raw[0] != b't' || &raw[9..11] != b"_r" {
        return None;
    }
    let id = decode_cmp_i64(&raw[1..9])?;
    let rest = &raw[11..];
    if rest.len() == 8 {
        Some((id, RowHandle::Int(decode_cmp_i64(rest)?)))
    } else {
        Some((id, RowHandle::Common(rest)))
    }
}

/// Classify a raw TiDB key (already stripped of TiKV's `z`, memcomparable and timestamp layers).
pub fn parse(k: &[u8]) -> TidbKey {
    match k.first() {
        Some(b't') if k.len() >= 11 => {
            let Some(table_id) = decode_cmp_i64(&k[1..]) else {
                return TidbKey::Other;
            };
            match &k[9..11] {
                b"_r" => match record_key(k) {
                    Some((_, RowHandle::Int(h))) => TidbKey::Record {
                        table_id,
                        handle: Handle::Int(h),
                    },
                    Some((_, RowHandle::Common(b))) => TidbKey::Record {
                        table_id,
                        handle: Handle::Common(hex::encode(b)),
                    },
                    // A record prefix, not a record key.
                    None => TidbKey::Other,
                },
                b"_i" => match decode_cmp_i64(&k[11..]) {
                    Some(index_id) => TidbKey::Index {
                        table_id,
                        index_id,
                        values: hex::encode(&k[19..]),
                    },
                    None => TidbKey::Other,
                },
                _ => TidbKey::Other,
            }
        }
        Some(b'm') => {
            let Ok((key, n)) = decode_bytes(&k[1..]) else {
                return TidbKey::Other;
            };
            let rest = &k[1 + n..];
            let Some(t) = decode_cmp_u64(rest) else {
                return TidbKey::Other;
            };
            let meta = match t {
                0x73 => MetaKind::String,
                0x68 => match decode_bytes(&rest[8..]) {
                    Ok((field, _)) => MetaKind::Hash {
                        field: String::from_utf8_lossy(&field).into_owned(),
                    },
                    Err(_) => return TidbKey::Other,
                },
                x => MetaKind::Other { type_byte: x as u8 },
            };
            TidbKey::Meta {
                key: String::from_utf8_lossy(&key).into_owned(),
                meta,
            }
        }
        _ => TidbKey::Other,
    }
}

/// A region bound (a raw TiDB key, or a prefix of one) in words: `table 100 row 5`,
/// `table 100 index 2`, `table 100 rows start`, `table 100 start`, `meta`, or hex.
pub fn describe_bound(raw: &[u8]) -> String {
    if raw.first() == Some(&b't') && raw.len() >= 9 {
        if let Some(id) = decode_cmp_i64(&raw[1..9]) {
            return match (&raw[9..], parse(raw)) {
                ([], _) => format!("table {id} start"),
                (_, TidbKey::Record { handle, .. }) => match handle {
                    Handle::Int(h) => format!("table {id} row {h}"),
                    Handle::Common(c) => format!("table {id} row 0x{c}"),
                },
                (_, TidbKey::Index { index_id, .. }) => format!("table {id} index {index_id}"),
                (b"_r", _) => format!("table {id} rows start"),
                (b"_i", _) => format!("table {id} indexes start"),
                _ => format!("table {id} + {}", hex::encode(&raw[9..])),
            };
        }
    }
    match raw.first() {
        None => "start of the key space".into(),
        Some(b'm') => format!("meta {}", hex::encode(raw)),
        _ => hex::encode(raw),
    }
}

/// The physical table ids a raw key range `[from, to)` may hold keys of (`None` = open end):
/// `None` when it lies wholly outside the table key space.
pub fn table_id_span(from: Option<&[u8]>, to: Option<&[u8]>) -> Option<(i64, i64)> {
    let id = |r: &[u8]| match r.first() {
        Some(b't') => decode_cmp_i64(r.get(1..9)?),
        _ => None,
    };
    let lo = match from {
        None => i64::MIN,
        Some(r) if r < b"t".as_slice() => i64::MIN,
        Some(r) if r.first().is_some_and(|c| *c > b't') => return None,
        Some(r) => id(r).unwrap_or(i64::MIN),
    };
    let hi = match to {
        None => i64::MAX,
        Some(r) if r <= b"t".as_slice() => return None,
        Some(r) if r.first().is_some_and(|c| *c > b't') => i64::MAX,
        // An exclusive end at a table's first key does not reach that table.
        Some(r) if r.len() == 9 => id(r)?.checked_sub(1)?,
        Some(r) => id(r).unwrap_or(i64::MAX),
    };
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_in_words_and_table_spans() {
        let t = |id: i64| {
            let mut k = vec![b't'];
            k.extend_from_slice(&encode_cmp_i64(id));
            k
        };
        let mut row = t(100);
        row.extend_from_slice(b"_r");
        assert_eq!(describe_bound(&row), "table 100 rows start");
        row.extend_from_slice(&encode_cmp_i64(5));
        assert_eq!(describe_bound(&row), "table 100 row 5");
        assert_eq!(describe_bound(&t(102)), "table 102 start");
        assert_eq!(describe_bound(b""), "start of the key space");
        assert_eq!(table_id_span(Some(&row), Some(&t(102))), Some((100, 101)));
        assert_eq!(table_id_span(Some(&row), None), Some((100, i64::MAX)));
        assert_eq!(table_id_span(Some(b"m"), Some(b"t")), None);
        assert_eq!(table_id_span(None, Some(&row)), Some((i64::MIN, 100)));
    }

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// Vectors worked out from TiDB tablecodec / structure (shared notes §5 rows 13-21).
    #[test]
    fn tidb_keys() {
        assert_eq!(
            parse(&h("74 8000000000000001 5f72 8000000000000002")),
            TidbKey::Record {
                table_id: 1,
                handle: Handle::Int(2)
            }
        );
        assert_eq!(
            parse(&h("7480000000000000645f727fffffffffffffff")),
            TidbKey::Record {
                table_id: 100,
                handle: Handle::Int(-1)
            }
        );
        assert_eq!(
            parse(&h(
                "74800000000000000a5f72016162630000000000fa038000000000000007"
            )),
            TidbKey::Record {
                table_id: 10,
                handle: Handle::Common("016162630000000000fa038000000000000007".into())
            }
        );
        match parse(&h(
            "7480000000000000045f698000000000000005038000000000000001",
        )) {
            TidbKey::Index {
                table_id: 4,
                index_id: 5,
                values,
            } => assert_eq!(values, "038000000000000001"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse(&h("6d44423a3100000000fb00000000000000685461626c653a3500fe")),
            TidbKey::Meta {
                key: "DB:1".into(),
                meta: MetaKind::Hash {
                    field: "Table:5".into()
                }
            }
        );
        assert_eq!(
            parse(&h(
                "6d536368656d615665ff7273696f6e4b6579ff0000000000000000f70000000000000073"
            )),
            TidbKey::Meta {
                key: "SchemaVersionKey".into(),
                meta: MetaKind::String
            }
        );
        assert_eq!(parse(b"t\x80"), TidbKey::Other);
        assert_eq!(parse(&h("7480000000000000645f72")), TidbKey::Other);
        assert_eq!(
            encode_cmp_i64(-1),
            [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
    }
}
